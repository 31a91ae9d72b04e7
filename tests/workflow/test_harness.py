"""The harness itself: its time scaling of moto fails loudly when moto's
internals move and is undone on exit, a harness run leaves the calling
process's environment as it found it, and the events and versions it makes
are shaped like the real ones."""
import os
import re
import sys
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from workflow.harness.events import sample, scheduled_event
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.services import AdminError
from workflow.harness.time_scaling import WAIT_MODULE, MotoInternalsChanged, ShortWaits

ROOT = Path(__file__).resolve().parents[2]


def pinned_moto():
    requirements = (ROOT / "workflow" / "requirements.txt").read_text()
    return re.search(r"^moto\[server\]==(\S+)$", requirements, re.MULTILINE).group(1)


def test_short_waits_scales_waits_and_retries_and_puts_moto_back_on_exit():
    wait, retrier_time = WaitFunction._wait_interval, retrier_decl.time
    with ShortWaits(0.001) as waits:
        assert WaitFunction._wait_interval is not wait and retrier_decl.time is not retrier_time
        env = SimpleNamespace(program_state_event=threading.Event())
        started = time.perf_counter()
        WaitFunction._wait_interval(None, env, 100)
        retrier_decl.time.sleep(100)
        assert time.perf_counter() - started < 5  # 2 x 100 s at full length
        assert waits.waited == [100]
    assert WaitFunction._wait_interval is wait and retrier_decl.time is retrier_time
    with pytest.raises(ZeroDivisionError):
        with ShortWaits(0.001):
            1 / 0
    assert WaitFunction._wait_interval is wait and retrier_decl.time is retrier_time


@pytest.mark.parametrize("change, named", [
    (lambda mp: mp.delattr(WaitFunction, "_wait_interval"), "WaitFunction._wait_interval is missing"),
    (lambda mp: mp.setattr(WaitFunction, "_wait_interval", lambda self, env, seconds: None),
     "WaitFunction._wait_interval takes ['self', 'env', 'seconds']"),
    (lambda mp: mp.delattr(retrier_decl, "time"), "has no `time` module to replace"),
    (lambda mp: mp.setitem(sys.modules, WAIT_MODULE, None), f"cannot import {WAIT_MODULE}"),
])
def test_moved_moto_internals_fail_loudly_naming_the_pinned_version(monkeypatch, change, named):
    change(monkeypatch)
    wait, retrier_time = getattr(WaitFunction, "_wait_interval", None), getattr(retrier_decl, "time", None)
    with pytest.raises(MotoInternalsChanged) as caught:
        with ShortWaits(0.001):
            pytest.fail("entered with moto's internals changed")
    message = str(caught.value)
    assert message.startswith("moto's Step Functions internals changed: ")
    assert named in message
    assert f"; the harness is written for moto {pinned_moto()} (pinned in workflow/requirements.txt)" in message
    # Nothing was patched.
    assert getattr(WaitFunction, "_wait_interval", None) is wait
    assert getattr(retrier_decl, "time", None) is retrier_time


def callers_environment(monkeypatch):
    """An environment in which the caller set some of the variables the
    harness sets, to other values, and not the others: os.environ's copy."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "callers-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(name, raising=False)
    return dict(os.environ)


def test_a_harness_run_leaves_the_environment_as_it_found_it(monkeypatch):
    before = callers_environment(monkeypatch)
    seed = {"solutions": [{"name": "movies"}], "solutionVersions": [{"solution": "movies", "id": "5e6f7a8b"}]}
    with LocalWorkflow(seed=seed) as wf:
        assert os.environ["AWS_DEFAULT_REGION"] == "us-east-1"
        assert os.environ["AWS_ENDPOINT_URL_LAMBDA"] == wf.lambdas.url
        error, report = wf.trigger(sample("deployment-requested.json"))
        assert error is None, report
        [execution] = wf.wait_for_executions(1)
        assert execution["status"] == "SUCCEEDED"
    assert dict(os.environ) == before


def test_a_harness_that_fails_to_start_puts_back_all_it_started(monkeypatch, tmp_path):
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path))  # no binaries there
    before = callers_environment(monkeypatch)
    wait = WaitFunction._wait_interval
    wf = LocalWorkflow()
    with pytest.raises(FileNotFoundError, match="personalize-local is missing"):
        wf.__enter__()
    assert dict(os.environ) == before
    assert WaitFunction._wait_interval is wait
    with pytest.raises(OSError):  # moto's server, started before the failure, is stopped
        urllib.request.urlopen(f"{wf.moto_url}/moto-api/data.json", timeout=2)


def test_the_harness_makes_the_cloudtrail_event_of_a_version_it_trains():
    from workflow.harness.sample import SOLUTION, seed

    with LocalWorkflow(seed=seed()) as wf:
        arn, event = wf.train(SOLUTION)
        version = wf.personalize.client().describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
        assert version["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
    # Shaped like the sample: the same members, with this call's facts.
    reference = sample("cloudtrail-create-solution-version.json")
    assert set(event) == set(reference) and set(event["detail"]) == set(reference["detail"])
    assert (event["source"], event["detail-type"]) == ("aws.personalize", "AWS API Call via CloudTrail")
    detail = event["detail"]
    assert (detail["eventSource"], detail["eventName"]) == ("personalize.amazonaws.com", "CreateSolutionVersion")
    assert detail["requestParameters"] == {"solutionArn": SOLUTION, "trainingMode": "FULL"}
    assert detail["responseElements"] == {"solutionVersionArn": arn}
    assert "errorCode" not in detail and event["id"] != reference["id"]
    assert event["time"] == detail["eventTime"]


def test_the_harness_trains_a_version_as_automatic_training_would():
    from workflow.harness.sample import SOLUTION, seed

    manual = seed()
    manual["solutions"].append({"name": "news", "performAutoTraining": False})
    news = SOLUTION.replace("movies", "news")
    with LocalWorkflow(seed=manual) as wf:
        personalize = wf.personalize.client()
        arn = wf.auto_train(SOLUTION)
        assert re.fullmatch(re.escape(SOLUTION) + r"/[0-9a-f]{8}", arn), arn
        version = personalize.describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
        assert (version["trainingType"], version["trainingMode"]) == ("AUTOMATIC", "AUTOTRAIN")
        assert version["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
        newest = personalize.list_solution_versions(solutionArn=SOLUTION)["solutionVersions"][0]
        assert newest["solutionVersionArn"] == arn
        with pytest.raises(AdminError) as refused:
            wf.auto_train(news)
        versions = personalize.list_solution_versions()["solutionVersions"]
    assert refused.value.status == 400
    assert refused.value.answer["__type"] == "InvalidInputException"
    assert news in refused.value.answer["message"] and "performAutoTraining false" in str(refused.value)
    assert len(versions) == 3, "the sample's two and the automatic one; none for news"


def test_scheduled_events_are_shaped_like_eventbridges():
    rule = "arn:aws:events:eu-west-1:444455556666:rule/personalize-deployer-FollowLook-0Z9Y8X7W6V5U"
    reference = sample("scheduled-follow.json")
    # The sample is consistent: its account and region are its rule's.
    [sample_rule] = reference["resources"]
    assert sample_rule.split(":")[3:5] == [reference["region"], reference["account"]]
    assert sample_rule.split(":")[5].startswith("rule/personalize-deployer-FollowLook-")

    event = scheduled_event(rule, time=datetime(2026, 12, 6, 10, 30, 15, 999, tzinfo=timezone(timedelta(hours=1))))
    assert list(event) == list(reference)
    assert (event["version"], event["source"], event["detail-type"]) == ("0", "aws.events", "Scheduled Event")
    assert (event["account"], event["region"]) == ("444455556666", "eu-west-1")
    assert event["resources"] == [rule] and event["detail"] == {}
    assert event["time"] == "2026-12-06T09:30:15Z"
    assert uuid.UUID(event["id"]).version == 4 and event["id"] != reference["id"]
    assert scheduled_event(rule)["id"] != event["id"]
    # Naive times are UTC; no time is now.
    assert scheduled_event(rule, time=datetime(2026, 12, 6, 10, 30))["time"] == "2026-12-06T10:30:00Z"
    now = datetime.strptime(scheduled_event(rule)["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 5
