"""End to end: the state machine of template.yaml, run by moto's interpreter,
its tasks served by the real Lambda binaries, Personalize by personalize-local.
Each scenario asserts the execution's path, the campaign's final state and the
exact notifications."""
import json
import threading

import pytest

from workflow.harness.events import manifest as manifest_bytes, sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.names import BUCKET
from workflow.harness.sample import SOLUTION, SV1, SV2, campaign_arn, seed

CAMPAIGN = campaign_arn("movie-recs")
POLL_LOOP = ["PollCampaign", "CheckCampaign", "WaitForCampaign"]
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


def run(wf, event):
    error, report = wf.trigger(event)
    assert error is None, report
    [execution] = wf.wait_for_executions(1)
    return execution, wf.path(execution["executionArn"])


def one_notification(wf):
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
        assert folded == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
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
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (CREATE)"
        assert notification["detail"]["origin"]["via"] == "eventbridge"
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"


def test_an_update_succeeds_only_once_latest_campaign_update_is_active():
    with LocalWorkflow(seed=seed(serving(SV1))) as wf:
        execution, path = run(wf, requested())
        assert execution["status"] == "SUCCEEDED"
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
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
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Failed"]
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
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Failed"]
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
        assert path == ["CheckRequest", "DeployCampaign", "PollCampaign", "CheckCampaign", *NOTIFY, "Deployed"]
        assert "latestCampaignUpdate" not in wf.campaign("movie-recs")
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: already up to date, nothing deployed"
        assert notification["detail-type"] == "Campaign Deployment Unchanged"
        assert notification["detail"]["operation"] == "NONE"


def test_a_rejected_manifest_is_notified_with_every_reason():
    with LocalWorkflow(seed=seed()) as wf:
        event = wf.put_manifest("manifests/invalid.json", manifest_bytes("invalid.json"))
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "RequestRejected")
        assert path == ["CheckRequest", "DescribeOutcome", *NOTIFY, "Rejected"]
        assert wf.personalize.client().list_campaigns()["campaigns"] == []
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign -movie recs: deployment request REJECTED"
        assert message.count("\n  - ") == 10
        assert "  - tags[2].tagKey: repeats the key \"owner\" of tags[1]" in message
        assert notification["detail-type"] == "Campaign Deployment Rejected"
        assert len(notification["detail"]["errors"]) == 10


def test_a_busy_campaign_is_retried_then_deployed():
    # Another deployment is creating the campaign on SV1 when SV2 is requested.
    # Seeded just before the request, so that the timing does not depend on how
    # long the stack takes to start: its creation lasts 3000 s (5 s here), less
    # than the CampaignBusy retries' 3780 s (6.3 s here).
    with LocalWorkflow(seed=seed(), personalize_args=["--campaign-create-seconds", "3000"]) as wf:
        wf.personalize.admin("/seed", {"campaigns": [serving(SV1, status="CREATE IN_PROGRESS")]})
        execution, path = run(wf, requested())
        assert execution["status"] == "SUCCEEDED"
        # Retries stay inside the DeployCampaign state.
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        failures = [
            e["lambdaFunctionFailedEventDetails"]["error"]
            for e in wf.history(execution["executionArn"])
            if "lambdaFunctionFailedEventDetails" in e
        ]
        assert failures and set(failures) == {"CampaignBusy"}, failures
        [deployment] = [o["deployment"] for o in outputs(wf, execution, "DeployCampaign")]
        assert (deployment["operation"], deployment["previousSolutionVersionArn"]) == ("UPDATE", SV1)
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        subject, _, _ = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (UPDATE)"


def test_a_deployment_past_its_deadline_times_out():
    with LocalWorkflow(
        seed=seed(), env={"DEPLOYMENT_DEADLINE_SECONDS": "2"},
        personalize_args=["--campaign-create-seconds", "1000000"],
    ) as wf:
        event = wf.put_manifest("manifests/movie-recs.json", manifest_bytes("movie-recs.json"))
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentTimedOut")
        assert collapse(path)[0] == ["CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "TimedOut"]
        assert wf.campaign("movie-recs")["status"] == "CREATE IN_PROGRESS"
        subject, message, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment TIMED OUT (CREATE)"
        assert notification["detail-type"] == "Campaign Deployment Timed Out"
        assert "not finished 2s after it started: campaign status is CREATE IN_PROGRESS" in notification["detail"]["failureReason"]


def test_a_task_handler_that_throws_is_caught_and_notified_as_failed():
    with LocalWorkflow(seed=seed()) as wf:
        event = requested()
        event["detail"]["solutionVersionArn"] = SOLUTION + "/deadbeef"
        execution, path = run(wf, event)
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert path == ["CheckRequest", "DeployCampaign", "DescribeOutcome", *NOTIFY, "Failed"]
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment FAILED"
        reason = notification["detail"]["failureReason"]
        assert reason.startswith("ResourceNotFound: not found: ResourceNotFoundException: Could not find solution version"), reason


def test_a_personalize_outage_outlasting_the_retries_is_notified_as_failed():
    with LocalWorkflow(seed=seed(), personalize_args=["--error-rate", "1", "--error-status", "503"]) as wf:
        execution, path = run(wf, requested())
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert path == ["CheckRequest", "DeployCampaign", "DescribeOutcome", *NOTIFY, "Failed"]
        wf.personalize.admin("/faults", {"errorRate": 0})
        assert wf.campaign("movie-recs") is None
        errors = [
            e["lambdaFunctionFailedEventDetails"]["error"]
            for e in wf.history(execution["executionArn"])
            if "lambdaFunctionFailedEventDetails" in e
        ]
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
            "CheckRequest", "DeployCampaign", *POLL_LOOP, *NOTIFY, "Deployed"]
        assert wf.campaign("movie-recs")["status"] == "ACTIVE"
        creates = [i for i in wf.lambdas.invocations if i[0] == "deploy-campaign"]
        assert len(creates) == 1
        one_notification(wf)


def test_an_execution_not_started_by_the_trigger_is_still_notified():
    # E.g. started by hand from the console with its default input.
    with LocalWorkflow(seed=seed()) as wf:
        wf.sfn.start_execution(stateMachineArn=wf.state_machine_arn, name="by-hand", input='{"Comment": "x"}')
        [execution] = wf.wait_for_executions(1)
        path = wf.path(execution["executionArn"])
        assert (execution["status"], execution.get("error")) == ("FAILED", "DeploymentFailed")
        assert path == ["CheckRequest", "DeployCampaign", "DescribeOutcome", *NOTIFY, "Failed"]
        subject, _, notification = one_notification(wf)
        assert subject == "Personalize deployment FAILED"
        assert notification["detail"]["failureReason"].startswith("InvalidTaskInput: invalid task input: state.request is missing")
