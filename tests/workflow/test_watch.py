"""End to end, the watch after a deployment and the rollback: the state
machine of template.yaml in moto's interpreter, the real Lambda binaries,
personalize-local, and CloudWatch alarms in moto, flipped with SetAlarmState
as CloudWatch would on their metrics. The watch reads its alarms every
second here (WATCH_LOOK_SECONDS); the watch period is real time."""
import json
import threading
import time

from workflow.harness.events import sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV1, SV2, seed

SV3 = SOLUTION + "/9c0d1e2f"
FAST_LOOKS = {"WATCH_LOOK_SECONDS": "1"}
# What the campaigns serve before: TPS 1 and another exploration weight than
# the requests ask for, so that a rollback must restore all three.
BEFORE_CONFIG = {"itemExplorationConfig": {"explorationWeight": "0.1", "explorationItemAgeCutOff": "30"}}


def versions():
    data = seed()
    data["solutionVersions"].append({"solution": "movies", "id": "9c0d1e2f", "ageSeconds": 10})
    return data


def serving(name, version=SV1):
    return {"name": name, "solutionVersionArn": version, "status": "ACTIVE", "minProvisionedTPS": 1,
            "campaignConfig": BEFORE_CONFIG}


def request(name, version=SV2, watch=None, n=0):
    event = sample("deployment-requested.json")
    event["id"] = f"22222222-0000-4000-8000-{n:012d}"
    event["detail"]["campaignName"] = name
    event["detail"]["solutionVersionArn"] = version
    if watch is not None:
        event["detail"]["watch"] = watch
    return event


def trigger(wf, event):
    error, report = wf.trigger(event)
    assert error is None, report
    [execution] = report["executions"]
    assert not execution["rejected"], execution
    return execution["executionArn"]


def wait_until(condition, timeout=60.0):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def watching(wf, arn):
    """Whether the execution has begun its watch."""
    return "WatchAlarms" in wf.path(arn)


def ended(wf, arns, timeout=150.0):
    """The executions, once none is running."""
    deadline = time.time() + timeout
    while True:
        executions = {arn: wf.sfn.describe_execution(executionArn=arn) for arn in arns}
        if all(e["status"] != "RUNNING" for e in executions.values()):
            return executions
        assert time.time() < deadline, "still running"
        time.sleep(0.1)


def by_execution(wf):
    sns, events = wf.notifications()
    out = {}
    for event in events:
        out.setdefault(event["detail"]["executionArn"], []).append(event)
    return sns, out


def test_an_alarm_during_the_watch_rolls_back_version_tps_and_configuration():
    """movie-recs goes from SV1 (TPS 1, weight 0.1) to SV2 (TPS 2, weight
    0.3), watched with its 5xx alarm; the alarm enters ALARM mid-watch: the
    campaign is returned to SV1 with TPS 1 and weight 0.1, and one
    notification names the alarm, its reason and the versions."""
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving("movie-recs")]), env=FAST_LOOKS) as wf:
        wf.put_alarm("recs-movie-recs-5xx", "OK")
        arn = trigger(wf, request("movie-recs", watch={"alarms": ["recs-{campaign}-5xx"], "minutes": 60}))
        wait_until(lambda: watching(wf, arn))
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        wf.set_alarm("recs-movie-recs-5xx", "ALARM", "Threshold Crossed: 1 datapoint [7.0] >= 1.0")
        execution = ended(wf, [arn])[arn]
        # The new model was not kept: a failed execution, for the alarm.
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentRolledBack")
        path = wf.path(arn)
        assert path[-3:] == ["PublishEvent", "Finish", "RolledBack"], path
        assert path.count("RollBack") == 1
        campaign = wf.campaign("movie-recs")
        assert campaign["solutionVersionArn"] == SV1
        assert campaign["minProvisionedTPS"] == 1
        assert campaign["campaignConfig"]["itemExplorationConfig"]["explorationWeight"] == "0.1"
        sns, events = by_execution(wf)
        assert len(sns) == 1 and len(events[arn]) == 1
        subject, message = sns[0]
        assert subject == "Personalize campaign movie-recs: new version ROLLED BACK, alarm recs-movie-recs-5xx"
        [event] = events[arn]
        assert event["detail-type"] == "Campaign Deployment Rolled Back"
        detail = event["detail"]
        assert detail["status"] == "ROLLED_BACK"
        assert detail["watch"]["verdict"] == "ALARM"
        assert detail["watch"]["alarm"]["name"] == "recs-movie-recs-5xx"
        assert detail["watch"]["alarm"]["reason"] == "Threshold Crossed: 1 datapoint [7.0] >= 1.0"
        assert detail["rollback"]["from"]["solutionVersionArn"] == SV2
        assert detail["rollback"]["to"] == {"solutionVersionArn": SV1, "minProvisionedTPS": 1,
                                            "campaignConfig": BEFORE_CONFIG}
        assert detail["rollback"]["outcome"] == "ROLLED_BACK"
        assert "Rolled back to:   " + SV1 in message
        # Measured: a rollback, and how long the watch lasted.
        [line] = wf.metrics(arn)
        assert (line["Outcome"], line["Deployments"]) == ("ROLLED_BACK", 1.0)
        assert 0 < line["WatchDuration"] < 60
        assert (line["WatchVerdict"], line["RolledBackTo"], line["SolutionVersionArn"]) == ("ALARM", SV1, SV2)


def test_watches_that_pass_with_alarms_ok_already_in_alarm_or_without_data():
    """Three campaigns watched for a minute: alarms OK; an alarm in ALARM
    since before the deployment (not the new version's doing); an alarm
    without data. None rolls back; each succeeds after the period, its
    watch's facts in its notification."""
    names = ["movie-recs", "movie-recs-b", "movie-recs-c"]
    states = {"movie-recs": "OK", "movie-recs-b": "ALARM", "movie-recs-c": "INSUFFICIENT_DATA"}
    # One campaign-status instance per watch: each invocation holds.
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving(n) for n in names]), env=FAST_LOOKS,
                       instances={"campaign-status": 3}) as wf:
        for name in names:
            wf.put_alarm(f"recs-{name}-5xx", states[name], campaign=name)
        arns = {name: trigger(wf, request(name, watch={"alarms": ["recs-{campaign}-5xx"], "minutes": 1}, n=i))
                for i, name in enumerate(names)}
        executions = ended(wf, arns.values())
        sns, events = by_execution(wf)
        assert len(sns) == 3
        for name, arn in arns.items():
            assert executions[arn]["status"] == "SUCCEEDED", name
            assert wf.path(arn)[-1] == "Deployed"
            assert "RollBack" not in wf.path(arn)
            assert wf.campaign(name)["solutionVersionArn"] == SV2
            [event] = events[arn]
            watch = event["detail"]["watch"]
            assert watch["verdict"] == "PASSED", watch
            assert watch["alarms"] == [f"recs-{name}-5xx"] and watch["minutes"] == 1
            assert watch["reads"] > 10, watch
            assert event["detail"]["rollback"] is None
        watch_of = {name: events[arn][0]["detail"]["watch"] for name, arn in arns.items()}
        assert watch_of["movie-recs-b"]["alreadyInAlarm"] == ["recs-movie-recs-b-5xx"]
        assert watch_of["movie-recs-c"]["insufficientData"] == ["recs-movie-recs-c-5xx"]
        assert "alreadyInAlarm" not in watch_of["movie-recs"]
        subjects = {subject for subject, _ in sns}
        assert "Personalize campaign movie-recs: deployment succeeded (UPDATE), watch passed" in subjects


def test_a_watch_that_cannot_read_its_alarms_keeps_the_version_unverified():
    """campaign-status cannot reach CloudWatch (connection refused, like a
    5xx outlasting the SDK's retries): no rollback, and the success says the
    watch is UNVERIFIED."""
    unreachable = {"campaign-status": {"AWS_ENDPOINT_URL_CLOUDWATCH": "http://127.0.0.1:9"}}
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving("movie-recs")]), env=FAST_LOOKS,
                       function_env=unreachable) as wf:
        wf.put_alarm("recs-movie-recs-5xx", "OK")
        arn = trigger(wf, request("movie-recs", watch={"alarms": ["recs-{campaign}-5xx"], "minutes": 1}))
        execution = ended(wf, [arn])[arn]
        assert execution["status"] == "SUCCEEDED"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        sns, events = by_execution(wf)
        [(subject, _)] = sns
        assert subject == "Personalize campaign movie-recs: deployment succeeded (UPDATE), watch UNVERIFIED"
        watch = events[arn][0]["detail"]["watch"]
        assert (watch["verdict"], watch["reads"]) == ("UNVERIFIED", 0)
        assert "DispatchFailure" in watch["unread"] or "Timeout" in watch["unread"], watch


def test_a_newer_deployment_a_failed_rollback_and_a_create_each_end_as_they_should():
    """- movie-recs, watched, meets a newer request (SV3, no watch) during
         its watch: SUPERSEDED at once, no rollback; the newer one deployed.
       - movie-recs-f, watched, alarms; its rollback to SV1 fails
         (personalize-local fails deployments of SV1): ROLLBACK_FAILED,
         saying what the campaign serves.
       - movie-recs-new does not exist: created, and a create is not watched."""
    args = ["--fail-deployments", f"{SV1}=the injected failure of the rollback"]
    seeded = dict(versions(), campaigns=[serving("movie-recs"), serving("movie-recs-f")])
    with LocalWorkflow(seed=seeded, env=FAST_LOOKS, personalize_args=args,
                       instances={"campaign-status": 3}) as wf:
        for name in ("movie-recs", "movie-recs-f", "movie-recs-new"):
            wf.put_alarm(f"recs-{name}-5xx", "OK", campaign=name)
        watch = {"alarms": ["recs-{campaign}-5xx"], "minutes": 60}
        first = trigger(wf, request("movie-recs", watch=watch, n=1))
        failing = trigger(wf, request("movie-recs-f", watch=watch, n=2))
        created = trigger(wf, request("movie-recs-new", watch=watch, n=3))
        wait_until(lambda: watching(wf, first) and watching(wf, failing))
        newer = trigger(wf, request("movie-recs", version=SV3, watch="none", n=4))
        wf.set_alarm("recs-movie-recs-f-5xx", "ALARM")
        executions = ended(wf, [first, failing, created, newer])
        sns, events = by_execution(wf)
        assert len(sns) == 4

        assert executions[first]["status"] == "SUCCEEDED"
        assert wf.path(first)[-1] == "Superseded" and "RollBack" not in wf.path(first)
        detail = events[first][0]["detail"]
        assert (detail["status"], detail["supersededBy"]) == ("SUPERSEDED", SV3)
        assert detail["watch"]["verdict"] == "SUPERSEDED"
        assert executions[newer]["status"] == "SUCCEEDED"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV3

        assert (executions[failing]["status"], executions[failing].get("error")) == ("FAILED", "RollbackFailed")
        detail = events[failing][0]["detail"]
        assert events[failing][0]["detail-type"] == "Campaign Deployment Rollback Failed"
        assert "the injected failure of the rollback" in detail["failureReason"]
        assert f"still ACTIVE on {SV2}" in detail["failureReason"]
        assert detail["rollback"]["outcome"] == "ROLLBACK_FAILED"
        assert wf.campaign("movie-recs-f")["solutionVersionArn"] == SV2

        assert executions[created]["status"] == "SUCCEEDED"
        assert "WatchAlarms" not in wf.path(created)
        detail = events[created][0]["detail"]
        assert (detail["operation"], detail["watch"]) == ("CREATE", None)


def test_a_request_naming_an_alarm_that_does_not_exist_is_rejected_before_anything_is_written():
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving("movie-recs")])) as wf:
        error, report = wf.trigger(request("movie-recs", watch={"alarms": ["no-such-alarm"]}))
        assert error is None, report
        [execution] = report["executions"]
        assert execution["rejected"]
        [done] = wf.wait_for_executions(1)
        assert done["status"] == "SUCCEEDED"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        _, events = wf.notifications()
        [event] = events
        assert event["detail"]["errors"] == [{
            "field": "watch.alarms[0]",
            "rule": 'names no CloudWatch alarm in this account and region: "no-such-alarm" '
                    "(the request's watch, or its campaign's watch tags)"}]
