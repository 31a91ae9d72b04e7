"""A fake of the Lambda Runtime API for one function, and the processes of
that function running under it. The Lambda host serves invocations through
it; the benchmarks use it to time a process's start and each invocation."""
import json
import queue
import subprocess
import threading
import time
import uuid

from workflow.harness.http_server import Handler, Server
from workflow.harness.names import function_arn


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
        self.processes = []
        api = self

        class RuntimeHandler(Handler):
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

        self.server = Server(("127.0.0.1", 0), RuntimeHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def spawn(self, command, env, cwd=None, log=None):
        """Starts one instance of the function: `command` with `env` and
        AWS_LAMBDA_RUNTIME_API pointing here, its output to `log`."""
        process = subprocess.Popen(command, env=dict(env, AWS_LAMBDA_RUNTIME_API=self.address), cwd=cwd,
                                   stdout=log, stderr=log)
        self.processes.append(process)
        return process

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

    def stop(self):
        """Kills the instances it spawned, answers the /next requests still
        waiting, and stops serving."""
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
        for _ in self.processes:
            self.pending.put((None, b""))
        self.server.shutdown()
        self.server.server_close()
