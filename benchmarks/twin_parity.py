"""The Python twin's parity with the Rust campaign-status: the same task
inputs, one for each kind of decision, through both, and the same reports
back (but for the moment each was made), or the check fails. The test command
runs it against the debug build (tests/workflow/test_twin_parity.py); the
benchmarks against the build they measure, before comparing the two."""
import json
import time

from workflow.harness.events import sample
from workflow.harness.names import ROOT
from workflow.harness.runtime_api import RuntimeApi
from workflow.harness.sample import SV2

# The twin's code (benchmarks/python/campaign_status.py), its Lambda task root.
TWIN = ROOT / "benchmarks" / "python"
# The campaign seeded as still being created: the deployments in progress.
CREATING = "movie-new"
_CONFIG = {"itemExplorationConfig": {"explorationItemAgeCutOff": "30", "explorationWeight": "0.3"}}
# What personalize-local is seeded with: the sample status input's campaign,
# serving its target (the final poll), and CREATING, still being created
# (for a day, at the emulator's real-time durations).
PARITY_CAMPAIGNS = (
    {"name": "movie-recs", "solutionVersionArn": SV2, "minProvisionedTPS": 2, "campaignConfig": _CONFIG},
    {"name": CREATING, "solutionVersionArn": SV2, "minProvisionedTPS": 2, "campaignConfig": _CONFIG,
     "status": "CREATE IN_PROGRESS"},
)
# A schedule other than the default, so that the twin is seen to read it:
# waits of 15 s, times 1.5.
# A first wait above the schedule's floor (26 s with the default deadline),
# so that the backoff alone decides it.
PARITY_POLICY = {"POLL_INITIAL_SECONDS": "35", "POLL_BACKOFF_RATE": "1.5"}


def comparable(report):
    """A report without what depends on the moment it was made."""
    report = json.loads(json.dumps(report))
    notification = report.get("notification")
    if notification:
        notification["detail"].pop("endedAt", None)
        notification["detail"].pop("durationSeconds", None)
        notification["message"] = "\n".join(
            line for line in notification["message"].splitlines() if not line.startswith("Ended:"))
    return report


def parity_events():
    """Task inputs covering each decision: (name, JSON bytes)."""
    now = time.time()

    def at(seconds_ago):
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - seconds_ago))

    def creation(target, started_ago, attempt):
        """The creation of the campaign that is still being created, started
        `started_ago` seconds ago."""
        event = sample("campaign-status-input.json")
        state = event["state"]
        state["request"].update(campaignName=CREATING, solutionVersionArn=target)
        state["deployment"].update(operation="CREATE", startedAt=at(started_ago), changes=[])
        state["deployment"].pop("previousSolutionVersionArn", None)
        state["status"]["attempt"] = attempt
        return event

    return [
        ("active (final poll, notification)", sample("campaign-status-input.json")),
        ("in progress (backoff 35 s x1.5: 52.5 s rounds to 53)", creation(SV2, 60, 1)),
        (CAPPED, creation(SV2, 10_800 - 40, 5)),
        ("timed out", creation(SV2, 4 * 3600, 7)),
        ("caught task error", sample("campaign-status-error-input.json")),
        ("rejected request", sample("campaign-status-rejected-input.json")),
    ]


CAPPED = "in progress, capped by the deadline"


def alike(name, first, other):
    """Whether two answers are the same. A wait capped by the deadline counts
    down with the clock, and the two processes answer at different moments:
    there it may differ by the second that passed in between."""
    if first == other:
        return True
    (kind, a), (other_kind, b) = first, other
    if name != CAPPED:
        return False
    if kind != other_kind or a.get("outcome") != "IN_PROGRESS":
        return False
    wait, other_wait = a.get("waitSeconds", 0), b.get("waitSeconds", 0)
    return abs(wait - other_wait) <= 1 and dict(a, waitSeconds=0) == dict(b, waitSeconds=0)


def parity(rust_binary, python, env, log):
    """Runs every parity event through the Rust campaign-status and the
    Python twin (one process each, under `env` and PARITY_POLICY, against a
    personalize-local seeded with PARITY_CAMPAIGNS) and raises unless both
    answer alike; the names of the events checked."""
    commands = {
        "Rust": ([str(rust_binary)], None, {}),
        "Python": ([str(python), "-m", "awslambdaric", "campaign_status.handler"], TWIN,
                   {"LAMBDA_TASK_ROOT": str(TWIN)}),
    }
    answers = {}
    events = parity_events()
    for label, (command, cwd, extra) in commands.items():
        runtime = RuntimeApi("campaign-status", timeout=60)
        try:
            runtime.spawn(command, dict(env, **PARITY_POLICY, **extra), cwd=cwd, log=log)
            if not runtime.first_next.wait(60):
                raise RuntimeError(f"{label}: no /next")
            for name, event in events:
                kind, body, _ = runtime.invoke_timed(json.dumps(event).encode())
                answers.setdefault(name, {})[label] = (kind, comparable(body))
        finally:
            runtime.stop()
    for name, by_label in answers.items():
        (first_label, first), *others = by_label.items()
        for label, answer in others:
            if not alike(name, first, answer):
                raise RuntimeError(f"parity: {name}: {label} answers differently from {first_label}:\n"
                                   f"{json.dumps(first, indent=1)}\n{json.dumps(answer, indent=1)}")
    return list(answers)
