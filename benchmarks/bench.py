"""Cold start, latency and memory of the Lambdas, next to Python, and the
trigger's throughput. Run it through `benchmarks/run`, which builds what it
needs first; the raw results go to target/bench-results/ (not in git).

Every Lambda process runs under a fake of the Lambda Runtime API that times:

- start: from just before the process is spawned to its first
  GET /runtime/invocation/next (init: config, SDK clients);
- first: the first invocation, from the moment the event is sent in answer to
  /next until the response is posted (first connections, lazy set-up);
- warm: the median of the next invocations of the same process;
- peak RSS: VmHWM of the process after its last invocation.

The Lambdas talk to personalize-local (Personalize) and to a moto server
(S3 and Step Functions) over HTTP on this machine, as in AWS they would talk
to the services. Each run is a new process (a cold start). The three Lambdas
are measured again under trust stores laid out as on Lambda's provided.al2023
(trust_store.py): for those rows the benchmark runs itself in a private mount
namespace and puts the layout in place of /etc while they run.

The fake Runtime API, personalize-local, the moto server and the Lambda
environment come from the local workflow's harness (workflow/harness/);
report.py renders the report, twin_parity.py checks that the Python twin
answers as the Rust handler does.
"""
import argparse
import concurrent.futures
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks import trust_store
from benchmarks.report import render
from benchmarks.twin_parity import PARITY_CAMPAIGNS, TWIN, parity
from workflow.contract import CONTRACT
from workflow.harness.events import EVENTS, s3_notification, s3_record, sample
from workflow.harness.names import BUCKET, target_dir
from workflow.harness.runtime_api import RuntimeApi
from workflow.harness.sample import seed
from workflow.harness.services import MotoServer, PersonalizeLocal, create_state_machine, lambda_env




# ---------------------------------------------------------------- harness


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM")


class Subject:
    """One thing to measure: a command and the events to send it."""

    def __init__(self, label, command, events, cwd=None, check=None, etc=None):
        self.label = label
        self.etc = etc  # an /etc to put in place while it runs (trust_store.py)
        self.command = command
        self.events = events  # events(run, i) -> JSON bytes
        self.cwd = cwd
        self.check = check  # check(kind, body) raises when the answer is wrong
        self.samples = {"start": [], "first": [], "warm": [], "rss": []}

    def run_once(self, env, run, warm, log):
        if self.etc:
            trust_store.mount(self.etc)
        runtime = RuntimeApi("bench", timeout=60)
        try:
            started = time.perf_counter()
            process = runtime.spawn(self.command, env, cwd=self.cwd, log=log)
            if not runtime.first_next.wait(60) or runtime.init_errors:
                raise RuntimeError(f"{self.label}: no /next within 60 s (init errors: {runtime.init_errors})")
            start = runtime.first_next_at - started
            kind, body, first = runtime.invoke_timed(self.events(run, 0))
            self._verify(kind, body)
            warm_latencies = []
            for i in range(1, warm + 1):
                kind, body, latency = runtime.invoke_timed(self.events(run, i))
                self._verify(kind, body)
                warm_latencies.append(latency)
            rss = peak_rss_kib(process.pid)
        finally:
            runtime.stop()
            if self.etc:
                trust_store.unmount()
        self.samples["start"].append(start * 1000)
        self.samples["first"].append(first * 1000)
        self.samples["warm"].append(statistics.median(warm_latencies) * 1000)
        self.samples["rss"].append(rss / 1024)

    def _verify(self, kind, body):
        if kind != "response":
            raise RuntimeError(f"{self.label}: invocation failed: {body}")
        if self.check:
            self.check(body)


# ---------------------------------------------------------------- events


def status_event(_run, _i):
    # An update whose campaign now serves the target: the final poll, with
    # its notification (the most work a poll does).
    return (EVENTS / "campaign-status-input.json").read_bytes()


def deploy_events(prefix):
    """A new campaign each invocation: DescribeCampaign (not found), then
    CreateCampaign; each subject its own campaigns."""
    return lambda run, i: deploy_event(f"{prefix}-{run}-{i}")


def deploy_event(name):
    event = sample("deploy-campaign-input.json")
    event["state"]["request"]["campaignName"] = name
    return json.dumps(event).encode()


def manifest(name):
    body = sample("manifests/movie-recs.json")
    body["campaignName"] = name
    return json.dumps(body).encode()


def requested_event(name, event_id=None):
    event = sample("deployment-requested.json")
    event["id"] = event_id or str(uuid.uuid4())
    event["detail"]["campaignName"] = name
    return event


# ---------------------------------------------------------------- checks


def started_all(body):
    executions = body.get("executions") or []
    if not executions or any(e["status"] not in ("STARTED", "ALREADY_HANDLED") or e["rejected"] for e in executions):
        raise RuntimeError(f"deploy-trigger did not start its executions: {body}")


def deployed(body):
    if body.get("operation") not in ("CREATE", "UPDATE"):
        raise RuntimeError(f"deploy-campaign did not deploy: {body}")


def final_active(body):
    if body.get("outcome") != "ACTIVE" or not body.get("notification"):
        raise RuntimeError(f"campaign-status did not report ACTIVE with a notification: {body}")


# ------------------------------------------------------------- throughput


def executions_by_campaign(sfn, state_machine_arn, prefix):
    counts = {}
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for execution in page["executions"]:
            if execution["name"].startswith(prefix):
                campaign = execution["name"].rsplit("-", 1)[0]
                counts[campaign] = counts.get(campaign, 0) + 1
    return counts


def throughput(env, s3, sfn, state_machine_arn, instances, burst, distinct, log, trigger_binary):
    runtime = RuntimeApi("deploy-trigger", timeout=120)
    results = {}
    try:
        for _ in range(instances):
            runtime.spawn([str(trigger_binary)], env, log=log)
        # One S3 event with 100 records (100 manifests), then the same event again.
        records = []
        for n in range(100):
            key = f"manifests/tp-s3-{n:03d}.json"
            body = manifest(f"tp-s3-{n:03d}")
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            records.append(s3_record(BUCKET, key, len(body), "0" * 32))
        payload = json.dumps({"Records": records}).encode()
        for attempt in ("first delivery", "redelivery"):
            t = time.perf_counter()
            kind, body = runtime.invoke(payload)
            elapsed = time.perf_counter() - t
            if kind != "response":
                raise RuntimeError(f"deploy-trigger failed on the 100-record event: {body[:500]}")
            answer = json.loads(body)
            counts = executions_by_campaign(sfn, state_machine_arn, "tp-s3-")
            results[f"s3 100 records, {attempt}"] = {
                "seconds": elapsed,
                "started": sum(e["status"] == "STARTED" for e in answer["executions"]),
                "already": sum(e["status"] == "ALREADY_HANDLED" for e in answer["executions"]),
                "executions": sum(counts.values()),
                "duplicates": sum(c - 1 for c in counts.values()),
                "expected": 100,
            }

        # A burst of EventBridge events: `distinct` requests, the rest
        # redeliveries of some of them (same event id), in random order.
        rng = random.Random(5)
        events = [requested_event(f"tp-eb-{n:04d}") for n in range(distinct)]
        events += [rng.choice(events[:distinct]) for _ in range(burst - distinct)]
        rng.shuffle(events)
        payloads = [json.dumps(e).encode() for e in events]
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=instances * 4) as pool:
            answers = list(pool.map(runtime.invoke, payloads))
        elapsed = time.perf_counter() - t
        failed = [b for k, b in answers if k != "response"]
        if failed:
            raise RuntimeError(f"{len(failed)} burst invocations failed, e.g. {failed[0][:500]}")
        statuses = [json.loads(b)["executions"][0]["status"] for _, b in answers]
        counts = executions_by_campaign(sfn, state_machine_arn, "tp-eb-")
        results[f"EventBridge burst of {burst} ({distinct} distinct)"] = {
            "seconds": elapsed,
            "started": statuses.count("STARTED"),
            "already": statuses.count("ALREADY_HANDLED"),
            "executions": sum(counts.values()),
            "duplicates": sum(c - 1 for c in counts.values()),
            "expected": distinct,
        }
    finally:
        runtime.stop()
    return results


# ------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="cold starts per Lambda (default 20)")
    parser.add_argument("--warm", type=int, default=10, help="warm invocations per run (default 10)")
    parser.add_argument("--instances", type=int, default=4, help="deploy-trigger instances for the burst")
    parser.add_argument("--burst", type=int, default=1000, help="EventBridge events in the burst")
    parser.add_argument("--distinct", type=int, default=800, help="distinct requests among them")
    parser.add_argument("--out", type=Path, default=target_dir() / "bench-results")
    parser.add_argument("--lambdas", type=Path, default=None,
                        help="directory of the three Lambda binaries to measure (default: the release build); "
                             "to compare builds, e.g. one with another opt-level in its own target directory")
    parser.add_argument("--no-al2023", action="store_true",
                        help="leave out the Lambdas with AL2023-like trust stores (trust_store.py)")
    args = parser.parse_args()
    if args.runs < 1 or args.warm < 1 or not 1 <= args.distinct <= args.burst:
        parser.error("--runs and --warm must be at least 1, and --distinct from 1 to --burst")
    # The AL2023-like trust stores are put in place of /etc: in a private
    # mount namespace of their own, so this machine's /etc stays as it is.
    al2023 = not args.no_al2023 and cert_bundle() is not None
    if al2023 and not trust_store.in_private_namespace():
        code = trust_store.reexec_in_private_namespace([sys.executable, "-m", __spec__.name, *sys.argv[1:]])
        if code is not None:
            sys.exit(code)
        print("AL2023-like trust stores left out: no private mount namespace here", file=sys.stderr)
        al2023 = False

    release = target_dir() / "release"
    lambdas = args.lambdas or release
    args.out.mkdir(parents=True, exist_ok=True)
    log = open(args.out / "lambda.log", "wb")
    home = tempfile.mkdtemp(prefix="bench-home-")

    personalize = PersonalizeLocal("--max-active-campaigns", "1000000", profile="release").start()
    moto = MotoServer(own_process=True).start()
    try:
        # The sample status input's campaign, serving its target (the final
        # poll), and the parity check's campaigns.
        personalize.admin("/seed", seed(*PARITY_CAMPAIGNS))
        s3, sfn = moto.client("s3"), moto.client("stepfunctions")
        s3.create_bucket(Bucket=BUCKET)
        state_machine_arn = create_state_machine(
            sfn, json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))
        def trigger_events(prefix):
            """One new manifest object (one new execution) per invocation;
            each subject its own."""
            for run in range(args.runs):
                for i in range(args.warm + 1):
                    name = f"{prefix}-{run}-{i}"
                    s3.put_object(Bucket=BUCKET, Key=f"manifests/{name}.json", Body=manifest(name))

            def event(run, i):
                key = f"manifests/{prefix}-{run}-{i}.json"
                return json.dumps(s3_notification(BUCKET, key, 400, "0" * 32)).encode()
            return event

        def env(name):
            return lambda_env(personalize.url, moto.url, state_machine_arn, name, home)

        py = sys.executable
        rust = Subject("campaign-status", [str(lambdas / "campaign-status")], status_event, check=final_active)
        python = Subject("campaign-status (Python, boto3, awslambdaric)",
                         [py, "-m", "awslambdaric", "campaign_status.handler"], status_event,
                         cwd=TWIN, check=final_active)
        floor = Subject("harness floor (bare HTTP client)", [str(release / "examples" / "runtime-floor")],
                        status_event)
        subjects = [
            (Subject("deploy-trigger", [str(lambdas / "deploy-trigger")], trigger_events("bench"),
                     check=started_all),
             env("deploy-trigger")),
            (Subject("deploy-campaign", [str(lambdas / "deploy-campaign")], deploy_events("bench"),
                     check=deployed),
             env("deploy-campaign")),
            (rust, env("campaign-status")),
            (python, dict(env("campaign-status"), LAMBDA_TASK_ROOT=str(TWIN))),
            (floor, env("floor")),
        ]
        bundle = cert_bundle()
        if bundle:
            # The SDK loads the system trust store when it builds its HTTPS
            # client (at init): every file of the certificate directory the
            # system has. The same Lambda with the store given as one file
            # shows what that costs here.
            subjects.append((Subject(f"campaign-status, SSL_CERT_FILE={bundle}", [str(lambdas / "campaign-status")],
                                     status_event, check=final_active),
                             dict(env("campaign-status"), SSL_CERT_FILE=bundle)))
        if al2023:
            # The same Lambdas with the trust store laid out as on Lambda's
            # provided.al2023 (trust_store.py): with and without a hash link
            # per CA in the certificate directory.
            for layout, how in (("al2023", "AL2023 trust store"),
                                ("al2023-hashed", "AL2023 trust store, a hash link per CA")):
                etc = trust_store.build(target_dir() / "bench-trust-stores", bundle, layout)
                for name, events, check in (("deploy-trigger", trigger_events(layout), started_all),
                                            ("deploy-campaign", deploy_events(layout), deployed),
                                            ("campaign-status", status_event, final_active)):
                    subjects.append((Subject(f"{name}, {how}", [str(lambdas / name)], events, check=check, etc=etc),
                                     env(name)))
        for run in range(args.runs):
            for subject, subject_env in subjects:
                subject.run_once(subject_env, run, args.warm, log)
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
        # The Python twin must decide and notify exactly as the Rust handler
        # does, over every kind of decision, for the comparison to hold.
        parity_checked = parity(lambdas / "campaign-status", py, env("campaign-status"), log)

        panic = panic_check(release / "examples" / "panic-probe", env("panic-probe"), log)
        tp = throughput(env("deploy-trigger"), s3, sfn, state_machine_arn, args.instances, args.burst,
                        args.distinct, log, lambdas / "deploy-trigger")
    finally:
        moto.stop()
        personalize.stop()
        log.close()

    report = render([s for s, _ in subjects], rust, python, floor, panic, tp, args, parity_checked)
    print(report)
    (args.out / "report.md").write_text(report)
    raw = {s.label: s.samples for s, _ in subjects}
    (args.out / "raw.json").write_text(json.dumps({"latency_ms_rss_mib": raw, "throughput": tp,
                                                   "panic": panic}, indent=1))
    failures = [name for name, r in tp.items() if r["duplicates"] or r["executions"] != r["expected"]]
    if failures or not panic["reported"]:
        print(f"FAILED: {failures or 'panic not reported'}", file=sys.stderr)
        sys.exit(1)


def panic_check(binary, env, log):
    """Whether a panicking handler is reported as an invocation error, with
    the errorType HandlerPanicked and the panic's message, and the process
    goes on serving."""
    runtime = RuntimeApi("panic-probe", timeout=10)
    process = runtime.spawn([str(binary)], env, log=log)
    try:
        runtime.first_next.wait(30)
        kind, body, _ = runtime.invoke_timed(b'{"panic": true}')
        after_kind, after, _ = runtime.invoke_timed(b'{"hello": 1}')
        error_type = (body or {}).get("errorType")
        return {"reported": kind == "error" and error_type == CONTRACT["panicErrorType"]
                and after_kind == "response" and process.poll() is None,
                "errorType": error_type, "errorMessage": (body or {}).get("errorMessage"),
                "next invocation": after_kind}
    except RuntimeError as e:
        return {"reported": False, "error": str(e), "exit code": process.poll()}
    finally:
        runtime.stop()


def cert_bundle():
    """The system's CA bundle file, when there is one."""
    for path in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if os.path.isfile(path):
            return path
    return None


if __name__ == "__main__":
    main()
