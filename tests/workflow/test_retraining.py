"""End to end, from retraining to serving: a request for a version still
training is waited for and then deployed; a training that fails, is stopped or
overruns its deadline deploys nothing; the metric gate lets a model through
or holds it back before anything is written. The state machine of
template.yaml runs in moto, its tasks are the real Lambda binaries, and
personalize-local trains (an hour of training is 6 s here)."""
import copy

from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV1, SV2, seed

from steps import NOTIFY, TRAINING_LOOP, one_notification, requested, run, serving

NDCG = "normalized_discounted_cumulative_gain_at_10"


def with_metrics(data, **by_version):
    """The seed with each version's metrics (by its id)."""
    data = copy.deepcopy(data)
    for version in data["solutionVersions"]:
        if version["id"] in by_version:
            version["metrics"] = by_version[version["id"]]
    return data


def request(version, event_id="7b8c9d0e-0000-4000-8000-000000000001", gate=None):
    event = requested()
    event["id"] = event_id
    event["detail"]["solutionVersionArn"] = version
    if gate is not None:
        event["detail"]["gate"] = gate
    return event


def test_a_version_still_training_is_waited_for_then_deployed():
    with LocalWorkflow(seed=seed(serving(SV1))) as wf:
        version, _ = wf.train(SOLUTION)
        execution, path = run(wf, request(version))
        assert execution["status"] == "SUCCEEDED"
        # Polled while it trained, and nothing deployed before it was ACTIVE.
        assert path[:4] == ["CheckRequest", *TRAINING_LOOP]
        checks = path.count("CheckTraining")
        assert checks >= 3, path
        first_deploy = path.index("DeployCampaign")
        assert path[first_deploy - 2:first_deploy] == ["CheckTraining", "CheckTrained"]
        assert "WaitForTraining" not in path[first_deploy:]
        campaign = wf.campaign("movie-recs")
        assert campaign["solutionVersionArn"] == version and campaign["status"] == "ACTIVE"
        subject, message, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (UPDATE)"
        training = event["detail"]["training"]
        assert training["solutionVersionArn"] == version
        assert training["status"] == "ACTIVE" and training["failureReason"] is None
        assert training["trainingHours"] > 0
        assert event["detail"]["gate"] is None
        assert "Training:         ACTIVE, " in message
        # One line of metrics, with the wait for training.
        [metrics] = wf.metrics(execution["executionArn"])
        assert (metrics["Outcome"], metrics["CampaignName"], metrics["Deployments"]) == ("ACTIVE", "movie-recs", 1)
        assert metrics["TrainingPolls"] == checks and metrics["TrainingWait"] > 0
        assert metrics["Polls"] == path.count("PollCampaign")


def test_a_failed_training_deploys_nothing_and_is_notified_with_its_reason():
    with LocalWorkflow(seed=seed(serving(SV1))) as wf:
        wf.personalize.admin("/faults", {"trainingFailures": [
            {"solutionVersionArn": SOLUTION, "reason": "Not enough interactions for the solution"}]})
        version, _ = wf.train(SOLUTION)
        execution, path = run(wf, request(version))
        assert execution["status"] == "FAILED"
        assert "DeployCampaign" not in path
        assert path[-6:] == ["CheckTrained", "DescribeOutcome", *NOTIFY, "Failed"]
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        assert "latestCampaignUpdate" not in wf.campaign("movie-recs")
        subject, message, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: training FAILED, nothing deployed"
        assert event["detail-type"] == "Campaign Deployment Training Failed"
        detail = event["detail"]
        assert (detail["status"], detail["outcome"]) == ("TRAINING_FAILED", "TRAINING_FAILED")
        assert detail["failureReason"] == "Not enough interactions for the solution"
        assert detail["training"]["status"] == "CREATE FAILED"
        assert detail["training"]["failureReason"] == "Not enough interactions for the solution"
        assert detail["operation"] is None and detail["gate"] is None
        assert "Reason:           Not enough interactions for the solution" in message


def test_a_stopped_training_deploys_nothing_and_is_told_not_alarmed():
    with LocalWorkflow(seed=seed(serving(SV1))) as wf:
        version, _ = wf.train(SOLUTION)
        error, report = wf.trigger(request(version))
        assert error is None, report
        wf.personalize.client().stop_solution_version_creation(solutionVersionArn=version)
        [execution] = wf.wait_for_executions(1)
        path = wf.path(execution["executionArn"])
        assert execution["status"] == "SUCCEEDED"
        assert path[-1] == "TrainingStopped" and "DeployCampaign" not in path
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        subject, _, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: training STOPPED, nothing deployed"
        assert event["detail-type"] == "Campaign Deployment Training Stopped"
        assert event["detail"]["training"]["status"] in ("CREATE STOPPING", "CREATE STOPPED")


def test_a_training_past_its_deadline_times_out_without_a_campaign_call():
    # The deadline is in the Lambdas' own (real) seconds; the training takes
    # a week.
    with LocalWorkflow(seed=seed(serving(SV1)), env={"TRAINING_DEADLINE_SECONDS": "2"},
                       personalize_args=["--solution-version-training-seconds", "604800"]) as wf:
        version, _ = wf.train(SOLUTION)
        execution, path = run(wf, request(version))
        assert execution["status"] == "FAILED"
        assert (execution["error"], path[-1]) == ("TrainingTimedOut", "TrainingTimedOut")
        assert "DeployCampaign" not in path
        subject, _, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: training TIMED OUT, nothing deployed"
        detail = event["detail"]
        assert detail["status"] == "TRAINING_TIMED_OUT"
        assert detail["failureReason"].startswith("training not finished 2s after the deployment was requested")
        assert detail["training"]["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
        # Reported at the deadline, not a poll later.
        assert detail["durationSeconds"] < 2 + 3
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1


def test_a_model_within_the_gate_is_deployed_and_both_values_notified():
    data = with_metrics(seed(serving(SV1)), **{"1a2b3c4d": {NDCG: 0.30}, "5e6f7a8b": {NDCG: 0.29}})
    with LocalWorkflow(seed=data) as wf:
        execution, path = run(wf, request(SV2, gate={"metric": NDCG, "maxDrop": 0.02}))
        assert execution["status"] == "SUCCEEDED" and path[-1] == "Deployed"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        subject, message, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: deployment succeeded (UPDATE)"
        gate = event["detail"]["gate"]
        assert gate == {"metric": NDCG, "candidate": 0.29, "current": 0.30, "maxDrop": 0.02,
                        "maxRelativeDrop": None, "minValue": None, "passed": True, "reason": None}
        assert f"Metric gate:      {NDCG} new 0.29 (served 0.3): passed" in message


def test_a_worse_model_is_held_back_nothing_written_and_skipped_notified_once():
    data = with_metrics(seed(serving(SV1)), **{"1a2b3c4d": {NDCG: 0.30}, "5e6f7a8b": {NDCG: 0.25}})
    with LocalWorkflow(seed=data) as wf:
        before = wf.campaign("movie-recs")
        execution, path = run(wf, request(SV2, gate={"metric": NDCG, "maxDrop": 0.02, "minValue": 0.2}))
        assert execution["status"] == "SUCCEEDED" and path[-1] == "Gated"
        # No poll loop: the outcome was known when DeployCampaign returned.
        assert path.count("PollCampaign") == 1 and "WaitForCampaign" not in path
        after = wf.campaign("movie-recs")
        assert after == before, "nothing was written"
        subject, message, event = one_notification(wf)
        assert subject == "Personalize campaign movie-recs: new version held back by the metric gate"
        assert event["detail-type"] == "Campaign Deployment Skipped"
        detail = event["detail"]
        assert (detail["status"], detail["operation"]) == ("GATED", "NONE")
        assert detail["gate"]["passed"] is False
        assert (detail["gate"]["candidate"], detail["gate"]["current"]) == (0.25, 0.30)
        assert detail["gate"]["reason"] == "it dropped by 0.05 from 0.3, more than the allowed 0.02"
        assert detail["failureReason"] == (
            f"the metric gate held {SV2} back: it dropped by 0.05 from 0.3, more than the allowed 0.02")
        assert detail["previousSolutionVersionArn"] == SV1
        assert "FAILED, it dropped by 0.05" in message


def test_a_metric_the_versions_do_not_report_holds_the_model_back_naming_those_they_do():
    data = with_metrics(seed(serving(SV1)), **{"1a2b3c4d": {"coverage": 0.5, NDCG: 0.3},
                                               "5e6f7a8b": {"coverage": 0.6, NDCG: 0.31}})
    with LocalWorkflow(seed=data) as wf:
        execution, path = run(wf, request(SV2, gate={"metric": "hit", "minValue": 0.1}))
        assert execution["status"] == "SUCCEEDED" and path[-1] == "Gated"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        _, _, event = one_notification(wf)
        gate = event["detail"]["gate"]
        assert gate["passed"] is False and gate["candidate"] is None
        assert gate["reason"] == (
            f'the candidate version reports no metric "hit"; it reports: coverage, {NDCG}')


def test_the_stack_default_gate_applies_to_requests_without_one():
    data = with_metrics(seed(serving(SV1)), **{"1a2b3c4d": {NDCG: 0.30}, "5e6f7a8b": {NDCG: 0.10}})
    env = {"DEFAULT_GATE_METRIC": NDCG, "DEFAULT_GATE_MIN_VALUE": "0.2"}
    with LocalWorkflow(seed=data, env=env) as wf:
        execution, path = run(wf, request(SV2))
        assert path[-1] == "Gated"
        _, _, event = one_notification(wf)
        assert event["detail"]["gate"]["minValue"] == 0.2
        assert event["detail"]["gate"]["reason"] == "0.1 is below the minimum 0.2"
        # "gate": "none" deploys without it.
        error, report = wf.trigger(request(SV2, event_id="7b8c9d0e-0000-4000-8000-000000000002", gate="none"))
        assert error is None, report
        executions = wf.wait_for_executions(2)
        [second] = [e for e in executions if "000000000002" in e["input"]]
        assert wf.path(second["executionArn"])[-1] == "Deployed"
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
