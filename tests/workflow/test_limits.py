"""End to end, the largest request this stack accepts goes through the
longest path of the state machine of template.yaml: a training wait, the
metric gate, the deployment, the watch and the rollback, without passing
Step Functions' limit on the state (256 KiB, which moto does not enforce:
every state's input and output is measured from the history instead). One
byte more than the bound is rejected, and notified."""
import json

from workflow.contract import CONTRACT
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV1, seed

from steps import requested, serving
from test_scenarios import wait_until

NDCG = "normalized_discounted_cumulative_gain_at_10"
MAX_INPUT = CONTRACT["state"]["maxInputBytes"]
MAX_REQUEST = CONTRACT["state"]["maxRequestBytes"]
# A letter of four bytes in UTF-8, which tags may hold.
WIDE = "\U00020000"


def alarm_name(i):
    """Ten alarm names of CloudWatch's longest (255 characters)."""
    return f"recs-movie-recs-{i}-".ljust(255, "x")


def largest(version, tag_value_letters, event_id):
    """A request with every member at its longest: 50 tags, 10 alarms of 255
    characters, exploration values of 1000 characters, a gate and a watch."""
    event = requested()
    event["id"] = event_id
    detail = event["detail"]
    detail["solutionVersionArn"] = version
    detail["minProvisionedTPS"] = 2
    detail["campaignConfig"] = {"itemExplorationConfig": {
        "explorationWeight": "0.3".ljust(1000, "0"), "explorationItemAgeCutOff": "30.".ljust(1000, "0")}}
    detail["tags"] = [{"tagKey": f"{i:02d}".ljust(128, WIDE), "tagValue": WIDE * tag_value_letters}
                      for i in range(50)]
    detail["gate"] = {"metric": NDCG, "minValue": 0}
    detail["watch"] = {"alarms": [alarm_name(i) for i in range(10)], "minutes": 60}
    return event


def state_sizes(wf, arn):
    """The size in UTF-8 bytes of every state's input and output, as Step
    Functions counts it (the history escapes what is not ASCII)."""
    sizes = []
    for event in wf.history(arn):
        for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
            details = event.get(key) or {}
            for part in ("input", "output"):
                if part in details:
                    text = json.dumps(json.loads(details[part]), ensure_ascii=False, separators=(",", ":"))
                    sizes.append((len(text.encode()), details["name"], key))
    return sizes


def test_the_largest_accepted_request_goes_through_training_gate_watch_and_rollback_with_room():
    # A training of 30 s (at personalize-local's speed), which outlasts the
    # search for the largest request on a busy machine.
    with LocalWorkflow(seed=seed(serving(SV1)), env={"WATCH_LOOK_SECONDS": "1"},
                       personalize_args=["--solution-version-training-seconds", "18000"]) as wf:
        for i in range(10):
            wf.put_alarm(alarm_name(i), "OK")
        version, _ = wf.train(SOLUTION)
        # Tag values as long as the bound allows: the input of the one
        # accepted is within 1 KiB of it.
        accepted = None
        for letters in range(256, 0, -4):
            error, report = wf.trigger(largest(version, letters, f"{letters:08d}-0000-4000-8000-000000000000"))
            assert error is None, report
            [execution] = report["executions"]
            if not execution["rejected"]:
                accepted = execution["executionArn"]
                break
            rejected = execution["executionArn"]
        assert accepted and letters < 256
        size = len(wf.sfn.describe_execution(executionArn=accepted)["input"].encode())
        assert MAX_REQUEST - 1024 < size <= MAX_REQUEST, size
        # Its watch begins on the new version; an alarm fires mid-watch.
        wait_until(lambda: "WatchAlarms" in wf.path(accepted), timeout=120)
        assert wf.campaign("movie-recs")["solutionVersionArn"] == version
        wf.set_alarm(alarm_name(9), "ALARM", "Threshold Crossed: 1 datapoint [3.0] >= 1.0")
        wait_until(lambda: wf.sfn.describe_execution(executionArn=accepted)["status"] != "RUNNING", timeout=120)
        execution = wf.sfn.describe_execution(executionArn=accepted)
        # Rolled back, and reported: no step failed on the size of its state.
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentRolledBack")
        path = wf.path(accepted)
        for step in ("CheckTraining", "WaitForTraining", "DeployCampaign", "PollCampaign", "WatchAlarms",
                     "RollBack", "NotifyTopic", "PublishEvent"):
            assert step in path, (step, path)
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        # The largest state on the way leaves room under Step Functions'
        # limit: what each step adds is bounded by the request's own members.
        biggest, where, _ = max(state_sizes(wf, accepted))
        assert biggest < MAX_INPUT // 2, (biggest, where)
        # The SNS message and the event are under their 256 KiB limits too.
        sns, events = wf.notifications()
        by_execution = [e for e in events if e["detail"]["executionArn"] == accepted]
        assert len(by_execution) == 1
        assert len(json.dumps(by_execution[0]["detail"]).encode()) < MAX_INPUT
        assert all(len(message.encode()) < MAX_INPUT for _, message in sns)
        # One step of tag length more was rejected, naming the bound, and
        # notified as such.
        rejection = [e for e in events if e["detail"]["executionArn"] == rejected]
        assert len(rejection) == 1
        [error] = rejection[0]["detail"]["errors"]
        assert error["field"] == "(request)"
        assert f"this stack accepts at most {MAX_REQUEST}" in error["rule"]
        print(f"largest accepted input {size} B; largest state {biggest} B at {where} "
              f"({biggest / MAX_INPUT:.0%} of {MAX_INPUT})")
