"""The project's Lambda binaries behind the Lambda Invoke API, as Step
Functions and deploy-trigger's callers reach them: each function's processes
run under its own fake Runtime API, with real Lambda semantics (200 with
X-Amz-Function-Error and {errorType, errorMessage} when a handler fails)."""
import json
import threading
import urllib.parse
import urllib.request
from pathlib import Path

from workflow.definition import function_timeouts
from workflow.harness.http_server import Handler, Server
from workflow.harness.names import FUNCTIONS, binary, target_dir
from workflow.harness.runtime_api import RuntimeApi


def function_env(name):
    """The variables Lambda sets to tell a function who it is."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
    }


class LambdaHost:
    """The project's Lambda binaries behind the Lambda Invoke API. Each
    function's time-out is its template's, but at least `timeout` (the
    debug builds of a busy machine are slower than Lambda's)."""

    def __init__(self, env, instances=None, timeout=60.0, log_dir=None, function_env=None):
        self.env = env
        # Per function, variables that differ from `env`.
        self.function_env = function_env or {}
        self.instances = {name: (instances or {}).get(name, 1) for name in FUNCTIONS}
        own = function_timeouts()
        self.timeouts = {name: max(timeout, float(own.get(name, timeout))) for name in FUNCTIONS}
        self.log_dir = Path(log_dir or target_dir() / "workflow-logs")
        self.runtimes = {}
        self.invocations = []
        # Per function, the errors with which its next invocations end after
        # running (a time-out or crash after the handler's side effects).
        self.lost = {}
        self.serving = False
        host = self

        class InvokeHandler(Handler):
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

        self.server = Server(("127.0.0.1", 0), InvokeHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def lose_next(self, name, *error_types):
        """The next invocations of `name` run, then end as if the function had
        timed out or crashed before answering, with these error types
        (`Sandbox.Timedout`, `Lambda.Unknown`), as Lambda reports them."""
        self.lost.setdefault(name, []).extend(error_types)

    def _invoke(self, name, payload):
        kind, result = self.runtimes[name].invoke(payload)
        lost = self.lost.get(name)
        if lost:
            error_type = lost.pop(0)
            kind = "error"
            result = json.dumps({
                "errorType": error_type,
                "errorMessage": f"{error_type}: the function ended before it answered (injected)",
            }).encode()
        self.invocations.append((name, json.loads(payload or b"null"), kind, json.loads(result or b"null")))
        return kind, result

    def invoke(self, name, event):
        """Invokes a function over the Invoke API: (function error or None, payload)."""
        request = urllib.request.Request(
            f"{self.url}/2015-03-31/functions/{name}/invocations",
            data=json.dumps(event).encode(), method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeouts[name] + 5) as response:
            return response.headers.get("X-Amz-Function-Error"), json.loads(response.read() or b"null")

    def start(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.serving = True
        for name in FUNCTIONS:
            runtime = RuntimeApi(name, self.timeouts[name])
            self.runtimes[name] = runtime
            env = dict(self.env, **function_env(name), **self.function_env.get(name, {}))
            log = open(self.log_dir / f"{name}.log", "ab")
            for _ in range(self.instances[name]):
                runtime.spawn([str(binary(name))], env, log=log)
        return self

    def stop(self):
        """Stops what was started (also after a start that failed half-way)."""
        for runtime in self.runtimes.values():
            runtime.stop()
        if self.serving:
            self.server.shutdown()
