"""LocalWorkflow: the whole pipeline running offline, as a context manager.
It composes the pieces of this package: the time scaling, moto's mock with
its Step Functions interpreter and its HTTP server, personalize-local, the
resources of template.yaml, and the Lambda host; it feeds the pipeline and
reads its outcomes. Whatever it changes in this process (environment
variables, moto's internals) is put back on exit, also when starting fails
part way."""
import json
import logging
import os
import time
from contextlib import ExitStack, contextmanager

import boto3
from moto import mock_aws

from workflow.harness.events import create_solution_version_call, s3_notification
from workflow.harness.lambda_host import LambdaHost
from workflow.harness.names import BUCKET
from workflow.harness.sample import campaign_arn
from workflow.harness.names import REGION
from workflow.harness.services import OFFLINE_AWS_ENV, MotoServer, PersonalizeLocal, StackResources, service_env
from workflow.harness.time_scaling import ShortWaits


@contextmanager
def environment(**values):
    """Sets these variables in os.environ; on exit puts back what each was
    before, removing those that were not set."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalWorkflow:
    """Everything running: use as a context manager.

    speed: personalize-local's time speed-up; time_scale: factor applied to
    Wait and Retry delays (default 1/speed, so that both agree); env: extra
    environment of the Lambdas (e.g. POLL_INITIAL_SECONDS), function_env
    per function ({"campaign-status": {...}}); with scaled
    Waits, campaign-status never holds around an expected end
    (POLL_HOLD_SECONDS=0, TRAINING_HOLD_SECONDS=0) unless env says otherwise; personalize_args: more
    personalize-local options.
    """

    def __init__(self, speed=600.0, time_scale=None, env=None, personalize_args=(), instances=None, seed=None,
                 function_env=None):
        self.speed = speed
        self.time_scale = (1.0 / speed) if time_scale is None else time_scale
        self.extra_env = env or {}
        self.personalize_args = list(personalize_args)
        self.instances = instances
        self.seed = seed
        self.function_env = function_env

    def __enter__(self):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # The interpreter logs every Fail state as an error; the outcome is
        # reported through the execution instead.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)

        self.stack = ExitStack()
        try:
            self.stack.enter_context(environment(**OFFLINE_AWS_ENV))
            self.waits = self.stack.enter_context(ShortWaits(self.time_scale))
            self.stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
            self.moto = MotoServer()
            self.stack.callback(self.moto.stop)
            self.moto_url = self.moto.start().url

            self.personalize = PersonalizeLocal("--speed", self.speed, *self.personalize_args)
            self.stack.callback(self.personalize.stop)
            self.personalize.start()
            if self.seed:
                self.personalize.admin("/seed", self.seed)

            self.resources = StackResources()
            self.s3, self.sfn = self.resources.s3, self.resources.sfn
            self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
            self.topic_arn, self.state_machine_arn = self.resources.topic_arn, self.resources.state_machine_arn
            env = dict(
                os.environ,
                **service_env(self.personalize.url, self.moto_url, self.state_machine_arn),
                RUST_LOG="info",
            )
            if self.time_scale != 1.0:
                # A hold around an expected end reads the Lambda's clock against
                # Personalize's timestamps, which scaled Waits cannot keep in step:
                # it is on only where Waits are real (or where env says so).
                env["POLL_HOLD_SECONDS"] = "0"
                env["TRAINING_HOLD_SECONDS"] = "0"
            env.update(self.extra_env)
            self.lambdas = LambdaHost(env, instances=self.instances, function_env=self.function_env)
            # The logs are appended to across runs: this run's start from here.
            status_log = self.lambdas.log_dir / "campaign-status.log"
            self._status_log_from = status_log.stat().st_size if status_log.exists() else 0
            self.stack.callback(self.lambdas.stop)
            self.lambdas.start()
            # moto's interpreter calls Lambda through boto3: send it to the host.
            self.stack.enter_context(environment(AWS_ENDPOINT_URL_LAMBDA=self.lambdas.url))
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self.stack.close()

    # ---------------------------------------------------------------- inputs

    def put_manifest(self, key, body):
        """Uploads a manifest; returns the S3 event notification announcing it
        (shaped like events/s3-notification.json, key URL-encoded)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        out = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return s3_notification(BUCKET, key, len(data), out["ETag"].strip('"'), out.get("VersionId"))

    def train(self, solution_arn, training_mode="FULL"):
        """Starts training a new version of a solution in personalize-local;
        returns its ARN and the CloudTrail event of the call, as EventBridge
        would deliver it."""
        arn = self.personalize.client().create_solution_version(
            solutionArn=solution_arn, trainingMode=training_mode)["solutionVersionArn"]
        return arn, create_solution_version_call(solution_arn, arn, training_mode)

    def auto_train(self, solution_arn):
        """Makes personalize-local train a new version of a solution as its
        automatic training would (trainingType AUTOMATIC, trainingMode
        AUTOTRAIN): no API call, so no CloudTrail event; only a look at the
        solution finds it. Returns the new version's ARN; raises AdminError for
        a solution whose performAutoTraining is false."""
        return self.personalize.admin("/auto-train", {"solutionArn": solution_arn})["solutionVersionArn"]

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

    def notifications(self):
        """Drains what was published: ([(subject, message)], [event])."""
        return self.resources.notifications()

    def metrics(self, execution_arn):
        """The embedded-metric lines campaign-status logged for an execution
        (CloudWatch turns them into metrics)."""
        path = self.lambdas.log_dir / "campaign-status.log"
        if not path.exists():
            return []
        with open(path, "rb") as log:
            log.seek(self._status_log_from)
            lines = log.read().decode(errors="replace").splitlines()
        out = []
        for line in lines:
            if '"_aws"' not in line:
                continue
            record = json.loads(line)
            if record.get("ExecutionArn") == execution_arn:
                out.append(record)
        return out

    def put_alarm(self, name, state="OK", campaign=None):
        """A CloudWatch alarm in moto (on a campaign's 5xx errors, as a user
        would watch one), set to `state`."""
        self.cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="AWS/Personalize", MetricName="GetRecommendations5xxErrors",
            Dimensions=[{"Name": "CampaignArn", "Value": campaign_arn(campaign or "movie-recs")}],
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching")
        self.set_alarm(name, state)

    def set_alarm(self, name, state, reason=None):
        """Flips an alarm, as CloudWatch would on its metric."""
        self.cloudwatch.set_alarm_state(
            AlarmName=name, StateValue=state,
            StateReason=reason or f"Threshold Crossed: set to {state} by the test")

    def campaign(self, name):
        arn = campaign_arn(name)
        try:
            return self.personalize.client().describe_campaign(campaignArn=arn)["campaign"]
        except self.personalize.client().exceptions.ResourceNotFoundException:
            return None
