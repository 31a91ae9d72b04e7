"""The Python twin of campaign-status (the benchmarks' point of comparison)
answers the six kinds of decision exactly as the Rust handler does: a drift
in either fails here, not at the next benchmark run."""
import sys

from benchmarks.twin_parity import PARITY_CAMPAIGNS, parity, parity_events
from workflow.harness.names import binary
from workflow.harness.sample import seed
from workflow.harness.services import PersonalizeLocal, lambda_env


def test_the_python_twin_decides_and_notifies_as_campaign_status_does(tmp_path):
    personalize = PersonalizeLocal().start()
    try:
        personalize.admin("/seed", seed(*PARITY_CAMPAIGNS))
        # campaign-status reads only Personalize: the other endpoints lead nowhere.
        env = lambda_env(personalize.url, "http://127.0.0.1:9",
                         "arn:aws:states:us-east-1:123456789012:stateMachine:none",
                         "campaign-status", str(tmp_path))
        with open(tmp_path / "lambda.log", "wb") as log:
            checked = parity(binary("campaign-status"), sys.executable, env, log)
    finally:
        personalize.stop()
    assert checked == [name for name, _ in parity_events()]
