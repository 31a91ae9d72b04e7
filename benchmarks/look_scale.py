"""Following at the scale of a large account: one scheduled look over 1,000
followed campaigns across 100 solutions, and one CloudTrail event for a
solution with 50 followed campaigns, through the real deploy-trigger binary
(debug build, as the local pipeline runs it) against personalize-local.

    python -m benchmarks.look_scale [--latency-ms 60] [--runs 3]

Every Personalize call of deploy-trigger goes through a proxy that adds
`--latency-ms` to each call (what a control-plane call costs in AWS is not
what it costs here) and counts the calls by operation. deploy-trigger paces
its calls at the template's default PersonalizeCallsPerSecond unless
`--calls-per-second` says otherwise. Reported per case: the look's duration
(the invocation, median of the runs), the calls by operation, the peak
calls per second, deploy-trigger's peak resident memory (VmHWM, Linux), and
the margin to its time-out (the template's). The look's campaigns serve
their solution's newest version, so that it starts no execution: on this
2-core machine moto's StartExecution, which runs each execution it starts,
answers a burst of a hundred more slowly than deploy-trigger's 8 s operation
time-out, which says nothing of Step Functions. The CloudTrail event's 50
campaigns each get an execution (its version trains for 10 hours, and the
Wait states are real, so that they wait instead of loading the machine).
"""
import argparse
import statistics
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from workflow.definition import function_timeouts, load_template
from workflow.harness.events import create_solution_version_call, scheduled_event
from workflow.harness.http_server import Handler, Server
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.names import binary

ACCOUNT, REGION = "111122223333", "us-east-1"
LOOK_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/personalize-deployer-FollowLook-1A2B3C4D5E6F"
TEMPLATE = load_template()
TIMEOUT_SECONDS = function_timeouts(TEMPLATE)["deploy-trigger"]
DEFAULT_RATE = TEMPLATE["Parameters"]["PersonalizeCallsPerSecond"]["Default"]
FOLLOW = {"tagKey": "personalize-deployer:follow", "tagValue": "true"}


def solution_arn(name):
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/{name}"


def accounts_seed(solutions, campaigns_each, newer_every):
    """`solutions` solutions, each with an older version its campaigns serve
    and, for one in `newer_every` (none when None), a newer one still
    training;
    `campaigns_each` followed campaigns per solution."""
    data = {"solutions": [], "solutionVersions": [], "campaigns": []}
    for i in range(solutions):
        name = f"sol{i:03d}"
        data["solutions"].append({"name": name})
        data["solutionVersions"].append({"solution": name, "id": f"{i:04x}aaaa", "ageSeconds": 7200})
        if newer_every and i % newer_every == 0:
            data["solutionVersions"].append({"solution": name, "id": f"{i:04x}bbbb", "ageSeconds": 60,
                                             "status": "CREATE IN_PROGRESS"})
        for j in range(campaigns_each):
            data["campaigns"].append({
                "name": f"follow-{i:03d}-{j:02d}", "minProvisionedTPS": 1, "tags": [FOLLOW],
                "solutionVersionArn": f"{solution_arn(name)}/{i:04x}aaaa"})
    return data


class Proxy:
    """Personalize calls to `upstream`, each `latency` seconds later, counted
    by operation and by second."""

    def __init__(self, latency):
        self.latency, self.upstream = latency, None
        self.calls, self.per_second = Counter(), Counter()
        self.lock = threading.Lock()
        proxy = self

        class Forward(Handler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "?").split(".")[-1]
                with proxy.lock:
                    proxy.calls[operation] += 1
                    proxy.per_second[int(time.time())] += 1
                time.sleep(proxy.latency)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self._reply(status, data)

        self.server = Server(("127.0.0.1", 0), Forward)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def counted(self):
        with self.lock:
            return Counter(self.calls), max(self.per_second.values(), default=0)


def peak_memory_kib(name):
    """The largest VmHWM of the running processes of a function's binary."""
    path = str(binary(name))
    peak = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[0].decode() != path:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak


def measure(data, event, latency, runs, rate_bound):
    """Runs the event `runs` times, each in a fresh pipeline: durations,
    calls by operation, peak calls per second, peak memory, executions."""
    durations, memory, rate, calls, started = [], 0, 0, Counter(), 0
    for _ in range(runs):
        proxy = Proxy(latency)
        # Only deploy-trigger's calls go through the proxy: the executions the
        # look starts call Personalize directly.
        trigger_env = {"AWS_ENDPOINT_URL_PERSONALIZE": proxy.url, "PERSONALIZE_CALLS_PER_SECOND": str(rate_bound)}
        # Trainings of 10 hours (at personalize-local's speed, 60 s), real Waits.
        with LocalWorkflow(seed=data, function_env={"deploy-trigger": trigger_env}, time_scale=1.0,
                           personalize_args=["--max-active-campaigns", "100000",
                                             "--solution-version-training-seconds", "36000"]) as wf:
            proxy.upstream = wf.personalize.url
            start = time.monotonic()
            error, report = wf.trigger(event() if callable(event) else event)
            durations.append(time.monotonic() - start)
            assert error is None, report
            calls, rate = proxy.counted()
            started = len(report["executions"])
            memory = max(memory, peak_memory_kib("deploy-trigger"))
        proxy.server.shutdown()
    return statistics.median(durations), calls, rate, memory, started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls-per-second", type=int, default=DEFAULT_RATE)
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    cases = [
        ("scheduled look, 1,000 campaigns / 100 solutions", accounts_seed(100, 10, None),
         lambda: scheduled_event(LOOK_RULE)),
        ("CloudTrail event, 1 solution with 50 campaigns", accounts_seed(1, 50, 1),
         lambda: create_solution_version_call(solution_arn("sol000"), f"{solution_arn('sol000')}/0000bbbb")),
    ]
    print(f"latency added per Personalize call: {args.latency_ms:g} ms; calls paced at {args.calls_per_second} "
          f"a second; median of {args.runs} runs")
    print(f"| Case | Duration (s) | Margin to {TIMEOUT_SECONDS} s | Calls by operation | Peak calls/s "
          "| Peak memory (MiB) | Executions started |")
    print("|---|---|---|---|---|---|---|")
    for label, data, event in cases:
        duration, calls, rate, memory, started = measure(data, event, latency, args.runs, args.calls_per_second)
        by_op = ", ".join(f"{op} {n}" for op, n in sorted(calls.items()))
        print(f"| {label} | {duration:.1f} | {TIMEOUT_SECONDS / duration:.1f}× | {by_op} | {rate} "
              f"| {memory / 1024:.1f} | {started} |", flush=True)


if __name__ == "__main__":
    main()
