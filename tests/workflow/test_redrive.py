"""End to end, the redrive of deploy-trigger's dead letters
(scripts/redrive-dead-letters, run as a command against moto's SQS, Step
Functions and CloudFormation and the Lambda Invoke API of the harness): an
EventBridge rule's dead letter and a Lambda on-failure record each become one
execution with one notification, however often they are redriven; a message
of neither kind is reported and left; a dry run changes nothing; a redrive
that fails again stays in the queue; an unreported end's dead letter starts
its announcement, once."""
import json
import os
import subprocess
import sys
import uuid

from workflow.definition import load_template
from workflow.harness.events import manifest, sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.names import BUCKET, MOTO_ACCOUNT, REGION, ROOT, function_arn
from workflow.harness.sample import SV1, SV2, seed

from steps import NOTIFY, requested, serving
from test_scenarios import SLOW_POLLS, announce_rule, status_change, stopped_before_it_reported

SCRIPT = ROOT / "scripts" / "redrive-dead-letters"
STACK = "personalize-deployer"
RULES = f"arn:aws:events:{REGION}:{MOTO_ACCOUNT}:rule/{STACK}-"
MANIFEST_RULE = RULES + "DeployTriggerFunctionManifestCreated-1A2B3C4D5E6F"
ANNOUNCE_RULE = RULES + "AnnounceUnreportedEnds-6F5E4D3C2B1A"
TRIGGER = function_arn("deploy-trigger")


def redrive(wf, *args):
    """Runs the script as a user would, its AWS calls sent to the offline
    services: (exit status, its report's lines)."""
    env = dict(os.environ, AWS_ENDPOINT_URL_SQS=wf.moto_url, AWS_ENDPOINT_URL_SFN=wf.moto_url,
               AWS_ENDPOINT_URL_CLOUDFORMATION=wf.moto_url, AWS_ENDPOINT_URL_LAMBDA=wf.lambdas.url)
    done = subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=300)
    assert not done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


def dead_letter_queue(wf):
    return wf.resources.sqs.create_queue(QueueName="dead-letters")["QueueUrl"]


def stack_with_queue(wf):
    """The stack as --stack reads it: the dead-letter queue and the state
    machine as outputs, deploy-trigger as a resource (named as the harness
    serves it). Returns the queue's URL."""
    # The names --stack reads are the template's.
    template = load_template()
    assert template["Resources"]["DeployTriggerFunction"]["Type"] == "AWS::Serverless::Function"
    assert {"TriggerDeadLetterQueueUrl", "StateMachineArn"} <= set(template["Outputs"])
    role = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    stack = {
        "Resources": {
            "TriggerDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "DeployTriggerRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": role}},
            "DeployTriggerFunction": {"Type": "AWS::Lambda::Function", "Properties": {
                "FunctionName": "deploy-trigger", "Runtime": "provided.al2023", "Handler": "bootstrap",
                "Role": {"Fn::GetAtt": ["DeployTriggerRole", "Arn"]}, "Code": {"ZipFile": "not run"}}},
        },
        "Outputs": {
            "TriggerDeadLetterQueueUrl": {"Value": {"Ref": "TriggerDeadLetterQueue"}},
            "StateMachineArn": {"Value": wf.state_machine_arn},
        },
    }
    cloudformation = wf.moto.client("cloudformation")
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(stack), Capabilities=["CAPABILITY_IAM"])
    [found] = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]}["TriggerDeadLetterQueueUrl"]


def rule_dead_letter(event, rule, target):
    """What EventBridge puts in a rule target's dead-letter queue: the event
    as the body, the rule, the target and the error as attributes."""
    attributes = {
        "RULE_ARN": rule, "TARGET_ARN": target, "ERROR_CODE": "NO_PERMISSIONS",
        "ERROR_MESSAGE": "Not authorized to invoke the target", "RETRY_ATTEMPTS": "0",
    }
    return json.dumps(event), {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}


def on_failure_record(event, function=TRIGGER):
    """Lambda's on-failure record of an asynchronous invocation of
    `function` (deploy-trigger) whose retries were exhausted."""
    request_id = str(uuid.uuid4())
    return json.dumps({
        "version": "1.0",
        "timestamp": "2026-12-07T10:15:30.123Z",
        "requestContext": {"requestId": request_id, "functionArn": function + ":$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "TriggerFailed",
                            "errorMessage": "1 of 1 requests could not be started: Throttled"},
    }), {}


def put(wf, url, letter):
    body, attributes = letter
    wf.resources.sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)


def queue_bodies(wf, url):
    """The bodies of the messages in the queue, all visible (none held by a
    run that ended), sorted."""
    sqs = wf.resources.sqs
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0", counts
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    assert len(got) == int(counts["ApproximateNumberOfMessages"]), counts
    return sorted(m["Body"] for m in got)


def object_created(wf, key, body):
    """Uploads a manifest; returns EventBridge's "Object Created" event of it."""
    uploaded = wf.put_manifest(key, body)["Records"][0]["s3"]["object"]
    event = sample("eventbridge-s3-object-created.json")
    event["id"] = str(uuid.uuid4())
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"].update(key=key, size=uploaded["size"], etag=uploaded["eTag"],
                                     sequencer=uploaded["sequencer"])
    event["detail"]["object"]["version-id"] = uploaded["versionId"]
    return event


def trigger_calls(wf):
    return [payload for name, payload, _, _ in wf.lambdas.invocations if name == "deploy-trigger"]


def by_execution(wf):
    """The notifications sent since the last look: {executionArn: (SNS
    count, EventBridge count)}."""
    sns, events = wf.notifications()
    out = {}
    for _, message in sns:
        arn = next(line.split(":", 1)[1].strip() for line in message.splitlines() if line.startswith("Execution:"))
        out.setdefault(arn, [0, 0])[0] += 1
    for event in events:
        out.setdefault(event["detail"]["executionArn"], [0, 0])[1] += 1
    return {arn: tuple(counts) for arn, counts in out.items()}


def test_dead_letters_of_both_kinds_become_one_execution_each_however_often_redriven():
    """A rule's dead letter (a manifest's "Object Created" event for
    movie-recs) and a Lambda on-failure record (a "Campaign Deployment
    Requested" event for movie-picks), with a message of neither kind and
    a record of another function, in the queue the stack names. A dry run
    lists them and changes nothing. The redrive invokes deploy-trigger with
    each original event: two executions, each ending with its one
    notification; the other two are reported and left. The same two dead letters put again, and the queue
    redriven again: nothing starts, nothing is notified."""
    with LocalWorkflow(seed=seed()) as wf:
        url = stack_with_queue(wf)
        manifest_event = object_created(wf, "manifests/movie-recs.json", manifest("movie-recs.json"))
        request_event = requested()
        request_event["detail"]["campaignName"] = "movie-picks"
        letters = [rule_dead_letter(manifest_event, MANIFEST_RULE, TRIGGER), on_failure_record(request_event)]
        stranger = json.dumps({"Type": "Notification", "Message": "not a dead letter of this stack"})
        foreign, _ = on_failure_record(request_event, function_arn("another-function"))
        for letter in letters:
            put(wf, url, letter)
        put(wf, url, (stranger, {}))
        put(wf, url, (foreign, {}))
        strangers = sorted([stranger, foreign])
        everything = sorted([letters[0][0], letters[1][0], *strangers])

        status, lines = redrive(wf, "--stack", STACK, "--dry-run")
        assert status == 0, lines
        assert lines[-1] == "Dry run: would redrive 2, would leave 2; nothing was invoked, started or deleted."
        assert sum(line.startswith("would redrive ") for line in lines) == 2, lines
        left = sorted(line for line in lines if line.startswith("would leave "))
        assert len(left) == 2, lines
        assert any(line.endswith(": neither an EventBridge event nor a Lambda on-failure record") for line in left)
        assert any(line.endswith(f": a record of another function: {function_arn('another-function')}:$LATEST")
                   for line in left)
        assert queue_bodies(wf, url) == everything
        assert trigger_calls(wf) == [] and wf.executions() == []
        assert wf.notifications() == ([], [])

        status, lines = redrive(wf, "--stack", STACK)
        assert status == 1, "messages stay in the queue"
        assert lines[-1] == "Redriven 2, failed again 0, left 2.", lines
        # deploy-trigger got each original event, taken out of either kind.
        assert sorted(map(json.dumps, trigger_calls(wf))) == sorted(map(json.dumps, [manifest_event, request_event]))
        started = [line.split("STARTED ")[1] for line in lines if line.startswith("redriven ")]
        assert len(started) == 2, lines
        executions = wf.wait_for_executions(2)
        assert sorted(e["name"] for e in executions) == sorted(started)
        assert [e["status"] for e in executions] == ["SUCCEEDED", "SUCCEEDED"]
        assert by_execution(wf) == {e["executionArn"]: (1, 1) for e in executions}
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV1
        assert wf.campaign("movie-picks")["solutionVersionArn"] == SV2
        assert queue_bodies(wf, url) == strangers

        for letter in letters:
            put(wf, url, letter)
        status, lines = redrive(wf, "--stack", STACK)
        assert status == 1
        assert lines[-1] == "Redriven 2, failed again 0, left 2.", lines
        again = sorted(line.split("ALREADY_HANDLED ")[1] for line in lines if line.startswith("redriven "))
        assert again == sorted(started), lines
        assert len(trigger_calls(wf)) == 4
        assert sorted(e["name"] for e in wf.wait_for_executions(2)) == sorted(started)
        assert len(wf.executions()) == 2
        assert wf.notifications() == ([], [])
        assert queue_bodies(wf, url) == strangers


def test_a_dead_letter_that_fails_again_stays_and_the_next_redrive_starts_nothing_twice():
    """deploy-trigger handles the redriven request, then times out before it
    answers: the message is reported as failed again and stays. The next
    redrive succeeds and deletes it; the request still made one execution
    and one notification."""
    with LocalWorkflow(seed=seed(serving(SV1))) as wf:
        url = dead_letter_queue(wf)
        put(wf, url, on_failure_record(requested()))
        wf.lambdas.lose_next("deploy-trigger", "Sandbox.Timedout")

        status, lines = redrive(wf, "--queue-url", url, "--function", "deploy-trigger")
        assert status == 1
        assert lines[-1] == "Redriven 0, failed again 1, left 0.", lines
        [failed] = [line for line in lines if line.startswith("failed again ")]
        assert "Sandbox.Timedout" in failed
        assert len(queue_bodies(wf, url)) == 1

        status, lines = redrive(wf, "--queue-url", url, "--function", TRIGGER)
        assert status == 0, lines
        assert lines[-1] == "Redriven 1, failed again 0, left 0.", lines
        [execution] = wf.wait_for_executions(1)
        assert execution["status"] == "SUCCEEDED"
        assert execution["name"] in lines[0]
        assert by_execution(wf) == {execution["executionArn"]: (1, 1)}
        assert wf.campaign("movie-recs")["solutionVersionArn"] == SV2
        assert queue_bodies(wf, url) == []


def test_an_unreported_ends_dead_letter_starts_its_announcement_once():
    """An execution stopped before it reported; the AnnounceUnreportedEnds
    rule could not start its announcement, and its event went to the queue.
    The redrive starts the announcement with the input the rule would have
    given ({"ended": <detail>}), without deploy-trigger: one ABORTED
    notification as if the stopped execution had sent it. The same dead
    letter again starts nothing; one for another state machine is left."""
    with LocalWorkflow(seed=seed(serving(SV1)), env=SLOW_POLLS) as wf:
        stopped = stopped_before_it_reported(wf)
        calls = len(trigger_calls(wf))

        url = dead_letter_queue(wf)
        event = status_change(stopped)
        matches, target_input = announce_rule(wf.state_machine_arn)
        assert matches(event)
        letter = rule_dead_letter(event, ANNOUNCE_RULE, wf.state_machine_arn)
        put(wf, url, letter)
        # Not another stack's state machine.
        other = wf.state_machine_arn.replace(":stateMachine:", ":stateMachine:other-")
        status, lines = redrive(wf, "--queue-url", url, "--function", "deploy-trigger", "--state-machine", other)
        assert status == 1
        assert lines == [lines[0], "Redriven 0, failed again 0, left 1."], lines
        assert lines[0].endswith(f": its target is another state machine: {wf.state_machine_arn}")
        assert len(wf.executions()) == 1

        # Never the state machine a letter names: only the one the operator does.
        status, lines = redrive(wf, "--queue-url", url, "--function", "deploy-trigger")
        assert status == 1
        assert lines[0].endswith("no state machine to announce it with (give --stack or --state-machine)"), lines
        assert len(wf.executions()) == 1

        status, lines = redrive(wf, "--queue-url", url, "--function", "deploy-trigger",
                                "--state-machine", wf.state_machine_arn)
        assert status == 0, lines
        assert lines[-1] == "Redriven 1, failed again 0, left 0.", lines
        assert "STARTED announcement announce-" in lines[0]
        [announcement] = [e for e in wf.wait_for_executions(2) if e["executionArn"] != stopped["executionArn"]]
        assert json.loads(announcement["input"]) == json.loads(target_input(event))
        assert announcement["status"] == "SUCCEEDED"
        assert wf.path(announcement["executionArn"]) == ["CheckRequest", "DescribeOutcome", *NOTIFY, "Announced"]
        assert len(trigger_calls(wf)) == calls
        sns, events = wf.notifications()
        assert len(sns) == 1 and len(events) == 1
        assert events[0]["detail"]["notificationId"] == stopped["executionArn"] + "#ABORTED"

        put(wf, url, letter)
        status, lines = redrive(wf, "--queue-url", url, "--function", "deploy-trigger",
                                "--state-machine", wf.state_machine_arn)
        assert status == 0, lines
        assert "ALREADY_HANDLED announcement " + announcement["name"] in lines[0]
        assert len(wf.executions()) == 2
        assert wf.notifications() == ([], [])
        assert queue_bodies(wf, url) == []
