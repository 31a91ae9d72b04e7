"""The AWS services offline: personalize-local (Personalize) as a process,
moto's HTTP server (S3, Step Functions, SNS, SQS, EventBridge), the
credentials and endpoints a Lambda needs to reach them, and the resources
of template.yaml (bucket, topic, state machine) created in moto, with SQS
queues that observe the notifications."""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3

from workflow.definition import definition
from workflow.harness.lambda_host import function_env
from workflow.harness.names import (
    BUCKET, MOTO_ACCOUNT, REGION, STATE_MACHINE_NAME, TOPIC_NAME, binary, function_arn,
)

# Credentials and region for talking to the offline services, with the
# instance metadata lookup off (there is no instance).
OFFLINE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def service_env(personalize_url, moto_url, state_machine_arn):
    """What a Lambda of the project reads to reach the offline services."""
    return {
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_PERSONALIZE": personalize_url,
        "AWS_ENDPOINT_URL_SFN": moto_url,
        "AWS_ENDPOINT_URL_S3": moto_url,
        "AWS_ENDPOINT_URL_CLOUDWATCH": moto_url,
        "S3_FORCE_PATH_STYLE": "true",
        "STATE_MACHINE_ARN": state_machine_arn,
    }


def lambda_env(personalize_url, moto_url, state_machine_arn, name, home):
    """A Lambda process's whole environment, nothing inherited but PATH: the
    offline services' credentials and endpoints, the variables Lambda sets,
    JSON logs."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        **OFFLINE_AWS_ENV,
        "AWS_SESSION_TOKEN": "test",
        **service_env(personalize_url, moto_url, state_machine_arn),
        **function_env(name),
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/22/[$LATEST]bench",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
    }


def client(service, endpoint_url):
    """A boto3 client for an offline service at `endpoint_url`."""
    return boto3.client(service, endpoint_url=endpoint_url, region_name=REGION,
                        aws_access_key_id="test", aws_secret_access_key="test")


class AdminError(RuntimeError):
    """An admin endpoint of personalize-local refused: its HTTP status and its
    answer ({"__type", "message"}, as the API's errors)."""

    def __init__(self, method, path, status, body):
        try:
            self.answer = json.loads(body)
        except ValueError:
            self.answer = {"message": body.decode(errors="replace")}
        self.status = status
        said = " ".join(str(self.answer[k]) for k in ("__type", "message") if k in self.answer)
        super().__init__(f"{method} {path}: HTTP {status}: {said}")


class PersonalizeLocal:
    """personalize-local as a subprocess on a free port."""

    def __init__(self, *args, profile="debug"):
        self.args = [str(a) for a in args]
        self.profile = profile

    def start(self):
        self.process = subprocess.Popen(
            [str(binary("personalize-local", self.profile)), "--port", "0", *self.args],
            stdout=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline()
        if " listening on " not in line:
            raise RuntimeError(f"personalize-local did not start: {line!r}")
        self.url = line.split(" listening on ")[1].split()[0]
        return self

    def admin(self, path, body=None, method="POST"):
        """Calls an admin endpoint (personalize-local/README.md): its answer,
        or AdminError when it refuses."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_personalize-local{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise AdminError(method, path, e.code, e.read()) from None

    def client(self):
        return client("personalize", self.url)

    def stop(self):
        process = getattr(self, "process", None)
        if process is not None:
            process.kill()
            process.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto's HTTP server on this machine, where the Lambdas reach S3 and
    Step Functions.

    own_process=False: a ThreadedMotoServer in this process, which serves the
    state of moto's in-process mock (start it inside `mock_aws`), so the
    Lambdas and moto's Step Functions interpreter see the same resources.
    own_process=True: `python -m moto.server` as a process of its own, with a
    state of its own, whose work stays off this process's threads."""

    def __init__(self, own_process=False):
        self.own_process = own_process
        self.process = None
        self.server = None

    def start(self):
        if self.own_process:
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1).read()
                    return self
                except OSError:
                    time.sleep(0.1)
            raise RuntimeError("moto server did not start")
        from moto.server import ThreadedMotoServer  # brings Flask: only when serving in this process

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def client(self, service):
        return client(service, self.url)

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        if self.server is not None:
            self.server.stop()


def create_state_machine(sfn, text):
    """Creates the deployment state machine with the definition `text`: its ARN."""
    return sfn.create_state_machine(
        name=STATE_MACHINE_NAME, definition=text,
        roleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/personalize-deployer-state-machine",
    )["stateMachineArn"]


class StackResources:
    """The resources of template.yaml in moto's in-process mock: the manifest
    bucket (versioned), the notification topic, the state machine of the
    template with its ARNs substituted; and two SQS queues that observe the
    notifications, one subscribed to the topic, one the target of an
    EventBridge rule on the deployer's events."""

    def __init__(self):
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        events = boto3.client("events", region_name=REGION)

        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]

        self.sns_queue, sns_queue_arn = self._queue("observed-sns")
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=sns_queue_arn)
        self.events_queue, events_queue_arn = self._queue("observed-events")
        events.put_rule(Name="observe-notifications", EventPattern=json.dumps({"source": ["personalize-deployer"]}))
        events.put_targets(Rule="observe-notifications", Targets=[{"Id": "queue", "Arn": events_queue_arn}])

        self.state_machine_arn = create_state_machine(self.sfn, definition({
            "DeployCampaignFunctionArn": function_arn("deploy-campaign"),
            "CampaignStatusFunctionArn": function_arn("campaign-status"),
            "NotificationTopicArn": self.topic_arn,
            "EventBusName": "default",
            "Partition": "aws",
        }))

    def _queue(self, name):
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def _drain(self, url):
        messages = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            batch = got.get("Messages", [])
            if not batch:
                return messages
            for m in batch:
                messages.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def notifications(self):
        """Drains what was published: ([(subject, message)], [event])."""
        sns = [(m.get("Subject"), m.get("Message")) for m in self._drain(self.sns_queue)]
        return sns, self._drain(self.events_queue)
