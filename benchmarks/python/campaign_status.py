"""campaign-status in Python 3 with boto3: the benchmark's point of comparison.

The same describe-and-decide logic as the Rust handler (src/domain/status.rs):
one DescribeCampaign, the update record read before the top-level status,
stale failures ignored, the request compared with what the campaign serves,
a backoff wait capped by the deadline, and a notification (subject, text
message, EventBridge detail) once the outcome is final. The client is built
once, at import time, as a Python Lambda should. Run it under the Lambda
runtime interface client:

    python -m awslambdaric campaign_status.handler

The test command and the benchmark check that it answers exactly as the Rust
handler does for the same events (benchmarks/twin_parity.py), so that the two
do the same work. The facts of the Rust side it needs (the default schedule,
the outcomes' statuses and detail-types, the notification's source and schema)
come from the contract the Rust side writes, contract.json.
"""
import json
import math
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3

personalize = boto3.client("personalize")

CONTRACT = json.loads((Path(__file__).resolve().parents[2] / "contract.json").read_text())
_POLICY = CONTRACT["schedule"]["campaign"]
INITIAL = int(os.environ.get("POLL_INITIAL_SECONDS", _POLICY["initialSeconds"]))
MAXIMUM = max(INITIAL, int(os.environ.get("POLL_MAX_SECONDS", _POLICY["maxSeconds"])))
RATE = float(os.environ.get("POLL_BACKOFF_RATE", _POLICY["backoffRate"]))
DEADLINE = int(os.environ.get("DEPLOYMENT_DEADLINE_SECONDS", _POLICY["deadlineSeconds"]))
CLOCK_SKEW = timedelta(seconds=CONTRACT["schedule"]["clockSkewSeconds"])
CREATING = ("CREATE PENDING", "CREATE IN_PROGRESS")
DELETING = ("DELETE PENDING", "DELETE IN_PROGRESS")
_OUTCOMES = {o["outcome"]: o for o in CONTRACT["outcomes"]["list"]}
NOTIFICATION = CONTRACT["notification"]


class InvalidTaskInput(Exception):
    pass


def parse_time(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(t):
    """Whole seconds, as in the message."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_auto(t):
    """As chrono serializes a time: the sub-second digits only when not zero,
    in groups of three."""
    t = t.astimezone(timezone.utc)
    if t.microsecond == 0:
        return iso(t)
    fraction = f"{t.microsecond:06d}"
    if t.microsecond % 1000 == 0:
        fraction = fraction[:3]
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + fraction + "Z"


def backoff(attempt):
    wait = INITIAL * RATE ** max(attempt - 1, 0)
    # Halves round away from zero, as Rust's f64::round does.
    return MAXIMUM if wait >= MAXIMUM else max(1, math.floor(wait + 0.5))


def origin_text(origin):
    if origin.get("type") == "s3":
        text = f"s3://{origin['bucket']}/{origin['key']}"
        if origin.get("versionId"):
            text += f" (version {origin['versionId']})"
        return f"{text} via {origin['via']}"
    return f"EventBridge event {origin['eventId']} from {origin['source']}"


def task_failure_reason(error):
    """The error name and, when the cause is a Lambda error document, its errorMessage."""
    cause = error.get("Cause")
    message = cause
    if cause is not None:
        try:
            document = json.loads(cause)
            if isinstance(document, dict) and isinstance(document.get("errorMessage"), str):
                message = document["errorMessage"]
        except ValueError:
            pass
    return f"{error['Error']}: {message}" if message else error["Error"]


def human_duration(seconds):
    total = math.floor(seconds + 0.5)
    h, m, s = total // 3600, (total % 3600) // 60, total % 60
    return f"{h}h {m}m {s}s" if h else f"{m}m {s}s" if m else f"{s}s"


def serves_version(request, serving):
    wanted = request["solutionVersionArn"]
    if serving is None:
        return False
    if serving == wanted:
        return True
    if wanted.endswith("/$LATEST"):
        return serving.rsplit("/", 1)[0] == wanted.rsplit("/", 1)[0]
    return False


def differences(request, record):
    out = []
    serving = record.get("solutionVersionArn")
    if not serves_version(request, serving):
        out.append(f"solutionVersionArn {serving or '(none)'} -> {request['solutionVersionArn']}")
    want_tps = request.get("minProvisionedTPS")
    if want_tps is not None and record.get("minProvisionedTPS", 1) != want_tps:
        out.append(f"minProvisionedTPS {record.get('minProvisionedTPS', 1)} -> {want_tps}")
    desired = request.get("campaignConfig")
    if desired:
        current = record.get("campaignConfig") or {}
        defaults = {"itemExplorationConfig": {}, "enableMetadataWithRecommendations": False,
                    "syncWithLatestSolutionVersion": False, "rankingInfluence": {}}
        for key, default in defaults.items():
            if key in desired and current.get(key, default) != desired[key]:
                out.append(f"{key} {current.get(key, default)} -> {desired[key]}")
    return out


def observe(request, deployment, campaign):
    """('IN_PROGRESS' | 'ACTIVE' | 'FAILED' | 'DELETED', reason)"""
    if campaign is None:
        return "DELETED", "the campaign no longer exists"
    status = campaign["status"]
    if status in DELETING:
        return "DELETED", f"the campaign is being deleted (status {status})"
    since = parse_time(deployment["startedAt"]) - CLOCK_SKEW

    def current(at):
        return at is None or at >= since

    update = campaign.get("latestCampaignUpdate")
    if update:
        if update["status"] in CREATING:
            return "IN_PROGRESS", f"campaign update status is {update['status']}"
        if update["status"] == "CREATE FAILED" and current(update.get("creationDateTime")):
            reason = update.get("failureReason") or "campaign update failed (no reason given)"
            if status == "ACTIVE" and campaign.get("solutionVersionArn"):
                reason = f"{reason}; the campaign is still ACTIVE on {campaign['solutionVersionArn']}"
            return "FAILED", reason
    if status == "CREATE FAILED":
        if current(campaign.get("lastUpdatedDateTime")):
            return "FAILED", campaign.get("failureReason") or "campaign creation failed (no reason given)"
        return "IN_PROGRESS", ("the campaign is still CREATE FAILED from an earlier attempt; "
                               "this deployment has not shown up yet")
    if status != "ACTIVE":
        return "IN_PROGRESS", f"campaign status is {status}"
    diff = differences(request, campaign)
    if diff:
        return "IN_PROGRESS", f"the campaign is ACTIVE but does not serve the request yet ({', '.join(diff)})"
    return "ACTIVE", None


def campaign_arn(request):
    """The campaign's ARN: its name in the solution version's partition,
    region and account."""
    _, partition, _, region, account, _ = request["solutionVersionArn"].split(":", 5)
    return f"arn:{partition}:personalize:{region}:{account}:campaign/{request['campaignName']}"


def describe(arn):
    try:
        return personalize.describe_campaign(campaignArn=arn)["campaign"]
    except personalize.exceptions.ResourceNotFoundException:
        return None


def headline(outcome, operation):
    op = f" ({operation})" if operation and operation != "NONE" else ""
    return {
        "ACTIVE": f"deployment succeeded{op}", "FAILED": f"deployment FAILED{op}",
        "IN_PROGRESS": f"deployment FAILED{op}", "DELETED": f"deployment FAILED{op}, campaign deleted",
        "TIMED_OUT": f"deployment TIMED OUT{op}", "UNCHANGED": "already up to date, nothing deployed",
        "REJECTED": "deployment request REJECTED",
    }[outcome]


def rust_number(x):
    """A float as Rust's Display writes it (1.0 as 1)."""
    return str(int(x)) if x == int(x) else repr(x)


def gate_summary(gate):
    verdict = "passed" if gate.get("reason") is None else f"FAILED, {gate['reason']}"
    candidate, current = gate.get("candidate"), gate.get("current")
    if candidate is None:
        return f"{gate['metric']}: {verdict}"
    if current is not None:
        return f"{gate['metric']} new {rust_number(candidate)} (served {rust_number(current)}): {verdict}"
    if gate.get("passed"):
        return f"{gate['metric']} new {rust_number(candidate)} (nothing served yet): {verdict}"
    return f"{gate['metric']} new {rust_number(candidate)}: {verdict}"


def training_text(training):
    hours = training.get("trainingHours")
    return (training.get("status") or "(no such version)") + (
        f", {hours:.2f} training hours" if hours is not None else "")


def notification(task, outcome, reason, now):
    state = task["state"]
    deployment = state.get("deployment") or {}
    request = state.get("request")
    # An accepted request's campaign, or a rejected one's.
    name = request["campaignName"] if request else state.get("campaignName")
    operation = deployment.get("operation")
    started = parse_time(task.get("executionStartTime") or deployment.get("startedAt"))
    # Whole milliseconds, as the Rust handler counts them.
    duration = max((now - started) // timedelta(milliseconds=1), 0) / 1000 if started else None
    status = _OUTCOMES[outcome]["status"]
    head = headline(outcome, operation)
    subject = f"Personalize campaign {name}: {head}" if name else f"Personalize {head}"
    subject = "".join(c if " " <= c <= "~" else "?" for c in subject)
    limit = NOTIFICATION["subjectMax"]
    if len(subject) > limit:
        subject = subject[:limit - 3] + "..."
    notification_id = f"{task.get('executionArn') or '(no execution)'}#{status}"
    detail = {
        "schemaVersion": NOTIFICATION["schemaVersion"], "notificationId": notification_id, "status": status,
        "outcome": outcome, "campaignName": name,
        "campaignArn": request and campaign_arn(request), "operation": operation,
        "targetSolutionVersionArn": request and request["solutionVersionArn"],
        "previousSolutionVersionArn": deployment.get("previousSolutionVersionArn"), "failureReason": reason,
        "supersededBy": None, "errors": state.get("errors", []), "startedAt": started and iso_auto(started), "endedAt": iso_auto(now),
        "durationSeconds": duration, "executionArn": task.get("executionArn"), "origin": state.get("origin"),
        "training": (state.get("training") or {}).get("facts"), "gate": deployment.get("gate"),
        # The twin watches nothing.
        "watch": None, "rollback": None,
    }
    lines = [f"Personalize campaign {name or '(unknown)'}: {head}.", ""]
    for label, value in (("Status:", status), ("Campaign ARN:", detail["campaignArn"]),
                         ("Operation:", operation), ("Solution version:", detail["targetSolutionVersionArn"]),
                         ("Previous version:", detail["previousSolutionVersionArn"]), ("Reason:", reason),
                         ("Training:", detail["training"] and training_text(detail["training"])),
                         ("Metric gate:", detail["gate"] and gate_summary(detail["gate"])),
                         ("Started:", started and iso(started)),
                         ("Ended:", f"{iso(now)} (took {human_duration(duration)})" if started else iso(now)),
                         ("Request:", origin_text(state["origin"]) if state.get("origin") else None),
                         ("Execution:", task.get("executionArn")),
                         ("Notification id:", notification_id)):
        if value is not None:
            lines.append(f"{label:<18}{value}")
    if detail["errors"]:
        lines += ["", "The request was rejected for these reasons:"]
        lines += [f"  - {e['field']}: {e['rule']}" for e in detail["errors"]]
    return {"subject": subject, "message": "\n".join(lines) + "\n", "detailType": _OUTCOMES[outcome]["detailType"],
            "source": NOTIFICATION["source"], "detail": detail}


def report(task, outcome, attempt, campaign, reason, now):
    final = _OUTCOMES[outcome]["final"]
    out = {
        "outcome": outcome, "final": final, "succeeded": _OUTCOMES[outcome]["succeeded"],
        "waitSeconds": 0, "attempt": attempt,
        # The twin follows a create or update; waiting for a busy campaign
        # and watching are not among what it does.
        "next": "NOTIFY" if final else "POLL",
    }
    if campaign:
        out["campaignStatus"] = campaign["status"]
        if campaign.get("latestCampaignUpdate"):
            out["updateStatus"] = campaign["latestCampaignUpdate"]["status"]
    if reason:
        out["failureReason"] = reason
    if final:
        out["notification"] = notification(task, outcome, reason, now)
    return out


def handler(event, context):
    state = event.get("state")
    if not isinstance(state, dict):
        raise InvalidTaskInput("state is missing")
    attempt = ((state.get("status") or {}).get("attempt") or 0) + 1
    now = datetime.now(timezone.utc)
    if state.get("rejected"):
        return report(event, "REJECTED", attempt, None, None, now)
    if state.get("error"):
        error = state["error"]
        return report(event, "FAILED", attempt, None, task_failure_reason(error), now)
    request, deployment = state.get("request"), state.get("deployment")
    if request is None or deployment is None:
        raise InvalidTaskInput("state.request or state.deployment is missing")
    if deployment["operation"] == "NONE":
        return report(event, "UNCHANGED", attempt, None, None, now)
    campaign = describe(campaign_arn(request))
    now = datetime.now(timezone.utc)
    outcome, reason = observe(request, deployment, campaign)
    if outcome != "IN_PROGRESS":
        return report(event, outcome, attempt, campaign, reason, now)
    deadline = parse_time(deployment["startedAt"]) + timedelta(seconds=DEADLINE)
    if now >= deadline:
        reason = f"not finished {human_duration(DEADLINE)} after it started: {reason}"
        return report(event, "TIMED_OUT", attempt, campaign, reason, now)
    out = report(event, "IN_PROGRESS", attempt, campaign, None, now)
    out["waitSeconds"] = min(backoff(attempt), max(int((deadline - now).total_seconds()), 1))
    return out
