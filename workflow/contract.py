"""The contract: the facts of the Rust side (error types and their retry, the
poll schedules and budgets, the outcomes with their statuses, detail-types and
end states, the members always present in the state, the notification's
detail keys, the metrics), as src/contract.rs writes them to contract.json.
The Python side reads them from here, never from the Rust source."""
import json
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "contract.json"
CONTRACT = json.loads(PATH.read_text())

ERRORS = {e["errorType"]: e["retry"] for e in CONTRACT["errors"]}
SCHEDULE = CONTRACT["schedule"]
OUTCOMES = {o["outcome"]: o for o in CONTRACT["outcomes"]["list"]}
