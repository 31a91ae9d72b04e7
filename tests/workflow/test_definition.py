"""Static properties of the state machine in template.yaml that the offline
interpreter would not reveal."""
import json
import re
from pathlib import Path

from workflow.contract import CONTRACT, ERRORS, OUTCOMES, SCHEDULE
from workflow.definition import definition, function_timeouts, load_template, state_machine

ROOT = Path(__file__).resolve().parents[2]


def states():
    return json.loads(definition())["States"]


def handler_error_types():
    """The errorType names the Rust handlers report (the contract)."""
    return set(ERRORS)


# Error names Step Functions and its integrations report, as documented.
SERVICE_ERRORS = {
    "States.ALL", "States.TaskFailed", "States.Timeout",
    "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException", "Lambda.Unknown",
    "Sandbox.Timedout",
    "SNS.ThrottledException", "SNS.InternalErrorException", "SNS.KMSThrottlingException",
    "SNS.KmsThrottlingException",
    "EventBridge.FailedEntry", "EventBridge.AmazonEventBridgeException", "EventBridge.EventBridgeException",
    "EventBridge.InternalException",
}
# How a Lambda task that timed out or crashed fails.
CRASHES = {"Sandbox.Timedout", "Lambda.Unknown", "Lambda.ClientExecutionTimeoutException", "States.Timeout"}
# A Standard execution fails, uncatchably, at this many history events.
HISTORY_LIMIT = 25_000


def lambda_tasks():
    return {n: s for n, s in states().items() if s["Type"] == "Task" and ":function:" in s["Resource"]}


def retries(state):
    """How many times a state's task may be attempted again, at most."""
    return sum(r.get("MaxAttempts", 3) for r in state.get("Retry", []))


def test_retry_and_catch_only_name_errors_that_exist():
    known = handler_error_types()
    assert {"CampaignBusy", "Throttled", "ServiceUnavailable"} <= known
    for name, state in states().items():
        for clause in state.get("Retry", []) + state.get("Catch", []):
            for error in clause["ErrorEquals"]:
                assert error in SERVICE_ERRORS or error in known, f"{name}: {error}"


def test_only_errors_that_may_pass_are_retried_and_each_of_them_is():
    """A Retry names the handlers' errors that the Rust side says may pass
    (and no other); each of those is retried by the task that may raise it."""
    retried = set()
    for name, state in states().items():
        for clause in state.get("Retry", []):
            for error in clause["ErrorEquals"]:
                if error in ERRORS:
                    assert ERRORS[error] == "always", f"{name} retries {error}, which does not pass"
                    retried.add(error)
    assert retried == {e for e, retry in ERRORS.items() if retry == "always"}


def test_choices_read_only_members_that_are_always_there_or_guarded():
    """moto's interpreter takes Default on a missing path where AWS fails the
    execution: every Choice must read members the handlers always return
    (StatusReport's outcome, final, succeeded) or guard them with IsPresent."""
    present = CONTRACT["state"]["alwaysPresent"]
    always = ({f"$.training.{member}" for member in present["training"]}
              | {f"$.status.{member}" for member in present["status"]}
              | {f"$.watch.{member}" for member in present["watch"]})
    assert {"$.status.final", "$.status.succeeded", "$.status.outcome", "$.status.next",
            "$.training.ready", "$.training.final", "$.watch.verdict", "$.watch.waitSeconds"} <= always

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


def test_waits_come_from_the_handler_and_the_backstop_exceeds_the_deadlines():
    """The waits are the handler's; the backstop outlasts the longest training,
    the deployment deadlines an execution may spend (a wait for a busy
    campaign, the deployment, a rollback) and the longest watch, each the
    longest the parameters allow, with an hour to spare."""
    s = states()
    assert s["WaitForCampaign"]["SecondsPath"] == "$.status.waitSeconds"
    assert s["WaitForTraining"]["SecondsPath"] == "$.training.waitSeconds"
    assert s["WaitForWatch"]["SecondsPath"] == "$.watch.waitSeconds"
    parameters = state_machine()
    template = (ROOT / "template.yaml").read_text()

    def max_value(name):
        return int(re.search(name + r":.*?MaxValue: (\d+)", template, re.S).group(1))

    longest = (SCHEDULE["deploymentDeadlines"] * max_value("DeploymentDeadlineSeconds")
               + max_value("TrainingDeadlineSeconds") + 60 * SCHEDULE["maxWatchMinutes"])
    assert max_value("WatchMinutes") == SCHEDULE["maxWatchMinutes"]
    assert json.loads(definition())["TimeoutSeconds"] > longest + 3600
    assert parameters["Type"] == "STANDARD"


def test_a_task_that_times_out_or_dies_is_retried_a_bounded_number_of_times():
    """A function time-out or crash is retried (the tasks are safe to repeat),
    a bounded number of times, and a task waits for its function only so
    long."""
    template = load_template()
    default_timeout = template["Globals"]["Function"]["Timeout"]
    timeouts = function_timeouts(template)

    def function_timeout(state):
        return timeouts[state["Resource"].rsplit(":", 1)[-1]]

    tasks = lambda_tasks()
    assert set(tasks) == {"CheckTraining", "DeployCampaign", "PollCampaign", "DescribeOutcome",
                          "WatchAlarms", "RollBack"}
    for name, state in tasks.items():
        [crash] = [r for r in state["Retry"] if CRASHES <= set(r["ErrorEquals"])]
        assert 1 <= crash["MaxAttempts"] <= 3, name
        # Longer than the function may run (no second invocation while the
        # first goes on), not much longer.
        own = function_timeout(state)
        assert own < state["TimeoutSeconds"] <= 2 * own + 30, name
    # Only campaign-status may run long (a check that holds around the
    # expected end, at most its policy's longest hold, then a last look
    # within HOLD_MARGIN); the other tasks answer in seconds.
    own = function_timeout(tasks["PollCampaign"])
    assert own == 900
    margin = SCHEDULE["holdMarginSeconds"]
    assert max(SCHEDULE["maxHoldSeconds"], SCHEDULE["campaign"]["maxHoldSeconds"]) + margin < own
    assert SCHEDULE["training"]["maxHoldSeconds"] + SCHEDULE["trainingHoldMarginSeconds"] < own
    assert function_timeout(tasks["DeployCampaign"]) == default_timeout == 30
    # Every task waits only so long; the notifications' time-outs are not
    # retried (the message may have been accepted).
    for name, state in states().items():
        if state["Type"] == "Task" and name not in tasks:
            assert 0 < state["TimeoutSeconds"] <= 120, name


def test_the_fallback_notification_carries_every_key_of_the_detail():
    """The notification the definition builds itself, when campaign-status
    cannot, has the detail's schema: every key the Rust side writes."""
    notification = states()["FallbackNotification"]["Parameters"]["notification"]
    detail = notification["detail"]
    assert {key.removesuffix(".$") for key in detail} == set(CONTRACT["notification"]["detailKeys"])
    assert detail["schemaVersion"] == CONTRACT["notification"]["schemaVersion"]
    assert notification["source"] == CONTRACT["notification"]["source"]
    assert notification["detailType"] == OUTCOMES["FAILED"]["detailType"]


def test_notifications_are_retried_only_when_they_were_certainly_not_accepted():
    """A retried Publish or PutEvents whose first attempt was accepted (an
    internal error, a lost answer) would notify twice."""
    s = states()
    throttles = {"NotifyTopic": {"SNS.ThrottledException", "SNS.KMSThrottlingException", "SNS.KmsThrottlingException"},
                 # A request PutEvents refused (throttled) comes as the
                 # service's unmodelled exception; an entry it refused as
                 # FailedEntry. Its internal failure is never retried.
                 "PublishEvent": {"EventBridge.FailedEntry", "EventBridge.AmazonEventBridgeException",
                                  "EventBridge.EventBridgeException"}}
    for name, allowed in throttles.items():
        retried = {e for r in s[name]["Retry"] for e in r["ErrorEquals"]}
        # Every throttle is retried (a request-level PutEvents throttle used
        # to end the execution in NotificationFailed), and nothing else.
        assert retried == allowed, (name, retried)
        assert "EventBridge.InternalException" not in retried and "SNS.InternalErrorException" not in retried


def test_no_execution_can_reach_the_history_limit():
    """The worst case: every state visited (the others at most once), the
    training loop MAX_TRAINING_POLLS times, the poll loop MAX_POLLS times (a
    wait for a busy campaign, the deployment and a rollback together), the
    watch loop MAX_WATCH_POLLS times, DeployCampaign once more after each of
    the MAX_WAITS waits for a busy campaign, and every task using all of its
    retries. A Task adds 5 events and 3 per retried attempt, any other state
    2, the execution 2."""
    s = states()
    loops = {
        ("CheckTraining", "CheckTrained", "WaitForTraining"): SCHEDULE["maxTrainingPolls"],
        ("PollCampaign", "CheckCampaign", "WaitForCampaign"): SCHEDULE["maxPolls"],
        ("WatchAlarms", "CheckWatch", "WaitForWatch"): SCHEDULE["maxWatchPolls"],
    }
    for (task, choice, wait), _ in loops.items():
        assert s[wait]["Next"] == task and s[task]["Next"] == choice

    def events(name):
        return 5 + 3 * retries(s[name]) if s[name]["Type"] == "Task" else 2

    # The only way back to DeployCampaign (CheckTrained leads there once):
    # a poll that found the campaign it waited for free.
    into_deploy = [c for n, st in s.items() if st["Type"] == "Choice" and n != "CheckTrained"
                   for c in st["Choices"] if c.get("Next") == "DeployCampaign"]
    assert into_deploy == [{"Variable": "$.status.next", "StringEquals": "DEPLOY", "Next": "DeployCampaign"}]
    in_loops = {n for loop in loops for n in loop}
    once = sum(events(n) for n in s if n not in in_loops)
    worst = 2 + once + SCHEDULE["maxWaits"] * events("DeployCampaign")
    for loop, polls in loops.items():
        per_poll = sum(events(n) for n in loop)
        assert per_poll >= 9 and polls >= 100
        worst += polls * per_poll
    assert worst < HISTORY_LIMIT, f"{worst} events in the worst case"


def test_rejected_and_superseded_executions_do_not_count_as_failed_deployments():
    """The alarm counts failed executions; a rejected request is told to its
    requester and a superseded deployment is decided by the newer one."""
    s = states()
    finish = {}
    for choice in s["Finish"]["Choices"]:
        for rule in choice.get("Or", [choice]):
            if "StringEquals" in rule:
                finish[rule["StringEquals"]] = choice["Next"]
    assert s[finish["REJECTED"]]["Type"] == "Succeed"
    assert s[finish["SUPERSEDED"]]["Type"] == "Succeed"
    assert s[finish["GATED"]]["Type"] == "Succeed"
    assert s[finish["TRAINING_STOPPED"]]["Type"] == "Succeed"
    assert s[finish["TIMED_OUT"]]["Type"] == "Fail"
    assert s[finish["TRAINING_TIMED_OUT"]] == {
        "Type": "Fail", "Error": "TrainingTimedOut",
        "Cause": "The solution version did not finish training before its deadline; see the notification."}
    assert "TRAINING_FAILED" not in finish, "a failed training is a failed deployment (Default)"
    assert s[s["Finish"]["Default"]]["Type"] == "Fail"


def test_every_outcome_ends_in_the_end_state_the_rust_side_expects():
    """The Finish Choice routes each final outcome to the end state the
    contract gives it, a Fail state exactly when the outcome fails the
    execution; an announcement ends in Announced; deploy-trigger's second try
    matches the error of TRAINING_TIMED_OUT's Fail state."""
    s = states()
    rules = []
    for choice in s["Finish"]["Choices"]:
        for rule in choice.get("Or", [choice]):
            rules.append((rule, choice["Next"]))

    def end_of(outcome, succeeded, announced):
        for rule, target in rules:
            variable = rule["Variable"]
            if variable in ("$.notifyTopicError", "$.publishEventError"):
                continue
            if variable == "$.ended" and announced:
                return target
            if variable == "$.status.succeeded" and rule.get("BooleanEquals") == succeeded:
                return target
            if variable == "$.status.outcome" and rule.get("StringEquals") == outcome:
                return target
        return s["Finish"]["Default"]

    for name, outcome in OUTCOMES.items():
        end = outcome["endState"]
        if not outcome["final"]:
            assert end is None, name
            continue
        target = end_of(name, outcome["succeeded"], end["name"] == "Announced")
        assert target == end["name"], (name, target)
        assert s[target]["Type"] == ("Fail" if end["fails"] else "Succeed"), name
    retried = CONTRACT["outcomes"]["retriedFailure"]
    assert s[OUTCOMES["TRAINING_TIMED_OUT"]["endState"]["name"]]["Error"] == retried


def test_executions_that_end_without_reporting_are_announced():
    """The rule matches every end the definition does not report itself (the
    errors of its own Fail states are exactly those that did), and starts an
    execution that the definition routes to the notification only."""
    template = load_template()
    rule = template["Resources"]["AnnounceUnreportedEnds"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    detail = pattern["detail"]
    assert detail["stateMachineArn"] == [{"Ref": "DeploymentStateMachine"}]
    [aborted_or_timed_out, failed] = detail["$or"]
    assert sorted(aborted_or_timed_out["status"]) == ["ABORTED", "TIMED_OUT"]
    assert failed["status"] == ["FAILED"]
    own_failures = {st["Error"] for st in states().values() if st["Type"] == "Fail"}
    assert set(failed["error"][0]["anything-but"]) == own_failures
    [target] = rule["Targets"]
    assert target["Arn"] == {"Ref": "DeploymentStateMachine"}
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"detail": "$.detail"}
    template_text = transformer["InputTemplate"]
    assert json.loads(template_text.replace("<detail>", '{"status": "ABORTED"}')) == {"ended": {"status": "ABORTED"}}
    # An announcement that itself ended unreported is not announced again.
    assert detail["input"] == [{"anything-but": {"prefix": template_text.split(":")[0]}}, None]
    assert states()["CheckRequest"]["Choices"][0] == {
        "Variable": "$.ended", "IsPresent": True, "Next": "DescribeOutcome"}


def test_the_backstop_alarm_counts_a_period_where_only_one_metric_has_data():
    alarm = load_template()["Resources"]["ExecutionBackstopAlarm"]["Properties"]
    [expression] = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData")]
    ids = {m["Id"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert ids == {"timedOut", "aborted"}
    for metric in ids:
        assert f"FILL({metric}, 0)" in expression, expression


def role_of(resource, resources=None):
    """The role of a function or of the state machine (its `Role`)."""
    resources = resources or load_template()["Resources"]
    role = resources[resource]["Properties"]["Role"]
    assert set(role) == {"GetAtt"} and role["GetAtt"].endswith(".Arn"), (resource, role)
    return role["GetAtt"].removesuffix(".Arn")


def statements(resource):
    """The policy statements of a template resource, by Sid (of a function or
    the state machine: those of its role)."""
    resources = load_template()["Resources"]
    properties = resources[resource]["Properties"]
    if "Role" in properties:
        properties = resources[role_of(resource, resources)]["Properties"]
    document = properties.get("PolicyDocument") or properties.get("KeyPolicy")
    if document is None:
        document = {"Statement": [s for p in properties["Policies"] for s in p["PolicyDocument"]["Statement"]]}
    return {s.get("Sid") or s["If"][1]["Sid"]: s for s in document["Statement"]}


def test_only_this_accounts_requests_and_this_stacks_campaigns_and_resources():
    resources = load_template()["Resources"]
    trigger = resources["DeployTriggerFunction"]["Properties"]
    # Requests only from the stack's own account, checked by the rule and by
    # deploy-trigger, which also knows the prefix.
    pattern = trigger["Events"]["DeploymentRequested"]["Properties"]["Pattern"]
    assert pattern["account"] == [{"Ref": "AWS::AccountId"}]
    # Deployment requests and revert requests, both the product's own.
    notification = CONTRACT["notification"]
    assert pattern["detail-type"] == [notification["requestDetailType"], notification["rollbackDetailType"]]
    assert pattern["source"] == [notification["source"]]
    # A revert reads the campaign's record (its tags), following or not;
    # the tasks write it.
    campaigns = "arn:${AWS::Partition}:personalize:${AWS::Region}:${AWS::AccountId}:campaign/${CampaignNamePrefix}*"
    records = statements("DeployTriggerFunction")["ReadCampaignRecords"]
    assert (records["Action"], records["Resource"]["Sub"]) == ("personalize:ListTagsForResource", campaigns)
    kept = statements("CampaignStatusFunction")["KeepCampaignRecords"]
    assert sorted(kept["Action"]) == [
        "personalize:ListTagsForResource", "personalize:TagResource", "personalize:UntagResource"]
    assert {"personalize:ListTagsForResource", "personalize:TagResource", "personalize:UntagResource"} <= set(
        statements("DeployCampaignFunction")["DeployCampaigns"]["Action"])
    variables = trigger["Environment"]["Variables"]
    assert variables["ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}
    assert variables["CAMPAIGN_NAME_PREFIX"] == {"Ref": "CampaignNamePrefix"}
    # The campaigns the Lambdas may touch start with the prefix; of the
    # account's solutions they may only read versions and their metrics.
    account = "arn:${AWS::Partition}:personalize:${AWS::Region}:${AWS::AccountId}:"
    reads = {"personalize:DescribeSolutionVersion", "personalize:GetSolutionMetrics",
             "personalize:ListSolutionVersions"}
    for function in ("DeployCampaignFunction", "CampaignStatusFunction"):
        for sid, statement in statements(function).items():
            if sid in ("WriteLogs", "Tracing"):
                # Its own logs and traces (test_each_function_writes_only_its_own_logs).
                continue
            if "If" in statement:
                # Only while following.
                condition, statement, otherwise = statement["If"]
                assert (condition, otherwise) == ("Follows", {"Ref": "AWS::NoValue"})
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Resource"] == "*":
                # A list call names no resource: only the solutions' versions
                # (how long their trainings took), read.
                assert actions == ["personalize:ListSolutionVersions"], (function, actions)
                continue
            resource = statement["Resource"]["Sub"]
            if resource == account + "solution/*":
                assert set(actions) <= reads, (function, actions)
            elif resource == "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*":
                # The watch reads alarms; it changes none.
                assert actions == ["cloudwatch:DescribeAlarms"], (function, actions)
            else:
                assert resource == account + "campaign/${CampaignNamePrefix}*", function
    # Manifests are read under the manifest prefix only.
    assert statements("DeployTriggerFunction")["ReadManifests"]["Resource"] == {
        "Sub": "${ManifestBucket.Arn}/${ManifestPrefix}*"}
    # Dead letters only from this stack's rules.
    dead_letters = statements("TriggerDeadLetterQueuePolicy")["EventBridgeRuleDeadLetters"]
    assert dead_letters["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"GetAtt": "DeployTriggerFunctionManifestCreated.Arn"},
        {"GetAtt": "DeployTriggerFunctionDeploymentRequested.Arn"},
        {"GetAtt": "AnnounceUnreportedEnds.Arn"},
        {"If": ["Follows", {"GetAtt": "FollowNewVersions.Arn"}, {"Ref": "AWS::NoValue"}]},
        {"If": ["LooksOnSchedule", {"GetAtt": "FollowLook.Arn"}, {"Ref": "AWS::NoValue"}]},
    ]
    # The alarm topic and its key serve only this stack's alarms, all named
    # after it.
    alarm_names = sorted(r["Properties"]["AlarmName"]["Sub"] for r in resources.values()
                         if r["Type"] == "AWS::CloudWatch::Alarm")
    assert len(alarm_names) == 3 and all(n.startswith("${AWS::StackName}-") for n in alarm_names)
    prefix = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    for resource, sid in (("AlarmTopicPolicy", "CloudWatchAlarms"), ("NotificationKey", "CloudWatchAlarmsPublish")):
        condition = statements(resource)[sid]["Condition"]
        allowed = sorted(a["Sub"] for a in condition["ArnEquals"]["aws:SourceArn"])
        assert allowed == [prefix + n for n in alarm_names], resource


def test_following_is_off_by_default_and_its_rules_and_rights_come_with_it():
    """The CloudTrail rule takes only successful CreateSolutionVersion calls;
    the look runs on the schedule given (none when empty); deploy-trigger may
    list, and read only the stack's campaigns, and only while following."""
    template = load_template()
    parameters, resources = template["Parameters"], template["Resources"]
    assert parameters["FollowSolutions"]["Default"] == "false"
    assert parameters["FollowSchedule"]["Default"] == "rate(1 hour)"
    assert template["Conditions"]["LooksOnSchedule"]["And"][0] == {"Condition": "Follows"}
    calls = resources["FollowNewVersions"]
    assert calls["Condition"] == "Follows"
    pattern = calls["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.personalize"], "detail-type": ["AWS API Call via CloudTrail"],
        "account": [{"Ref": "AWS::AccountId"}], "region": [{"Ref": "AWS::Region"}],
        "detail": {"eventSource": ["personalize.amazonaws.com"], "eventName": ["CreateSolutionVersion"],
                   "errorCode": [{"exists": False}]}}
    sample = json.loads((ROOT / "events" / "cloudtrail-create-solution-version.json").read_text())
    assert (sample["source"], sample["detail-type"], sample["detail"]["eventName"]) == (
        "aws.personalize", "AWS API Call via CloudTrail", "CreateSolutionVersion")
    assert "errorCode" not in sample["detail"]
    look = resources["FollowLook"]
    assert look["Condition"] == "LooksOnSchedule"
    assert look["Properties"]["ScheduleExpression"] == {"Ref": "FollowSchedule"}
    for rule, permission in (("FollowNewVersions", "FollowNewVersionsPermission"),
                             ("FollowLook", "FollowLookPermission")):
        [target] = resources[rule]["Properties"]["Targets"]
        assert target["Arn"] == {"GetAtt": "DeployTriggerFunction.Arn"}
        assert target["DeadLetterConfig"]["Arn"] == {"GetAtt": "TriggerDeadLetterQueue.Arn"}
        granted = resources[permission]
        assert granted["Condition"] == resources[rule]["Condition"]
        assert granted["Properties"]["SourceArn"] == {"GetAtt": f"{rule}.Arn"}
    conditional = [st["If"] for st in statements("DeployTriggerFunction").values() if "If" in st]
    by_sid = {then["Sid"]: (condition, then, otherwise) for condition, then, otherwise in conditional}
    assert set(by_sid) == {"FindFollowers", "ReadFollowers", "SeeFollowedEnds"}
    for condition, _, otherwise in by_sid.values():
        assert condition == "Follows" and otherwise == {"Ref": "AWS::NoValue"}
    find = by_sid["FindFollowers"][1]
    assert sorted(find["Action"]) == ["personalize:ListCampaigns", "personalize:ListSolutionVersions"]
    read = by_sid["ReadFollowers"][1]
    assert read["Action"] == "personalize:DescribeCampaign"
    assert read["Resource"]["Sub"].endswith(":campaign/${CampaignNamePrefix}*")
    # Their tags are read by ReadCampaignRecords, following or not.
    records = statements("DeployTriggerFunction")["ReadCampaignRecords"]
    assert (records["Action"], records["Resource"]) == ("personalize:ListTagsForResource", read["Resource"])
    ends = by_sid["SeeFollowedEnds"][1]
    assert ends["Action"] == "states:DescribeExecution"
    assert ends["Resource"]["Sub"].endswith(":execution:${DeploymentStateMachine.Name}:*")


def test_half_a_default_gate_is_refused_by_the_template():
    """deploy-trigger would refuse to start with a default gate threshold and
    no metric (or a metric and no threshold): the template's rule refuses
    such parameters first, so that a typo does not stop every deployment."""
    template = load_template()
    [assertion] = template["Rules"]["DefaultGateIsWhole"]["Assertions"]
    none, whole = assertion["Assert"]["Or"]
    gate = ["DefaultGateMetric", "DefaultGateMaxDrop", "DefaultGateMaxRelativeDrop", "DefaultGateMinValue"]
    assert none["And"] == [{"Equals": [{"Ref": name}, ""]} for name in gate]
    assert whole["And"][0] == {"Not": [{"Equals": [{"Ref": "DefaultGateMetric"}, ""]}]}
    assert whole["And"][1] == {"Not": [{"And": [{"Equals": [{"Ref": name}, ""]} for name in gate[1:]]}]}
    for name in gate:
        assert template["Parameters"][name]["Default"] == ""


def test_the_dashboard_shows_executions_outcomes_durations_lambdas_dead_letters_and_alarms():
    """Its body is valid JSON once CloudFormation substitutes it; every name
    it substitutes exists; and each question an operator asks has its widget,
    on the metrics campaign-status emits (the contract)."""
    template = load_template()
    resources = template["Resources"]
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Sub"]
    names = set(re.findall(r"\$\{([A-Za-z0-9:.]+)\}", body))
    for name in names:
        base = name.split(".")[0]
        assert name.startswith("AWS::") or base in resources or name in variables, name
    assert variables["Namespace"] == {"Sub": "PersonalizeDeployer/${AWS::StackName}"}
    status_env = resources["CampaignStatusFunction"]["Properties"]["Environment"]["Variables"]
    assert status_env["METRICS_NAMESPACE"] == variables["Namespace"]
    widgets = json.loads(re.sub(r"\$\{[A-Za-z0-9:.]+\}", "x", body))["widgets"]
    text = {w["properties"].get("title"): json.dumps(w["properties"]) for w in widgets}
    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"):
        assert metric in text["Executions"], metric
    assert 'MetricName=\\"Deployments\\"' in text["Deployments by outcome"]
    assert "'p50'" in text["Deployment duration p50 by outcome (s)"]
    assert "'p90'" in text["Deployment duration p90 by outcome (s)"]
    for metric in ("Errors", "Throttles"):
        assert metric in text["Lambda errors and throttles"]
    assert "Duration" in text["Lambda duration p90 (ms)"]
    assert "ApproximateNumberOfMessagesVisible" in text["Dead letters waiting"]
    [alarms] = [w for w in widgets if w["type"] == "alarm"]
    alarm_resources = {n for n, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert set(re.findall(r"\$\{(\w+)\.Arn\}", body)) == alarm_resources
    assert len(alarms["properties"]["alarms"]) == len(alarm_resources)
    # The metrics and dimensions the widgets search are those the metrics carry.
    metrics = {m["Name"] for m in CONTRACT["metrics"]["metrics"]}
    assert {"Deployments", "DeploymentDuration"} <= metrics
    assert ["Outcome"] in CONTRACT["metrics"]["dimensions"] and "{${Namespace},Outcome}" in body


def test_the_deployment_history_is_a_saved_query_over_the_lines_campaign_status_writes():
    """The saved query reads campaign-status's log group, and every field it
    shows is one the embedded-metric line carries (its metrics and
    dimensions from the contract, its history properties) or one Logs
    Insights gives."""
    resources = load_template()["Resources"]
    query = resources["DeploymentHistoryQuery"]["Properties"]
    assert query["LogGroupNames"] == [{"Ref": "CampaignStatusLogGroup"}]
    text = query["QueryString"]
    assert text.startswith("filter ispresent(_aws)")
    fields = [f.strip() for f in text.split("| fields", 1)[1].split("|", 1)[0].split(",")]
    metrics = {m["Name"] for m in CONTRACT["metrics"]["metrics"]}
    dimensions = {d for ds in CONTRACT["metrics"]["dimensions"] for d in ds}
    properties = set(CONTRACT["metrics"]["properties"])
    assert set(fields) <= metrics | dimensions | properties | {"@timestamp"}, fields
    assert {"Origin", "SolutionVersionArn", "Outcome", "GateVerdict", "WatchVerdict", "RolledBackTo"} <= set(fields)



def as_list(value):
    return value if isinstance(value, list) else [value]


def granted(role):
    """Each statement of a role's policies, with the condition of its !If
    (None when it is always there)."""
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "If" in statement:
                condition, statement, otherwise = statement["If"]
                assert otherwise == {"Ref": "AWS::NoValue"}, statement
                yield statement, condition
            else:
                yield statement, None


def roles(resources):
    return {n: r for n, r in resources.items() if r["Type"] == "AWS::IAM::Role"}


def trust(role):
    """The one service a role trusts, and the conditions it trusts it on."""
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    return statement["Principal"]["Service"], statement["Condition"]


def test_the_cloudtrail_rule_takes_only_calls_made_in_this_account_and_region():
    """A CreateSolutionVersion call recorded in another account or region (by
    a trail or a bus that forwards events here) starts nothing: the rule
    matches only the stack's own account and region (EventBridge's matching,
    as moto implements it)."""
    from moto.events.models import EventPattern

    sample = json.loads((ROOT / "events" / "cloudtrail-create-solution-version.json").read_text())
    pattern = json.dumps(load_template()["Resources"]["FollowNewVersions"]["Properties"]["EventPattern"])
    for ref, value in (("AWS::AccountId", sample["account"]), ("AWS::Region", sample["region"])):
        pattern = pattern.replace(json.dumps({"Ref": ref}), json.dumps(value))
    matches = EventPattern.load(pattern).matches_event
    assert matches(sample)
    assert not matches(dict(sample, account="444455556666"))
    assert not matches(dict(sample, region="eu-west-1"))
    assert not matches(dict(sample, detail=dict(sample["detail"], errorCode="AccessDenied")))


def test_each_role_is_assumed_only_by_its_service_for_this_stack():
    """No other account's use of a service (a confused deputy) can act with a
    role of the stack: each role trusts one service, for this account only;
    the state machine's role only for this stack's state machine, and the
    announcement's role only for its rule, both named by the template."""
    resources = load_template()["Resources"]
    users = {role_of(name, resources): "lambda.amazonaws.com"
             for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(users) == 3, "one role per function"
    users[role_of("DeploymentStateMachine", resources)] = "states.amazonaws.com"
    [target] = resources["AnnounceUnreportedEnds"]["Properties"]["Targets"]
    users[target["RoleArn"]["GetAtt"].removesuffix(".Arn")] = "events.amazonaws.com"
    assert set(users) == set(roles(resources)), "every role is used, each by one resource"
    for name, role in roles(resources).items():
        service, condition = trust(role)
        assert service == users[name], name
        assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}, name
    machine = resources["DeploymentStateMachine"]["Properties"]
    assert "Policies" not in machine, "its rights are its role's"
    arn = ("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
           + machine["Name"]["Sub"])
    _, condition = trust(resources[role_of("DeploymentStateMachine", resources)])
    assert set(condition) == {"StringEquals", "ArnLike"}
    # The state machine, or one of its versions or aliases.
    assert [a["Sub"] for a in condition["ArnLike"]["aws:SourceArn"]] == [arn, arn + ":*"]
    rule = resources["AnnounceUnreportedEnds"]["Properties"]["Name"]["Sub"]
    _, condition = trust(resources["AnnounceRole"])
    assert set(condition) == {"StringEquals", "ArnEquals"}
    assert condition["ArnEquals"] == {"aws:SourceArn": {
        "Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/" + rule}}
    # The rule is on the default bus, where its ARN has no bus name.
    assert "EventBusName" not in resources["AnnounceUnreportedEnds"]["Properties"]


def test_each_function_writes_only_its_own_logs():
    """No role names a managed policy (AWSLambdaBasicExecutionRole would let
    a function write every log group of the account) or a wildcard action. A
    function may only create streams in and write to its own log group, and
    send its traces (X-Ray accepts no narrower resource)."""
    template = load_template()
    resources = template["Resources"]
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    for name, role in roles(resources).items():
        assert "ManagedPolicyArns" not in role["Properties"], name
        for statement, _ in granted(role):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, (name, action)
    functions = [n for n, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    for function in functions:
        properties = resources[function]["Properties"]
        assert "Policies" not in properties, f"{function}: SAM would add AWSLambdaBasicExecutionRole"
        own = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert resources[own]["Type"] == "AWS::Logs::LogGroup"
        logs, traces = [], []
        for statement, condition in granted(resources[role_of(function, resources)]):
            actions = as_list(statement["Action"])
            if any(a.startswith("logs:") for a in actions):
                logs.append((sorted(actions), statement["Resource"], condition))
            if any(a.startswith("xray:") for a in actions):
                traces.append((sorted(actions), statement["Resource"], condition))
        assert logs == [(["logs:CreateLogStream", "logs:PutLogEvents"], {"GetAtt": f"{own}.Arn"}, None)], function
        assert traces == [(["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*", None)], function


def test_manifests_are_listed_only_under_the_manifest_prefix():
    """deploy-trigger may list the manifest bucket (so that a missing manifest
    is a 404) only under the manifest prefix, where it may read; no other
    role touches the bucket."""
    resources = load_template()["Resources"]
    trigger = statements("DeployTriggerFunction")
    listing = trigger["SeeMissingManifests"]
    assert (listing["Action"], listing["Resource"]) == ("s3:ListBucket", {"GetAtt": "ManifestBucket.Arn"})
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [{"Sub": "${ManifestPrefix}*"}]}}
    assert trigger["ReadManifests"]["Resource"] == {"Sub": "${ManifestBucket.Arn}/${ManifestPrefix}*"}
    for name, role in roles(resources).items():
        for statement, _ in granted(role):
            if any(a.startswith("s3:") for a in as_list(statement["Action"])):
                assert name == role_of("DeployTriggerFunction", resources), name
                assert statement["Sid"] in ("SeeMissingManifests", "ReadManifests"), statement


def test_the_notification_key_is_used_only_through_sns():
    """The state machine's right to the key that encrypts the topic holds
    only for SNS's calls on its behalf (a Publish), not for decrypting
    anything itself; no other role may use a key."""
    resources = load_template()["Resources"]
    assert resources["NotificationTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    through = {"StringEquals": {"kms:ViaService": {"Sub": "sns.${AWS::Region}.amazonaws.com"}}}
    grants = []
    for name, role in roles(resources).items():
        for statement, _ in granted(role):
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert statement.get("Condition") == through, (name, statement)
                grants.append((name, statement["Resource"]))
    assert grants == [(role_of("DeploymentStateMachine", resources), {"GetAtt": "NotificationKey.Arn"})]
    assert statements("DeploymentStateMachine")["Notify"]["Resource"] == {"Ref": "NotificationTopic"}


def test_no_role_grants_the_same_action_on_the_same_resource_twice():
    """Each right is granted once per role, where its reason is written (a
    right granted twice stays when one of its statements is removed);
    conditional statements count as granted."""
    for name, role in roles(load_template()["Resources"]).items():
        seen = {}
        for statement, _ in granted(role):
            for action in as_list(statement["Action"]):
                for resource in as_list(statement["Resource"]):
                    key = (action, json.dumps(resource, sort_keys=True))
                    assert key not in seen, f"{name}: {key} in {seen.get(key)} and {statement.get('Sid')}"
                    seen[key] = statement.get("Sid")


def test_every_suppressed_checkov_finding_says_why():
    """Each checkov finding suppressed on a resource carries its reason."""
    skipped = 0
    for name, resource in load_template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip.get("comment", "").split()) >= 8, (name, skip["id"])
            skipped += 1
    assert skipped
