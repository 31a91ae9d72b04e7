"""Static properties of the state machine in template.yaml that the offline
interpreter would not reveal."""
import json
import re
from pathlib import Path

from workflow.definition import definition, state_machine

ROOT = Path(__file__).resolve().parents[2]


def states():
    return json.loads(definition())["States"]


def handler_error_types():
    """The errorType names the Rust handlers report (src/error.rs)."""
    source = (ROOT / "src" / "error.rs").read_text()
    body = source.split("pub fn error_type")[1].split("\n    }\n")[0]
    return set(re.findall(r'=> "([A-Za-z]+)"', body))


# Error names Step Functions and its integrations report, as documented.
SERVICE_ERRORS = {
    "States.ALL", "States.TaskFailed", "States.Timeout",
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException",
}


def test_retry_and_catch_only_name_errors_that_exist():
    known = handler_error_types()
    assert {"CampaignBusy", "Throttled", "ServiceUnavailable"} <= known
    for name, state in states().items():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            for error in clause["ErrorEquals"]:
                assert error in SERVICE_ERRORS or error in known, f"{name}: {error}"


def test_choices_read_only_members_that_are_always_there_or_guarded():
    """moto's interpreter takes Default on a missing path where AWS fails the
    execution: every Choice must read members the handlers always return
    (StatusReport's outcome, final, succeeded) or guard them with IsPresent."""
    always = {"$.status.final", "$.status.succeeded", "$.status.outcome"}

    def check(rule, guarded):
        for key in ("And", "Or"):
            if key in rule:
                present = {r["Variable"] for r in rule[key] if r.get("IsPresent") is True}
                for r in rule[key]:
                    check(r, guarded | present)
                return
        if "Not" in rule:
            return check(rule["Not"], guarded)
        variable = rule["Variable"]
        assert "IsPresent" in rule or variable in always or variable in guarded, variable

    workflow_rs = (ROOT / "src" / "domain" / "workflow.rs").read_text()
    for member in ("outcome", "is_final", "succeeded"):
        assert f"pub {member}:" in workflow_rs
    for state in states().values():
        for rule in state.get("Choices", []):
            check(rule, set())


def test_every_task_catches_everything():
    for name, state in states().items():
        if state["Type"] == "Task":
            catches = [c for c in state.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
            assert catches, f"{name} has no Catch for States.ALL"


def test_every_path_to_an_end_notifies():
    """From every state, each way to a terminal state passes NotifyTopic and
    PublishEvent (terminal states are only reachable through Finish)."""
    s = states()
    terminal = {n for n, st in s.items() if st["Type"] in ("Succeed", "Fail")}

    def successors(name):
        st = s[name]
        out = [st["Next"]] if "Next" in st else []
        out += [c["Next"] for c in st.get("Choices", [])] + ([st["Default"]] if "Default" in st else [])
        out += [c["Next"] for c in st.get("Catch", [])]
        return out

    def reaches_terminal_without(name, avoid, seen):
        if name in avoid or name in seen:
            return False
        if name in terminal:
            return True
        seen.add(name)
        return any(reaches_terminal_without(n, avoid, seen) for n in successors(name))

    for notify in ("NotifyTopic", "PublishEvent"):
        for start in s:
            if start in terminal or start in ("PublishEvent", "Finish") or start == notify:
                continue
            assert not reaches_terminal_without(start, {notify}, set()), f"{start} can end without {notify}"


def test_waits_come_from_the_handler_and_the_backstop_exceeds_the_deadline():
    s = states()
    assert s["WaitForCampaign"]["SecondsPath"] == "$.status.waitSeconds"
    parameters = state_machine()
    template = (ROOT / "template.yaml").read_text()
    max_deadline = int(re.search(r"DeploymentDeadlineSeconds:.*?MaxValue: (\d+)", template, re.S).group(1))
    assert json.loads(definition())["TimeoutSeconds"] > max_deadline + 3600
    assert parameters["Type"] == "STANDARD"
