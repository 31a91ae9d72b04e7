"""End to end, following a solution: a CreateSolutionVersion call (its
CloudTrail event, as EventBridge delivers it) and the scheduled look each
start one execution per campaign that opted in with the tag
personalize-deployer:follow, which waits for the training and deploys; a
campaign without the tag is never touched; the same version found again, by
either way, starts nothing new."""
import json
import time
from datetime import datetime

from workflow.harness.events import scheduled_event
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV2, campaign_arn, seed

from steps import outputs, task_seconds, trigger

FOLLOW = {"tagKey": "personalize-deployer:follow", "tagValue": "true"}
LOOK_RULE = "arn:aws:events:us-east-1:111122223333:rule/personalize-deployer-FollowLook-1A2B3C4D5E6F"
NDCG = "normalized_discounted_cumulative_gain_at_10"


def campaign(name, *tags, tps=2):
    return {"name": name, "solutionVersionArn": SV2, "minProvisionedTPS": tps, "tags": list(tags)}


def followers():
    """movie-recs and movie-home follow movies (movie-home with TPS 5);
    movie-side serves it too, without the tag."""
    return seed(campaign("movie-recs", FOLLOW), campaign("movie-home", FOLLOW, tps=5),
                campaign("movie-side", {"tagKey": "team", "tagValue": "recs"}))


def deployed(wf, executions):
    """Each execution's campaign and how it ended."""
    return sorted((json_of(e)["request"]["campaignName"], e["status"]) for e in executions)


def json_of(execution):
    return json.loads(execution["input"])


def test_a_new_version_is_deployed_to_the_two_campaigns_that_follow_and_the_third_is_untouched():
    with LocalWorkflow(seed=followers()) as wf:
        side_before = wf.campaign("movie-side")
        version, call = wf.train(SOLUTION)
        report = trigger(wf, call)
        assert sorted(e["campaignName"] for e in report["executions"]) == ["movie-home", "movie-recs"]
        assert any("movie-side" in note and "not following" in note for note in report["ignored"])
        # EventBridge delivers at least once: the same event again, while the
        # executions wait for the training, is the same two executions.
        again = trigger(wf, call)
        assert sorted(e["name"] for e in again["executions"]) == sorted(e["name"] for e in report["executions"])
        assert len(wf.executions()) == 2
        executions = wf.wait_for_executions(2, timeout=90)
        assert deployed(wf, executions) == [("movie-home", "SUCCEEDED"), ("movie-recs", "SUCCEEDED")]
        for execution in executions:
            path = wf.path(execution["executionArn"])
            assert path.count("CheckTraining") >= 2, "waited for the training"
            assert path[-1] == "Deployed"
        recs, home = wf.campaign("movie-recs"), wf.campaign("movie-home")
        assert recs["solutionVersionArn"] == version and home["solutionVersionArn"] == version
        assert (recs["minProvisionedTPS"], home["minProvisionedTPS"]) == (2, 5), "each keeps its TPS"
        assert wf.campaign("movie-side") == side_before
        sns, events = wf.notifications()
        assert len(sns) == 2 and len(events) == 2
        assert sorted(e["detail"]["campaignName"] for e in events) == ["movie-home", "movie-recs"]
        for event in events:
            assert event["detail"]["origin"] == {
                "type": "follow", "campaignArn": campaign_arn(event["detail"]["campaignName"]),
                "solutionVersionArn": version}
            assert event["detail"]["training"]["status"] == "ACTIVE"

        # And once deployed, the version is served: nothing to start.
        again = trigger(wf, call)
        assert again["executions"] == []
        assert sum(f"serves {version} already" in note for note in again["ignored"]) == 2
        assert len(wf.executions()) == 2
        assert wf.notifications() == ([], [])


def test_the_scheduled_look_deploys_a_version_that_automatic_training_made():
    with LocalWorkflow(seed=followers()) as wf:
        look = scheduled_event(LOOK_RULE)
        assert trigger(wf, look)["executions"] == [], "nothing newer yet"
        version = wf.auto_train(SOLUTION)
        client = wf.personalize.client()
        assert client.describe_solution_version(solutionVersionArn=version)[
            "solutionVersion"]["trainingType"] == "AUTOMATIC"
        # Found while it trains: its executions wait for it.
        report = trigger(wf, look)
        assert sorted(e["campaignName"] for e in report["executions"]) == ["movie-home", "movie-recs"]
        assert all(e["status"] == "STARTED" for e in report["executions"])
        executions = wf.wait_for_executions(2, timeout=90)
        assert deployed(wf, executions) == [("movie-home", "SUCCEEDED"), ("movie-recs", "SUCCEEDED")]
        for execution in executions:
            assert wf.path(execution["executionArn"]).count("CheckTraining") >= 2, "waited for the training"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == version
        assert wf.campaign("movie-side")["solutionVersionArn"] == SV2
        # The next look finds them serving the newest version.
        report = trigger(wf, scheduled_event(LOOK_RULE))
        assert report["executions"] == []
        assert len(wf.executions()) == 2
        assert len(wf.notifications()[0]) == 2


def test_the_look_finds_a_training_and_its_execution_notices_the_end_within_seconds():
    """Real waits. The solution's earlier automatic training took 12 s; the
    look finds the next one training; its execution polls every 3 s until
    the window around the expected end (8.4 s to 15.6 s after its creation),
    where one training check stays and looks every second until it sees the
    version ACTIVE."""
    history = {"solution": "movies", "id": "0e0e0e0e", "ageSeconds": 86400, "trainingSeconds": 12,
               "trainingMode": "AUTOTRAIN", "trainingType": "AUTOMATIC"}
    data = seed(campaign("movie-recs", FOLLOW))
    data["solutionVersions"].append(history)
    with LocalWorkflow(
        seed=data, time_scale=1.0,
        env={"TRAINING_POLL_SECONDS": "3", "TRAINING_DEADLINE_SECONDS": "600", "TRAINING_HOLD_SECONDS": "1"},
        # 12 s of training at personalize-local's speed (600).
        personalize_args=["--solution-version-training-seconds", "7200"],
    ) as wf:
        version = wf.auto_train(SOLUTION)
        [started] = trigger(wf, scheduled_event(LOOK_RULE))["executions"]
        assert started["status"] == "STARTED"
        [execution] = wf.wait_for_executions(1, timeout=60)
        assert execution["status"] == "SUCCEEDED"
        reports = [o["training"] for o in outputs(wf, execution, "CheckTraining")]
        assert [r["outcome"] for r in reports] == ["IN_PROGRESS"] * (len(reports) - 1) + ["ACTIVE"], reports
        created = wf.personalize.client().describe_solution_version(
            solutionVersionArn=version)["solutionVersion"]["creationDateTime"]
        for r in reports:
            started = datetime.fromisoformat(r["expected"].pop("startedAt").replace("Z", "+00:00"))
            assert abs((started - created).total_seconds()) < 1, (started, created)
            assert r["expected"] == {"seconds": 12, "trainingMode": "AUTOTRAIN", "trainings": 1}, reports
        # A poll every 3 s would make as many, and notice the end up to 3 s late.
        assert len(reports) <= 5, reports
        spans = task_seconds(wf, execution, "CheckTraining")
        assert spans[-1] >= 0.9 and max(spans[:-1]) < 0.5, spans
        trained = wf.personalize.client().describe_solution_version(
            solutionVersionArn=version)["solutionVersion"]["lastUpdatedDateTime"]
        [noticed] = [e["timestamp"] for e in wf.history(execution["executionArn"])
                     if e.get("stateExitedEventDetails", {}).get("name") == "CheckTraining"][-1:]
        lag = (noticed - trained).total_seconds()
        assert 0 <= lag <= 2, f"noticed {lag:.2f} s after the training ended"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == version
        assert len(wf.notifications()[0]) == 1


def test_a_version_the_cloudtrail_path_started_is_not_started_again_by_the_look():
    """The CloudTrail path's executions were held back by the gate (the
    campaigns still serve the older version): the look, which finds the newer
    version every time, meets the same executions and starts nothing."""
    gate = {"tagKey": "personalize-deployer:gate-metric", "tagValue": NDCG}
    minimum = {"tagKey": "personalize-deployer:gate-min-value", "tagValue": "0.5"}
    with LocalWorkflow(seed=seed(campaign("movie-recs", FOLLOW, gate, minimum))) as wf:
        version, call = wf.train(SOLUTION)
        wf.personalize.admin("/metrics", {"solutionVersionArn": version, "metrics": {NDCG: 0.2}})
        trigger(wf, call)
        [execution] = wf.wait_for_executions(1, timeout=90)
        assert wf.path(execution["executionArn"])[-1] == "Gated"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        for _ in range(2):
            report = trigger(wf, scheduled_event(LOOK_RULE))
            [seen] = report["executions"]
            assert (seen["name"], seen["status"]) == (execution["name"], "ALREADY_HANDLED")
        assert len(wf.executions()) == 1
        sns, _ = wf.notifications()
        assert [subject for subject, _ in sns] == [
            "Personalize campaign movie-recs: new version held back by the metric gate"]


def wait_active(client, version, timeout=30.0):
    deadline = time.time() + timeout
    while client.describe_solution_version(solutionVersionArn=version)["solutionVersion"]["status"] != "ACTIVE":
        assert time.time() < deadline, "training did not end"
        time.sleep(0.05)


def test_a_version_whose_training_outlasted_the_deadline_is_deployed_when_the_look_finds_it_trained():
    """The CloudTrail path's execution gave up on a week-long training
    (TRAINING_TIMED_OUT); a look while it still trains starts nothing; when
    the training has ended, the look tries once more, under another name,
    and deploys; the next look starts nothing."""
    with LocalWorkflow(seed=seed(campaign("movie-recs", FOLLOW)), env={"TRAINING_DEADLINE_SECONDS": "2"},
                       personalize_args=["--solution-version-training-seconds", "604800"]) as wf:
        version, call = wf.train(SOLUTION)
        trigger(wf, call)
        [gave_up] = wf.wait_for_executions(1, timeout=60)
        assert (gave_up["status"], gave_up.get("error")) == ("FAILED", "TrainingTimedOut")
        # Still training: the look finds the same execution and tries no
        # other, which would wait in vain.
        [seen] = trigger(wf, scheduled_event(LOOK_RULE))["executions"]
        assert (seen["name"], seen["status"]) == (gave_up["name"], "ALREADY_HANDLED")
        assert len(wf.executions()) == 1
        wf.personalize.admin("/clock", {"advanceSeconds": 8 * 24 * 3600})
        wait_active(wf.personalize.client(), version)
        report = trigger(wf, scheduled_event(LOOK_RULE))
        [retry] = report["executions"]
        assert retry["status"] == "STARTED" and retry["name"] != gave_up["name"]
        executions = wf.wait_for_executions(2, timeout=60)
        [deployed_now] = [e for e in executions if e["name"] == retry["name"]]
        assert deployed_now["status"] == "SUCCEEDED"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == version
        assert [s for s, _ in wf.notifications()[0]] == [
            "Personalize campaign movie-recs: training TIMED OUT, nothing deployed",
            "Personalize campaign movie-recs: deployment succeeded (UPDATE)"]
        assert trigger(wf, scheduled_event(LOOK_RULE))["executions"] == []
        assert len(wf.executions()) == 2
