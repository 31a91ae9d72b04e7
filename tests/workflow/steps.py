"""What the end-to-end scenarios share: the state names of a path, the
sample request and campaign, and the steps that feed the pipeline and read
its one notification."""
import json

from workflow.harness.events import sample

POLL_LOOP = ["PollCampaign", "CheckCampaign", "WaitForCampaign"]
TRAINING_LOOP = ["CheckTraining", "CheckTrained", "WaitForTraining"]
# A version already trained: one check.
TRAINED = ["CheckTraining", "CheckTrained"]
NOTIFY = ["NotifyTopic", "PublishEvent", "Finish"]


def requested():
    """The sample "Campaign Deployment Requested" event: movie-recs on SV2."""
    return sample("deployment-requested.json")


def serving(version, status="ACTIVE"):
    """movie-recs as the sample request wants it, but on `version`."""
    detail = requested()["detail"]
    return {
        "name": "movie-recs", "solutionVersionArn": version, "status": status,
        "minProvisionedTPS": detail["minProvisionedTPS"], "campaignConfig": detail["campaignConfig"],
    }


def trigger(wf, event):
    """deploy-trigger's report of an event it handled without error."""
    error, report = wf.trigger(event)
    assert error is None, report
    return report


def run(wf, event):
    """Triggers one execution and waits for its end: (execution, path)."""
    trigger(wf, event)
    [execution] = wf.wait_for_executions(1)
    return execution, wf.path(execution["executionArn"])


def one_notification(wf):
    """The one notification sent: (subject, message, EventBridge event)."""
    sns, events = wf.notifications()
    assert len(sns) == 1, sns
    assert len(events) == 1, events
    return sns[0][0], sns[0][1], events[0]


def outputs(wf, execution, state):
    """The outputs of every exit from `state`, in order."""
    return [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in wf.history(execution["executionArn"])
        if e.get("stateExitedEventDetails", {}).get("name") == state
    ]


def task_seconds(wf, execution, state):
    """How long each run of a task state took, in order (entered to exited)."""
    entered, spans = None, []
    for e in wf.history(execution["executionArn"]):
        if e.get("stateEnteredEventDetails", {}).get("name") == state:
            entered = e["timestamp"]
        elif e.get("stateExitedEventDetails", {}).get("name") == state:
            spans.append((e["timestamp"] - entered).total_seconds())
    return spans
