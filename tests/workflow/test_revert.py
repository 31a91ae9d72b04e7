"""End to end, the way back on request and the record it reads: a "Campaign
Rollback Requested" event returns a campaign to its last known good version
(recorded in the campaign's tags when the deployment it undoes started, with
no execution running since) or to a version it names; a followed campaign's
version that a watch rolled back is left alone by the next look and by a
redelivered CloudTrail event. The state machine of template.yaml in moto's
interpreter, the real Lambda binaries, personalize-local."""
from workflow.contract import CONTRACT
from workflow.harness.events import sample, scheduled_event
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV1, SV2, campaign_arn

from steps import trigger as report_of
from test_watch import FAST_LOOKS, SV3, by_execution, ended, request, serving, trigger, versions, wait_until, \
    watching

RECORD = CONTRACT["record"]
LOOK_RULE = "arn:aws:events:us-east-1:111122223333:rule/personalize-deployer-FollowLook-1A2B3C4D5E6F"


def rollback_requested(name, n, **detail):
    event = sample("rollback-requested.json")
    assert event["detail-type"] == CONTRACT["notification"]["rollbackDetailType"]
    event["id"] = f"33333333-0000-4000-8000-{n:012d}"
    event["detail"] = dict(campaignArn=campaign_arn(name), **detail)
    return event


def tags_of(wf, name):
    listed = wf.personalize.client().list_tags_for_resource(resourceArn=campaign_arn(name))["tags"]
    return {t["tagKey"]: t["tagValue"] for t in listed}


def one_execution(wf, event):
    error, report = wf.trigger(event)
    assert error is None, report
    [execution] = report["executions"]
    return execution


def test_a_revert_returns_to_the_last_known_good_then_to_a_named_version():
    """movie-recs serves SV1 (TPS 1, weight 0.1). A revert before anything
    was recorded is rejected and notified. SV3 (TPS 2, weight 0.3) is
    deployed and kept; a revert to the last known good puts SV1 back with
    TPS 1 and weight 0.1 (no gate, no watch: the stack's watch is not
    applied); a revert to SV2 at TPS 3 serves SV2 with the configuration
    kept. One notification each."""
    stack_watch = {"WATCH_ALARMS": "recs-{campaign}-5xx", "WATCH_MINUTES": "60"}
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving("movie-recs")]),
                       env=dict(FAST_LOOKS, **stack_watch)) as wf:
        wf.put_alarm("recs-movie-recs-5xx", "OK")
        early = one_execution(wf, rollback_requested("movie-recs", 1))
        assert early["rejected"]
        ended(wf, [early["executionArn"]])
        _, events = by_execution(wf)
        [rejected] = events[early["executionArn"]]
        assert rejected["detail"]["status"] == "REJECTED"
        [error] = rejected["detail"]["errors"]
        assert error["field"] == "campaignArn" and "no last known good version recorded" in error["rule"], error

        deployed = trigger(wf, request("movie-recs", version=SV3, watch="none", n=1))
        assert ended(wf, [deployed])[deployed]["status"] == "SUCCEEDED"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV3
        tags = tags_of(wf, "movie-recs")
        assert (tags[RECORD["goodVersionTag"]], tags[RECORD["goodTpsTag"]]) == (SV1, "1")
        assert tags[RECORD["goodConfigTag"]] == \
            "exploration.explorationItemAgeCutOff=30 exploration.explorationWeight=0.1"
        wf.notifications()

        back = one_execution(wf, rollback_requested("movie-recs", 2, reason="CTR fell in the weekly review"))
        assert not back["rejected"] and back["origin"].startswith("rollback requested")
        arn = back["executionArn"]
        assert ended(wf, [arn])[arn]["status"] == "SUCCEEDED"
        campaign = wf.campaign("movie-recs")
        assert (campaign["solutionVersionArn"], campaign["minProvisionedTPS"]) == (SV1, 1)
        assert campaign["campaignConfig"]["itemExplorationConfig"]["explorationWeight"] == "0.1"
        assert "WatchAlarms" not in wf.path(arn)
        sns, events = by_execution(wf)
        assert len(sns) == 1 and list(events) == [arn]
        detail = events[arn][0]["detail"]
        assert (detail["status"], detail["gate"], detail["watch"]) == ("SUCCEEDED", None, None)
        assert detail["origin"]["type"] == "rollback"
        assert detail["origin"]["reason"] == "CTR fell in the weekly review"
        assert detail["previousSolutionVersionArn"] == SV3
        # The deployment history shows it as a revert.
        [line] = wf.metrics(arn)
        assert (line["Origin"], line["SolutionVersionArn"], line["Outcome"]) == ("rollback", SV1, "ACTIVE")
        # The version it left is recorded, with why.
        tags = tags_of(wf, "movie-recs")
        assert tags[RECORD["rolledBackVersionTag"]] == SV3
        assert tags[RECORD["rolledBackWhyTag"]] == \
            "reverted on request 33333333-0000-4000-8000-000000000002: CTR fell in the weekly review"

        named = one_execution(wf, rollback_requested("movie-recs", 3, solutionVersionArn=SV2,
                                                     minProvisionedTPS=3))
        arn = named["executionArn"]
        assert ended(wf, [arn])[arn]["status"] == "SUCCEEDED"
        campaign = wf.campaign("movie-recs")
        assert (campaign["solutionVersionArn"], campaign["minProvisionedTPS"]) == (SV2, 3)
        assert campaign["campaignConfig"]["itemExplorationConfig"]["explorationWeight"] == "0.1"
        sns, events = by_execution(wf)
        assert len(sns) == 1 and events[arn][0]["detail"]["origin"]["type"] == "rollback"


def test_a_followed_campaigns_rolled_back_version_is_left_alone_by_the_look_and_a_redelivered_call():
    """movie-recs follows its solution, watched with its 5xx alarm (its
    tags). A new version is trained, deployed, and rolled back by the alarm.
    The same CloudTrail event delivered again, and the scheduled look, start
    nothing for it, and say that it was rolled back, when and why."""
    followed = dict(serving("movie-recs"), tags=[
        {"tagKey": "personalize-deployer:follow", "tagValue": "true"},
        {"tagKey": "personalize-deployer:watch-alarms", "tagValue": "recs-movie-recs-5xx"},
        {"tagKey": "personalize-deployer:watch-minutes", "tagValue": "60"},
    ])
    with LocalWorkflow(seed=dict(versions(), campaigns=[followed]), env=FAST_LOOKS) as wf:
        wf.put_alarm("recs-movie-recs-5xx", "OK")
        version, call = wf.train(SOLUTION)
        [execution] = report_of(wf, call)["executions"]
        arn = execution["executionArn"]
        wait_until(lambda: watching(wf, arn), timeout=120)
        wf.set_alarm("recs-movie-recs-5xx", "ALARM", "Threshold Crossed: 1 datapoint [3.0] >= 1.0")
        assert ended(wf, [arn])[arn].get("error") == "DeploymentRolledBack"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        tags = tags_of(wf, "movie-recs")
        assert tags[RECORD["rolledBackVersionTag"]] == version
        assert tags[RECORD["goodVersionTag"]] == SV1
        why = tags[RECORD["rolledBackWhyTag"]]
        assert why == "alarm recs-movie-recs-5xx: Threshold Crossed: 1 datapoint 3.0 at or above 1.0", why
        wf.notifications()

        for event in (call, scheduled_event(LOOK_RULE)):
            report = report_of(wf, event)
            assert report["executions"] == [], report
            note = next(n for n in report["ignored"] if "was rolled back at" in n)
            assert note.startswith(f"{campaign_arn('movie-recs')}: {version} was rolled back at ")
            assert f"({why}); a deployment request deploys it again" in note
        assert len(wf.executions()) == 1
        assert wf.notifications() == ([], [])
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1

