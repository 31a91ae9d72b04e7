"""End to end: the state machine of template.yaml, run by moto's interpreter,
its tasks served by the real Lambda binaries, Personalize by personalize-local.
Each scenario asserts the execution's path, the campaign's final state and the
exact notifications."""
import json
from datetime import datetime
import threading
import time

import pytest

from workflow.harness.events import manifest as manifest_bytes, sample
from workflow.definition import load_template
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.names import BUCKET
from workflow.harness.sample import SOLUTION, SV1, SV2, campaign_arn, seed

from steps import (NOTIFY, POLL_LOOP, TRAINED, one_notification, outputs, requested, run, serving, task_seconds,
                   trigger)

CAMPAIGN = campaign_arn("movie-recs")


def requested_latest():
    """movie-recs on movies' newest version ($LATEST): the training check
    makes no call, so injected faults meet the campaign's first."""
    event = requested()
    event["detail"]["solutionVersionArn"] = SOLUTION + "/$LATEST"
    event["detail"]["campaignConfig"]["syncWithLatestSolutionVersion"] = True
    return event


def task_failures(wf, execution):
    """The errors of the execution's failed Lambda task attempts, in order."""
    return [
        e["lambdaFunctionFailedEventDetails"]["error"]
        for e in wf.history(execution["executionArn"])
        if "lambdaFunctionFailedEventDetails" in e
    ]


def collapse(path):
    """The path with the polling loop folded to one pass, and the number of polls."""
    folded = [name for i, name in enumerate(path) if not (name in POLL_LOOP and name in path[:i])]
    return folded, path.count("PollCampaign")


def test_a_new_campaign_is_created_and_the_execution_succeeds():
    with LocalWorkflow(seed=seed()) as wf:
        event = wf.put_manifest("manifests/movie recs.json", manifest_bytes("movie-recs.json"))
        assert event["Records"][0]["s3"]["object"]["key"] == "manifests/movie+recs.json"
        execution, path = run(wf, event)
        assert execution["status"] == "SUCCEEDED"
        folded, polls = collapse(path)
        assert folded == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        assert polls >= 2, path
        campaign = wf.campaign("movie-recs")
        assert campaign["status"] == "ACTIVE"
        assert campaign["solutionVersionArn"] == SV1
        assert campaign["minProvisionedTPS"] == 2
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (CREATE)"
        assert "Operation:        CREATE" in message
        assert "Request:          s3://personalize-deployer-manifests/manifests/movie recs.json (version " in message
        assert notification["detail-type"] == "Campaign Deployment Succeeded"
        assert notification["source"] == "personalize-deployer"
        detail = notification["detail"]
        assert (detail["status"], detail["operation"], detail["campaignArn"]) == ("SUCCEEDED", "CREATE", CAMPAIGN)
        assert detail["targetSolutionVersionArn"] == SV1 and detail["previousSolutionVersionArn"] is None
        assert detail["executionArn"] == execution["executionArn"]
        assert detail["origin"]["key"] == "manifests/movie recs.json"
        assert detail["durationSeconds"] > 0


def test_an_eventbridge_object_created_event_deploys_too():
    with LocalWorkflow(seed=seed()) as wf:
        uploaded = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        obj = uploaded["Records"][0]["s3"]["object"]
        event = sample("eventbridge-s3-object-created.json")
        event["detail"]["bucket"]["name"] = BUCKET
        # EventBridge carries the key as it is, not URL-encoded.
        event["detail"]["object"].update(key="manifests/movie-recs.json", size=obj["size"], etag=obj["eTag"],
                                         sequencer=obj["sequencer"])
        event["detail"]["object"]["version-id"] = obj["versionId"]
        execution, path = run(wf, event)
        assert execution["status"] == "SUCCEEDED"
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (CREATE)"
        assert notification["detail"]["origin"]["via"] == "eventbridge"
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"


@pytest.mark.parametrize("personalize_args", [[], ["--normalize-config"]], ids=["echoed", "normalized"])
def test_an_update_succeeds_only_once_latest_campaign_update_is_active(personalize_args):
    # Also with a service that reports the configuration normalized.
    with LocalWorkflow(seed=seed(serving(SV1)), personalize_args=personalize_args) as wf:
        execution, path = run(wf, requested())
        assert execution["status"] == "SUCCEEDED"
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        [deployment] = [o["deployment"] for o in outputs(wf, execution, "DeployCampaign")]
        assert (deployment["operation"], deployment["previousSolutionVersionArn"]) == ("UPDATE", SV1)
        polls = [o["status"] for o in outputs(wf, execution, "PollCampaign")]
        assert len(polls) >= 2
        for poll in polls[:-1]:
            # Top-level ACTIVE all along: progress is read from the update record.
            assert poll["outcome"] == "IN_PROGRESS"
            assert poll["campaignStatus"] == "ACTIVE"
            assert poll["updateStatus"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
        assert (polls[-1]["outcome"], polls[-1]["updateStatus"]) == ("ACTIVE", "ACTIVE")
        campaign = wf.campaign("movie-recs")
        assert campaign["solutionVersionArn"] == SV2
        assert campaign["latestCampaignUpdate"]["status"] == "ACTIVE"
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (UPDATE)"
        detail = notification["detail"]
        assert (detail["previousSolutionVersionArn"], detail["targetSolutionVersionArn"]) == (SV1, SV2)
        assert detail["origin"] == {
            "type": "event", "eventId": requested()["id"], "source": "personalize-deployer",
            "account": "111122223333", "region": "us-east-1",
        }


def test_a_failed_creation_fails_the_execution_with_the_reason():
    with LocalWorkflow(seed=seed(), personalize_args=["--fail-deployments", f"{SV1}=Insufficient capacity"]) as wf:
        event = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Failed"]
        assert wf.campaign("movie-recs")["status"] == "CREATE FAILED"
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment FAILED (CREATE)"
        assert "Reason:           Insufficient capacity" in message
        assert notification["detail-type"] == "Campaign Deployment Failed"
        assert notification["detail"]["failureReason"] == "Insufficient capacity"


def test_a_failed_update_fails_while_the_campaign_stays_active_on_the_old_version():
    with LocalWorkflow(seed=seed(serving(SV1)), personalize_args=["--fail-deployments", f"{SV2}=Model artifacts are corrupt"]) as wf:
        execution, path = run(wf, requested())
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Failed"]
        campaign = wf.campaign("movie-recs")
        assert (campaign["status"], campaign["solutionVersionArn"]) == ("ACTIVE", SV1)
        assert campaign["latestCampaignUpdate"]["status"] == "CREATE FAILED"
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment FAILED (UPDATE)"
        assert notification["detail"]["failureReason"] == f"Model artifacts are corrupt; the campaign is still ACTIVE on {SV1}"


def test_an_unchanged_request_deploys_nothing_and_says_so():
    with LocalWorkflow(seed=seed(serving(SV2))) as wf:
        execution, path = run(wf, requested())
        assert execution["status"] == "SUCCEEDED"
        assert path == ["CheckRequest", *TRAINED, "DeployCampaign", "PollCampaign", "CheckCampaign", *NOTIFY, "Deployed"]
        assert "latestCampaignUpdate" not in wf.campaign("movie-recs")
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: already up to date, nothing deployed"
        assert notification["detail-type"] == "Campaign Deployment Unchanged"
        assert notification["detail"]["operation"] == "NONE"


def test_a_rejected_manifest_is_notified_with_every_reason():
    with LocalWorkflow(seed=seed()) as wf:
        event = wf.put_manifest("manifests/invalid.json", manifest_bytes("invalid.json"))
        execution, path = run(wf, event)
        # Told to the requester, not a failed deployment for the operator's alarm.
        assert (execution["status"], execution.get("error")) == ("SUCCEEDED", None)
        assert path == ["CheckRequest", "DescribeOutcome", *NOTIFY, "Rejected"]
        assert wf.personalize.client().list_campaigns()["campaigns"] == []
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign -movie recs: deployment request REJECTED"
        assert message.count("\n  - ") == 10
        assert "  - tags[2].tagKey: repeats the key \"owner\" of tags[1]" in message
        assert notification["detail-type"] == "Campaign Deployment Rejected"
        assert len(notification["detail"]["errors"]) == 10


def test_a_deployment_past_its_deadline_times_out():
    with LocalWorkflow(
        seed=seed(), env={"DEPLOYMENT_DEADLINE_SECONDS": "2"},
        personalize_args=["--campaign-create-seconds", "1000000"],
    ) as wf:
        event = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentTimedOut")
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "TimedOut"]
        assert wf.campaign("movie-recs")["status"] == "CREATE IN_PROGRESS"
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment TIMED OUT (CREATE)"
        assert notification["detail-type"] == "Campaign Deployment Timed Out"
        assert "not finished 2s after it started: campaign status is CREATE IN_PROGRESS" in notification["detail"]["failureReason"]


def test_a_version_that_does_not_exist_fails_before_any_campaign_call():
    with LocalWorkflow(seed=seed()) as wf:
        event = requested()
        event["detail"]["solutionVersionArn"] = SOLUTION + "/deadbeef"
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert path == ["CheckRequest", *TRAINED, "DescribeOutcome", *NOTIFY, "Failed"]
        assert wf.campaign("movie-recs") is None
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment FAILED"
        reason = notification["detail"]["failureReason"]
        assert reason == f"the solution version {SOLUTION}/deadbeef does not exist", reason
        assert notification["detail"]["training"] == {
            "solutionVersionArn": SOLUTION + "/deadbeef", "status": None, "failureReason": None,
            "trainingHours": None}


def test_a_personalize_outage_outlasting_the_retries_is_notified_as_failed():
    with LocalWorkflow(seed=seed(), personalize_args=["--error-rate", "1", "--error-status", "503"]) as wf:
        execution, path = run(wf, requested_latest())
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert path == ["CheckRequest", *TRAINED, "DeployCampaign", "DescribeOutcome", *NOTIFY, "Failed"]
        wf.personalize.admin("/faults", {"errorRate": 0})
        assert wf.campaign("movie-recs") is None
        errors = task_failures(wf, execution)
        assert errors == ["ServiceUnavailable"] * 5, "the first try and four retries"
        _, _, notification = one_notification(wf)
        assert notification["detail"]["failureReason"].startswith("ServiceUnavailable: service unavailable")


def test_the_same_s3_event_twice_and_concurrently_is_one_execution_one_deployment_one_notification():
    with LocalWorkflow(seed=seed(), instances={"deploy-trigger": 2}) as wf:
        event = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        reports = []
        threads = [threading.Thread(target=lambda: reports.append(wf.trigger(event))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        [execution] = wf.wait_for_executions(1)
        late_error, late = wf.trigger(event)
        assert late_error is None and late["executions"][0]["status"] == "ALREADY_HANDLED"
        statuses = sorted(r[1]["executions"][0]["status"] for r in reports)
        assert statuses == ["ALREADY_HANDLED", "STARTED"] or statuses == ["STARTED", "STARTED"], statuses
        assert len(wf.executions()) == 1
        assert execution["status"] == "SUCCEEDED"
        assert collapse(wf.path(execution["executionArn"]))[0] == [
            "CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"
        creates = [i for i in wf.lambdas.invocations if i[0] == "deploy-campaign"]
        assert len(creates) == 1
        one_notification(wf)


def test_an_execution_not_started_by_the_trigger_is_still_notified_and_a_throwing_task_caught():
    # E.g. started by hand from the console with its default input.
    with LocalWorkflow(seed=seed()) as wf:
        wf.sfn.start_execution(stateMachineArn=wf.state_machine_arn, name="by-hand", input='{"Comment": "x"}')
        [execution] = wf.wait_for_executions(1)
        path = wf.path(execution["executionArn"])
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        # The first task throws (InvalidTaskInput); its Catch notifies.
        assert path == ["CheckRequest", "CheckTraining", "DescribeOutcome", *NOTIFY, "Failed"]
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize deployment FAILED"
        assert notification["detail"]["failureReason"].startswith("InvalidTaskInput: invalid task input: state.request is missing")


SV3 = SOLUTION + "/9c0d1e2f"


def with_sv3(data):
    """The sample seed and a third version of movies, trained just now."""
    data["solutionVersions"].append({"solution": "movies", "id": "9c0d1e2f", "ageSeconds": 10})
    return data


def request_for(version, event_id):
    event = requested()
    event["id"] = event_id
    event["detail"]["solutionVersionArn"] = version
    return event


def by_target(wf, executions):
    """Each execution by the solution version its request asked for."""
    out = {}
    for execution in executions:
        request = json.loads(execution["input"])["request"]
        out[request["solutionVersionArn"]] = execution
    return out


# Polls an hour (6 s here) apart: the second deployment starts between two
# polls of the first.
SLOW_POLLS = {"POLL_INITIAL_SECONDS": "3600", "POLL_MAX_SECONDS": "3600"}


def update_status(wf):
    return wf.campaign("movie-recs").get("latestCampaignUpdate", {}).get("status")


def wait_until(condition, timeout=20.0):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def assert_superseded(wf, first, second):
    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert wf.path(first["executionArn"])[-1] == "Superseded"
    assert wf.path(second["executionArn"])[-1] == "Deployed"
    assert wf.campaign("movie-recs")["solutionVersionArn"] == SV3
    sns, events = wf.notifications()
    assert len(sns) == 2 and len(events) == 2, (sns, events)
    by_execution = {e["detail"]["executionArn"]: e for e in events}
    superseded = by_execution[first["executionArn"]]
    assert superseded["detail-type"] == "Campaign Deployment Superseded"
    detail = superseded["detail"]
    assert (detail["status"], detail["supersededBy"], detail["targetSolutionVersionArn"]) == (
        "SUPERSEDED", SV3, SV2)
    # At its next poll, not at its deadline (3 h).
    assert detail["durationSeconds"] < 3600
    assert by_execution[second["executionArn"]]["detail-type"] == "Campaign Deployment Succeeded"
    subjects = sorted(subject for subject, _ in sns)
    assert "Personalize campaign movie-recs: deployment SUPERSEDED (UPDATE) by a newer one" in subjects


def test_a_deployment_overtaken_after_it_finished_but_before_its_next_poll_ends_superseded():
    with LocalWorkflow(seed=with_sv3(seed(serving(SV1))), env=SLOW_POLLS) as wf:
        error, _ = wf.trigger(request_for(SV2, "11111111-0000-4000-8000-000000000003"))
        assert error is None
        wait_until(lambda: update_status(wf) == "ACTIVE")
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        [first] = wf.executions()
        assert first["status"] == "RUNNING", "the first execution has not polled again yet"
        error, _ = wf.trigger(request_for(SV3, "11111111-0000-4000-8000-000000000004"))
        assert error is None
        executions = by_target(wf, wf.wait_for_executions(2))
        assert_superseded(wf, executions[SV2], executions[SV3])


def test_an_update_is_served_when_the_service_normalizes_the_configuration():
    """The service may fill in exploration defaults and write "0.30" as "0.3":
    what the request gives still counts as served."""
    with LocalWorkflow(seed=seed(serving(SV1)), personalize_args=["--normalize-config"]) as wf:
        event = requested()
        event["detail"]["campaignConfig"] = {"itemExplorationConfig": {"explorationWeight": "0.30"}}
        execution, path = run(wf, event)
        assert execution["status"] == "SUCCEEDED"
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        campaign = wf.campaign("movie-recs")
        assert campaign["campaignConfig"]["itemExplorationConfig"] == {
            "explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}
        assert campaign["solutionVersionArn"] == SV2
        _, _, notification = one_notification(wf)
        assert notification["detail-type"] == "Campaign Deployment Succeeded"


def test_a_task_that_times_out_or_crashes_after_acting_is_retried_and_the_deployment_reported_once():
    with LocalWorkflow(seed=seed()) as wf:
        # campaign-status crashes once (its first task, the training check);
        # deploy-campaign creates the campaign, then "times out".
        wf.lambdas.lose_next("deploy-campaign", "Sandbox.Timedout")
        wf.lambdas.lose_next("campaign-status", "Lambda.Unknown")
        event = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        execution, path = run(wf, event)
        assert execution["status"] == "SUCCEEDED"
        assert collapse(path)[0] == ["CheckRequest", *TRAINED, "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        failures = task_failures(wf, execution)
        assert failures == ["Lambda.Unknown", "Sandbox.Timedout"], failures
        # The retry adopted the creation the lost attempt had started.
        [deployment] = [o["deployment"] for o in outputs(wf, execution, "DeployCampaign")]
        assert deployment["operation"] == "CREATE"
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"
        subject, _, _ = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (CREATE)"


def status_change(execution):
    """The "Step Functions Execution Status Change" event of an ended
    execution, shaped like the real one (events/execution-aborted.json)."""
    event = sample("execution-aborted.json")
    millis = lambda t: int(t.timestamp() * 1000) if t else None
    event["detail"].update(
        executionArn=execution["executionArn"], stateMachineArn=execution["stateMachineArn"],
        name=execution["name"], status=execution["status"], startDate=millis(execution["startDate"]),
        stopDate=millis(execution.get("stopDate")), input=execution["input"],
        error=execution.get("error"), cause=execution.get("cause"))
    event["resources"] = [execution["executionArn"]]
    return event


def announce_rule(state_machine_arn):
    """The AnnounceUnreportedEnds rule of template.yaml: whether it matches an
    event (EventBridge's matching, as moto implements it) and the input it
    gives its target."""
    from moto.events.models import EventPattern

    rule = load_template()["Resources"]["AnnounceUnreportedEnds"]["Properties"]
    pattern = json.loads(json.dumps(rule["EventPattern"]).replace(
        json.dumps({"Ref": "DeploymentStateMachine"}), json.dumps(state_machine_arn)))
    matches = EventPattern.load(json.dumps(pattern)).matches_event
    template = rule["Targets"][0]["InputTransformer"]["InputTemplate"]
    return matches, lambda event: template.replace("<detail>", json.dumps(event["detail"]))


def stopped_before_it_reported(wf):
    """Starts the sample request and stops its execution while it waits
    between two polls (an hour, 6 s here): moto's interpreter, stopped in the
    middle of a Lambda task, may record the interrupted task as an error
    (FAILED) instead of the stop. The stopped execution, which sent nothing."""
    error, _ = wf.trigger(requested())
    assert error is None
    wait_until(lambda: update_status(wf) is not None)
    [running] = wf.executions()
    wait_until(lambda: wf.path(running["executionArn"])[-1:] == ["WaitForCampaign"])
    wf.sfn.stop_execution(executionArn=running["executionArn"], cause="stopped by an operator")
    [stopped] = wf.wait_for_executions(1)
    assert stopped["status"] == "ABORTED"
    assert wf.notifications() == ([], []), "a stopped execution sends nothing itself"
    return stopped


def test_an_execution_stopped_before_it_reported_is_announced_once():
    with LocalWorkflow(seed=seed(serving(SV1)), env=SLOW_POLLS) as wf:
        stopped = stopped_before_it_reported(wf)

        matches, target_input = announce_rule(wf.state_machine_arn)
        event = status_change(stopped)
        assert matches(event)
        wf.sfn.start_execution(stateMachineArn=wf.state_machine_arn, name="announce-1",
                               input=target_input(event))
        executions = wf.wait_for_executions(2)
        [announcement] = [e for e in executions if e["name"] == "announce-1"]
        assert announcement["status"] == "SUCCEEDED"
        assert wf.path(announcement["executionArn"]) == ["CheckRequest", "DescribeOutcome", *NOTIFY, "Announced"]
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment ABORTED, execution stopped"
        assert notification["detail-type"] == "Campaign Deployment Aborted"
        detail = notification["detail"]
        assert detail["executionArn"] == stopped["executionArn"]
        assert detail["notificationId"] == stopped["executionArn"] + "#ABORTED"
        assert detail["targetSolutionVersionArn"] == SV2
        assert "the campaign may still be changing" in detail["failureReason"]

        # The announcement's own end, and ends the execution reported itself,
        # are not announced.
        assert not matches(status_change(announcement))
        for status, error in (("FAILED", "DeploymentFailed"), ("FAILED", "DeploymentTimedOut"),
                              ("FAILED", "TrainingTimedOut"), ("FAILED", "NotificationFailed"),
                              ("SUCCEEDED", None)):
            ended = status_change(stopped)
            ended["detail"].update(status=status, error=error)
            assert not matches(ended), (status, error)
        for status, error in (("TIMED_OUT", None), ("FAILED", "States.Runtime")):
            ended = status_change(stopped)
            ended["detail"].update(status=status, error=error)
            assert matches(ended), (status, error)
        # An input too large for the event is left out of it: still announced.
        ended = status_change(stopped)
        ended["detail"].update(input=None, inputDetails={"included": False})
        assert matches(ended)


def test_a_rate_limit_outlasting_the_sdk_retries_is_retried_not_failed():
    # LimitExceededException "on the number of requests per second", twelve
    # times in a row: four attempts of DeployCampaign, each after the SDK's
    # own three.
    with LocalWorkflow(seed=seed()) as wf:
        wf.personalize.admin("/faults", {"throttleNext": 12, "throttleError": "LimitExceededException"})
        execution, path = run(wf, requested_latest())
        assert execution["status"] == "SUCCEEDED"
        failures = task_failures(wf, execution)
        assert failures == ["Throttled"] * 4, failures
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"
        subject, _, _ = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (CREATE)"


def test_an_update_is_noticed_within_a_look_of_its_end_as_long_as_the_creation_took():
    # Real waits: a poll every 3 s, and around the expected end, looks every
    # second within one poll. The creation and the update each take 12 s.
    with LocalWorkflow(
        seed=seed(), time_scale=1.0,
        env={"POLL_INITIAL_SECONDS": "3", "POLL_MAX_SECONDS": "3", "POLL_HOLD_SECONDS": "1",
             "DEPLOYMENT_DEADLINE_SECONDS": "600"},
        personalize_args=["--campaign-create-seconds", "7200", "--campaign-update-seconds", "7200"],
    ) as wf:
        first = requested()
        first["detail"]["solutionVersionArn"] = SV1
        created, _ = run(wf, first)
        assert created["status"] == "SUCCEEDED"
        [deployment] = [o["deployment"] for o in outputs(wf, created, "DeployCampaign")]
        assert "expected" not in deployment, "a new campaign has no history"
        assert max(task_seconds(wf, created, "PollCampaign")) < 1, "without one, no poll stays"
        wf.notifications()

        trigger(wf, requested())
        [_, updated] = sorted(wf.wait_for_executions(2, timeout=60), key=lambda e: e["startDate"])
        assert updated["status"] == "SUCCEEDED"
        [deployment] = [o["deployment"] for o in outputs(wf, updated, "DeployCampaign")]
        # As long as the creation took (pending included), to the second above.
        assert deployment["expected"]["basis"] == "CREATION"
        assert 12 <= deployment["expected"]["seconds"] <= 13, deployment
        polls = [o["status"] for o in outputs(wf, updated, "PollCampaign")]
        assert [p["outcome"] for p in polls] == ["IN_PROGRESS"] * (len(polls) - 1) + ["ACTIVE"], polls
        # Polls 3 s apart until the window opens at about 9 s, then the one
        # that stays, looking every second, until it sees the end (a poll
        # every 3 s would make as many, and notice the end up to 3 s late).
        assert len(polls) <= 5, polls
        spans = task_seconds(wf, updated, "PollCampaign")
        assert spans[-1] >= 0.9 and max(spans[:-1]) < 0.5, spans
        update = wf.campaign("movie-recs")["latestCampaignUpdate"]
        assert update["status"] == "ACTIVE"
        _, _, notification = one_notification(wf)
        ended = datetime.fromisoformat(notification["detail"]["endedAt"].replace("Z", "+00:00"))
        lag = ended.timestamp() - update["lastUpdatedDateTime"].timestamp()
        assert 0 <= lag <= 2, f"noticed {lag:.2f} s after the update ended"


def test_a_request_that_meets_a_90_minute_update_waits_for_it_then_deploys():
    """Personalize documents that an update "can take over an hour": a
    request that finds its campaign busy with an older update waits for it
    (polled, not retried: no CampaignBusy, no hour-long retry budget), then
    deploys, and the campaign ends on the newest model."""
    with LocalWorkflow(seed=with_sv3(seed(serving(SV1))),
                       personalize_args=["--campaign-update-seconds", "5400"]) as wf:
        error, _ = wf.trigger(request_for(SV2, "11111111-0000-4000-8000-000000000011"))
        assert error is None
        wait_until(lambda: update_status(wf) in ("CREATE PENDING", "CREATE IN_PROGRESS"))
        error, _ = wf.trigger(request_for(SV3, "11111111-0000-4000-8000-000000000012"))
        assert error is None
        executions = by_target(wf, wf.wait_for_executions(2, timeout=120))
        first, later = executions[SV2], executions[SV3]
        assert later["status"] == "SUCCEEDED"
        path = wf.path(later["executionArn"])
        assert path.count("DeployCampaign") == 2 and path[-1] == "Deployed", path
        assert task_failures(wf, later) == []
        waited, deployed = [o["deployment"] for o in outputs(wf, later, "DeployCampaign")]
        assert "an update is in progress" in waited["waitingFor"] and waited["round"] == 1
        assert (deployed["operation"], deployed["previousSolutionVersionArn"]) == ("UPDATE", SV2)
        assert deployed["waitedSince"] == waited["since"]
        # The first deployment is not undone: it ended, then the later one ran.
        assert first["status"] == "SUCCEEDED"
        assert wf.path(first["executionArn"])[-1] in ("Deployed", "Superseded")
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV3
        sns, events = wf.notifications()
        assert len(sns) == 2 and len(events) == 2
        by_execution = {e["detail"]["executionArn"]: e for e in events}
        assert by_execution[later["executionArn"]]["detail-type"] == "Campaign Deployment Succeeded"


def test_a_request_older_than_the_update_in_progress_gives_way_without_writing():
    """A request made before another one's update started (here: its
    version still trained) does not deploy over it: SUPERSEDED at once,
    nothing written, the newer model kept."""
    with LocalWorkflow(seed=with_sv3(seed(serving(SV1))),
                       personalize_args=["--solution-version-training-seconds", "3000"]) as wf:
        training, _ = wf.train(SOLUTION)
        error, _ = wf.trigger(request_for(training, "11111111-0000-4000-8000-000000000013"))
        assert error is None
        error, _ = wf.trigger(request_for(SV3, "11111111-0000-4000-8000-000000000014"))
        assert error is None
        executions = by_target(wf, wf.wait_for_executions(2, timeout=120))
        older, newer = executions[training], executions[SV3]
        assert (older["status"], newer["status"]) == ("SUCCEEDED", "SUCCEEDED")
        assert wf.path(older["executionArn"])[-1] == "Superseded"
        assert wf.path(newer["executionArn"])[-1] == "Deployed"
        [overtaken] = [o["deployment"] for o in outputs(wf, older, "DeployCampaign")]
        assert overtaken["supersededBy"]["solutionVersionArn"] == SV3
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV3
        _, events = wf.notifications()
        by_execution = {e["detail"]["executionArn"]: e for e in events}
        detail = by_execution[older["executionArn"]]["detail"]
        assert (detail["status"], detail["supersededBy"]) == ("SUPERSEDED", SV3)
        assert "began after this request; nothing was written" in detail["failureReason"]
