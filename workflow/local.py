"""The whole pipeline offline.

- moto (in this process, with its Step Functions interpreter enabled) plays S3,
  SNS, SQS, EventBridge and Step Functions; a ThreadedMotoServer in the same
  process lets the Rust Lambdas reach the same state over HTTP;
- the state machine is the definition of template.yaml, its ARNs substituted;
- its Lambda tasks go over the Lambda Invoke API to a local Lambda host that
  runs the project's real Lambda binaries under a Runtime API, with real Lambda
  semantics (200 + X-Amz-Function-Error and {errorType, errorMessage});
- Personalize is personalize-local;
- notifications are observed through SQS queues subscribed to the topic and
  targeted by an EventBridge rule;
- Wait states and Retry intervals are shortened by `time_scale` without
  changing the definition.
"""
import json
import os
import queue
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import logging

import boto3

from workflow.definition import definition

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
FUNCTIONS = ("deploy-trigger", "deploy-campaign", "campaign-status")
STATE_MACHINE_NAME = "personalize-deployer-deployment"
TOPIC_NAME = "personalize-deployer-notifications"
BUCKET = "personalize-deployer-manifests"


def target_dir():
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def binary(name, profile="debug"):
    path = target_dir() / profile / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build it with `cargo build --bins --workspace`")
    return path


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:function:{name}"


def s3_record(bucket, key, size, etag, version_id=None):
    """An S3 event notification record announcing an object, shaped like
    those of events/s3-notification.json (the key URL-encoded as S3 does)."""
    record = json.loads((ROOT / "events" / "s3-notification.json").read_text())["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    record["s3"]["object"] = {
        "key": urllib.parse.quote_plus(key, safe="/"),
        "size": size,
        "eTag": etag,
        "sequencer": f"{time.time_ns():018X}",
    }
    if version_id is not None:
        record["s3"]["object"]["versionId"] = version_id
    return record


# --------------------------------------------------------------------- Lambda


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A Lambda process killed at shutdown drops its connection: not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, quiet, and a JSON reply helper. Nagle's
    algorithm is off: headers and body go out as separate writes, and with it
    on, a client's delayed ACK would hold each reply back by up to 40 ms."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"{}", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RuntimeApi:
    """The Lambda Runtime API for one function: its instances long-poll
    /next; an invocation waits for /response or /error. It also times what
    the benchmarks measure: when /next was first asked for, and how long each
    invocation took from handing out the event to its answer."""

    def __init__(self, name, timeout):
        self.name = name
        self.timeout = timeout
        self.pending = queue.Queue()
        self.results = {}
        self.done = {}
        self.sent = {}
        self.lock = threading.Lock()
        self.init_errors = []
        self.first_next = threading.Event()
        self.first_next_at = None
        api = self

        class Handler(_Handler):
            def do_GET(self):
                now = time.perf_counter()
                if not self.path.endswith("/runtime/invocation/next"):
                    return self._reply(404)
                if api.first_next_at is None:
                    api.first_next_at = now
                    api.first_next.set()
                request_id, payload = api.pending.get()
                if request_id is None:  # shutting down
                    return self._reply(410)
                deadline = int((time.time() + api.timeout) * 1000)
                headers = [
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", function_arn(api.name)),
                    ("Lambda-Runtime-Trace-Id", f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0"),
                ]
                with api.lock:
                    api.sent[request_id] = time.perf_counter()
                self._reply(200, payload, headers)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                parts = self.path.strip("/").split("/")
                if parts[-2:] == ["init", "error"]:
                    api.init_errors.append(body)
                    api.first_next.set()  # wake whoever waits for the start
                    return self._reply(202)
                if len(parts) >= 5 and parts[-3] == "invocation" and parts[-1] in ("response", "error"):
                    request_id = parts[-2]
                    with api.lock:
                        api.results[request_id] = (parts[-1], body, now - api.sent.pop(request_id, now))
                        event = api.done.get(request_id)
                    self._reply(202)
                    if event:
                        event.set()
                    return None
                return self._reply(404)

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def _run(self, payload, timeout):
        """(kind, body, seconds from handing out the event to the answer), or
        None when there was no answer in time."""
        request_id = str(uuid.uuid4())
        event = threading.Event()
        with self.lock:
            self.done[request_id] = event
        self.pending.put((request_id, payload))
        answered = event.wait(timeout)
        with self.lock:
            self.done.pop(request_id, None)
            return self.results.pop(request_id) if answered else None

    def invoke(self, payload: bytes):
        """Runs one invocation: ('response' | 'error', body)."""
        result = self._run(payload, self.timeout)
        if result is None:
            return "error", json.dumps({
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"Task timed out after {self.timeout:.2f} seconds",
            }).encode()
        return result[:2]

    def invoke_timed(self, payload: bytes, timeout=None):
        """Runs one invocation: (kind, body as JSON, latency in seconds); an
        invocation without an answer in time is a RuntimeError."""
        result = self._run(payload, timeout or self.timeout)
        if result is None:
            raise RuntimeError(f"{self.name}: invocation timed out")
        kind, body, latency = result
        return kind, json.loads(body or b"null"), latency

    def stop(self, instances):
        for _ in range(instances):
            self.pending.put((None, b""))
        self.server.shutdown()
        self.server.server_close()


class LambdaHost:
    """The project's Lambda binaries behind the Lambda Invoke API."""

    def __init__(self, env, instances=None, timeout=60.0, log_dir=None):
        self.env = env
        self.instances = {name: (instances or {}).get(name, 1) for name in FUNCTIONS}
        self.timeout = timeout
        self.log_dir = Path(log_dir or target_dir() / "workflow-logs")
        self.runtimes = {}
        self.processes = []
        self.invocations = []
        self.serving = False
        host = self

        class Handler(_Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.unquote(self.path).split("/")
                # /2015-03-31/functions/<name or ARN>/invocations
                if len(parts) < 5 or parts[2] != "functions" or parts[-1] != "invocations":
                    return self._reply(404, b'{"__type": "UnknownOperationException"}')
                name = parts[3].split(":function:")[-1].split(":")[0]
                runtime = host.runtimes.get(name)
                if runtime is None:
                    message = json.dumps({"Type": "User", "message": f"Function not found: {name}"})
                    return self._reply(404, message.encode(), [("X-Amzn-ErrorType", "ResourceNotFoundException")])
                if self.headers.get("X-Amz-Invocation-Type") == "Event":
                    threading.Thread(target=host._invoke, args=(name, body), daemon=True).start()
                    return self._reply(202, b"")
                kind, result = host._invoke(name, body)
                headers = [("X-Amz-Executed-Version", "$LATEST")]
                if kind == "error":
                    headers.append(("X-Amz-Function-Error", "Unhandled"))
                self._reply(200, result, headers)

        self.server = _Server(("127.0.0.1", 0), Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _invoke(self, name, payload):
        kind, result = self.runtimes[name].invoke(payload)
        self.invocations.append((name, json.loads(payload or b"null"), kind, json.loads(result or b"null")))
        return kind, result

    def invoke(self, name, event):
        """Invokes a function over the Invoke API: (function error or None, payload)."""
        request = urllib.request.Request(
            f"{self.url}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(event).encode(), method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout + 5) as response:
            return response.headers.get("X-Amz-Function-Error"), json.loads(response.read() or b"null")

    def start(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.serving = True
        for name in FUNCTIONS:
            runtime = RuntimeApi(name, self.timeout)
            self.runtimes[name] = runtime
            env = dict(self.env)
            env.update(
                AWS_LAMBDA_RUNTIME_API=runtime.address,
                AWS_LAMBDA_FUNCTION_NAME=name,
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
                AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{name}",
            )
            log = open(self.log_dir / f"{name}.log", "ab")
            for _ in range(self.instances[name]):
                self.processes.append(subprocess.Popen([str(binary(name))], env=env, stdout=log, stderr=log))
        return self

    def stop(self):
        """Stops what was started (also after a start that failed half-way)."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
        for name, runtime in self.runtimes.items():
            runtime.stop(self.instances[name])
        if self.serving:
            self.server.shutdown()


# -------------------------------------------------------------- personalize


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
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/_personalize-local{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def client(self):
        return boto3.client(
            "personalize", endpoint_url=self.url, region_name=REGION,
            aws_access_key_id="test", aws_secret_access_key="test",
        )

    def stop(self):
        process = getattr(self, "process", None)
        if process is not None:
            process.kill()
            process.wait()


# ----------------------------------------------------------- time shortening


class ShortWaits:
    """Scales moto's Wait states and Retry intervals by `scale` while active."""

    def __init__(self, scale):
        self.scale = scale

    def __enter__(self):
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

        scale = self.scale
        self._wait = wait_function.WaitFunction._wait_interval
        self._retrier_time = retrier_decl.time
        self.waited = []
        waited = self.waited

        def wait_interval(_self, env, wait_seconds):
            waited.append(wait_seconds)
            if wait_seconds > 0:
                env.program_state_event.wait(wait_seconds * scale)

        class ScaledTime:
            def __getattr__(self, name):
                return getattr(time, name)

            @staticmethod
            def sleep(seconds):
                time.sleep(seconds * scale)

        wait_function.WaitFunction._wait_interval = wait_interval
        retrier_decl.time = ScaledTime()
        self._modules = (wait_function, retrier_decl)
        return self

    def __exit__(self, *exc):
        wait_function, retrier_decl = self._modules
        wait_function.WaitFunction._wait_interval = self._wait
        retrier_decl.time = self._retrier_time


# ------------------------------------------------------------ the workflow


class LocalWorkflow:
    """Everything running: use as a context manager.

    speed: personalize-local's time speed-up; time_scale: factor applied to
    Wait and Retry delays (default 1/speed, so that both agree); env: extra
    environment of the Lambdas (e.g. POLL_INITIAL_SECONDS);
    personalize_args: more personalize-local options.
    """

    def __init__(self, speed=600.0, time_scale=None, env=None, personalize_args=(), instances=None, seed=None):
        self.speed = speed
        self.time_scale = (1.0 / speed) if time_scale is None else time_scale
        self.extra_env = env or {}
        self.personalize_args = list(personalize_args)
        self.instances = instances
        self.seed = seed

    def __enter__(self):
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # The interpreter logs every Fail state as an error; the outcome is
        # reported through the execution instead.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)

        self.stack = ExitStack()
        try:
            for key, value in dict(
                AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION=REGION,
                AWS_EC2_METADATA_DISABLED="true",
            ).items():
                os.environ[key] = value
            self.waits = self.stack.enter_context(ShortWaits(self.time_scale))
            self.stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self.moto.start()
            self.stack.callback(self.moto.stop)
            host, port = self.moto.get_host_and_port()
            self.moto_url = f"http://{host}:{port}"

            self.personalize = PersonalizeLocal("--speed", self.speed, *self.personalize_args)
            self.stack.callback(self.personalize.stop)
            self.personalize.start()
            if self.seed:
                self.personalize.admin("/seed", self.seed)

            self._create_resources()
            env = dict(
                os.environ,
                AWS_REGION=REGION,
                AWS_ENDPOINT_URL_PERSONALIZE=self.personalize.url,
                AWS_ENDPOINT_URL_SFN=self.moto_url,
                AWS_ENDPOINT_URL_S3=self.moto_url,
                S3_FORCE_PATH_STYLE="true",
                STATE_MACHINE_ARN=self.state_machine_arn,
                RUST_LOG="info",
            )
            env.update(self.extra_env)
            self.lambdas = LambdaHost(env, instances=self.instances)
            self.stack.callback(self.lambdas.stop)
            self.lambdas.start()
            # moto's interpreter calls Lambda through boto3: send it to the host.
            previous = os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
            os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.lambdas.url
            self.stack.callback(
                lambda: os.environ.pop("AWS_ENDPOINT_URL_LAMBDA", None)
                if previous is None else os.environ.__setitem__("AWS_ENDPOINT_URL_LAMBDA", previous)
            )
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self.stack.close()

    def _create_resources(self):
        self.s3 = boto3.client("s3", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        self.sqs = sqs

        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]

        def queue(name):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            return url, arn

        self.sns_queue, sns_queue_arn = queue("observed-sns")
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=sns_queue_arn)
        self.events_queue, events_queue_arn = queue("observed-events")
        events.put_rule(Name="observe-notifications", EventPattern=json.dumps({"source": ["personalize-deployer"]}))
        events.put_targets(Rule="observe-notifications", Targets=[{"Id": "queue", "Arn": events_queue_arn}])

        text = definition({
            "DeployCampaignFunctionArn": function_arn("deploy-campaign"),
            "CampaignStatusFunctionArn": function_arn("campaign-status"),
            "NotificationTopicArn": self.topic_arn,
            "EventBusName": "default",
            "Partition": "aws",
        })
        self.state_machine_arn = self.sfn.create_state_machine(
            name=STATE_MACHINE_NAME, definition=text,
            roleArn=f"arn:aws:iam::{MOTO_ACCOUNT}:role/personalize-deployer-state-machine",
        )["stateMachineArn"]

    # ---------------------------------------------------------------- inputs

    def put_manifest(self, key, body):
        """Uploads a manifest; returns the S3 event notification announcing it
        (shaped like events/s3-notification.json, key URL-encoded)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        out = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return {"Records": [s3_record(BUCKET, key, len(data), out["ETag"].strip('"'), out.get("VersionId"))]}

    def trigger(self, event):
        """Invokes deploy-trigger with an event: (function error, payload)."""
        return self.lambdas.invoke("deploy-trigger", event)

    # -------------------------------------------------------------- outcomes

    def executions(self):
        return self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def wait_for_executions(self, count=1, timeout=60.0):
        """Waits until `count` executions exist and none is running."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            executions = self.executions()
            if len(executions) >= count and all(e["status"] != "RUNNING" for e in executions):
                return [self.sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]
            time.sleep(0.05)
        raise TimeoutError(f"executions still running after {timeout} s: {self.executions()}")

    def history(self, execution_arn):
        return self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]

    def path(self, execution_arn):
        """The names of the states entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history(execution_arn)
            if "stateEnteredEventDetails" in e
        ]

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

    def campaign(self, name):
        arn = f"arn:aws:personalize:us-east-1:111122223333:campaign/{name}"
        try:
            return self.personalize.client().describe_campaign(campaignArn=arn)["campaign"]
        except self.personalize.client().exceptions.ResourceNotFoundException:
            return None
