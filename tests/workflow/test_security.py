"""Who may deploy, within which cost, and that nothing that goes wrong goes
unheard: static properties of template.yaml that AWS would enforce and that
cannot run offline (bucket and bus policies, CloudFormation rules, alarms)."""
import itertools

from workflow.contract import CONTRACT
from workflow.definition import load_template


def evaluate(condition, parameters):
    """A CloudFormation rule's assertion, evaluated as CloudFormation would
    for the given parameter values (the functions rules may use)."""
    if isinstance(condition, str):
        return condition
    if isinstance(condition, list):
        return [evaluate(c, parameters) for c in condition]
    [(function, arguments)] = condition.items()
    if function == "Ref":
        return parameters[arguments]
    values = [evaluate(a, parameters) for a in arguments]
    if function == "Or":
        return any(values)
    if function == "And":
        return all(values)
    if function == "Not":
        return not values[0]
    if function == "Equals":
        return values[0] == values[1]
    if function == "Contains":
        return values[1] in values[0]
    raise AssertionError(f"a rule may not use {function}")


def test_the_default_tps_of_a_new_campaign_cannot_pass_the_cap():
    """A stack whose default TPS is above its cap is refused by
    CloudFormation, before deploy-campaign would refuse to start; every other
    pair of values is accepted."""
    template = load_template()
    parameters = template["Parameters"]
    cap, default = parameters["MaxProvisionedTPS"], parameters["DefaultMinProvisionedTPS"]
    assert cap["AllowedValues"] == default["AllowedValues"]
    assert int(default["Default"]) <= int(cap["Default"])
    [assertion] = template["Rules"]["DefaultTPSWithinCap"]["Assertions"]
    values = cap["AllowedValues"]
    for c, d in itertools.product(values, values):
        holds = evaluate(assertion["Assert"], {"MaxProvisionedTPS": c, "DefaultMinProvisionedTPS": d})
        assert holds == (int(d) <= int(c)), (c, d)


def test_every_function_holds_requests_to_the_same_cap_and_place():
    functions = load_template()["Resources"]
    env = {name: functions[name]["Properties"]["Environment"]["Variables"]
           for name in ("DeployTriggerFunction", "DeployCampaignFunction", "CampaignStatusFunction")}
    for name in ("DeployTriggerFunction", "DeployCampaignFunction"):
        assert env[name]["MAX_PROVISIONED_TPS"] == {"Ref": "MaxProvisionedTPS"}, name
    for name, variables in env.items():
        assert variables["ACCOUNT_ID"] == {"Ref": "AWS::AccountId"}, name
        assert variables["CAMPAIGN_NAME_PREFIX"] == {"Ref": "CampaignNamePrefix"}, name


def deny_unless_deployer(statement, action, resource):
    """The statement denies `action` on `resource` to every principal but
    those DeployerPrincipals names."""
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert action in actions
    assert statement["Resource"] == resource
    assert statement["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": {"Ref": "DeployerPrincipals"}}}


def test_with_deployer_principals_only_they_can_write_a_manifest_or_put_a_request():
    template = load_template()
    resources = template["Resources"]
    assert template["Conditions"]["NamesDeployers"] == {
        "Not": [{"Equals": [{"Join": ["", {"Ref": "DeployerPrincipals"}]}, ""]}]}
    assert template["Parameters"]["DeployerPrincipals"]["Default"] == ""
    # Manifests: a bucket policy denies writes under the prefix to anyone else.
    bucket = resources["ManifestBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [only] = [s["If"] for s in bucket if "If" in s]
    condition, statement, otherwise = only
    assert (condition, otherwise) == ("NamesDeployers", {"Ref": "AWS::NoValue"})
    deny_unless_deployer(statement, "s3:PutObject", {"Sub": "${ManifestBucket.Arn}/${ManifestPrefix}*"})
    # Requests: a bus of the stack's, which denies PutEvents to anyone else;
    # the rule listens there, and the notifications stay on EventBusName.
    bus = resources["RequestBus"]
    assert bus["Condition"] == "NamesDeployers"
    [statement] = bus["Properties"]["Policy"]["Statement"]
    deny_unless_deployer(
        statement, "events:PutEvents",
        {"Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${AWS::StackName}-requests"})
    assert bus["Properties"]["Name"] == {"Sub": "${AWS::StackName}-requests"}
    rule = resources["DeployTriggerFunction"]["Properties"]["Events"]["DeploymentRequested"]["Properties"]
    assert rule["EventBusName"] == {"If": ["NamesDeployers", {"Ref": "RequestBus"}, {"Ref": "EventBusName"}]}
    substitutions = resources["DeploymentStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert substitutions["EventBusName"] == {"Ref": "EventBusName"}
    # The outputs say plainly who can deploy, either way, and where requests go.
    outputs = template["Outputs"]
    assert outputs["RequestBusName"]["Value"] == {
        "If": ["NamesDeployers", {"Ref": "RequestBus"}, {"Ref": "EventBusName"}]}
    condition, named, anyone = outputs["WhoCanDeploy"]["Value"]["If"]
    assert condition == "NamesDeployers"
    assert named["Sub"][0].startswith("Only ${Principals}")
    assert "Anyone in account ${AWS::AccountId}" in anyone["Sub"]
    assert "start executions" in anyone["Sub"] and "start executions" in named["Sub"][0]


def test_every_dead_letter_is_heard_not_only_the_first():
    """The alarm counts letters sent, not letters waiting: it returns to OK
    after 15 minutes without one, so that the next fires it again although
    the earlier ones still wait to be redriven; any minute of the last 15
    counts, so that a datapoint SQS publishes late is not missed."""
    alarm = load_template()["Resources"]["TriggerDeadLettersAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/SQS", "NumberOfMessagesSent", "Sum")
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (60, 15, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"GetAtt": "TriggerDeadLetterQueue.QueueName"}}]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_nobody_but_the_stacks_rules_and_deploy_trigger_may_put_a_dead_letter():
    """A forged request in the queue, redriven, would be deployed: the queue
    policy denies SendMessage unless it comes from deploy-trigger's role (its
    failed invocations) or from one of the stack's rules (EventBridge)."""
    statements = load_template()["Resources"]["TriggerDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"][
        "Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    allowed = by_sid["EventBridgeRuleDeadLetters"]["Condition"]["ArnEquals"]["aws:SourceArn"]
    deny = by_sid["OnlyThisStacksLetters"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "sqs:SendMessage")
    assert deny["Resource"] == {"GetAtt": "TriggerDeadLetterQueue.Arn"}
    # Both keys in one operator: denied only when neither is the stack's.
    assert deny["Condition"] == {"ArnNotEquals": {
        "aws:PrincipalArn": {"GetAtt": "DeployTriggerFunctionRole.Arn"}, "aws:SourceArn": allowed}}
    # deploy-trigger's on-failure destination is that queue, sent with that role.
    trigger = load_template()["Resources"]["DeployTriggerFunction"]["Properties"]
    assert trigger["Role"] == {"GetAtt": "DeployTriggerFunctionRole.Arn"}
    assert trigger["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "GetAtt": "TriggerDeadLetterQueue.Arn"}
