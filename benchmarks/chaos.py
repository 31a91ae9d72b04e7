"""The chaos run: the whole offline pipeline (deploy-trigger, the state machine
of template.yaml in moto's interpreter, the task Lambdas, personalize-local)
with many deployments at once, every event delivered twice and concurrently,
competing requests for campaigns busy with 90-minute updates, a Personalize that throttles (both
error names), fails with 5xx and fails deployments, and alarms that fire during watches.

    benchmarks/chaos [--short] [--seed N]   # N: seed of personalize-local's faults

Prints a table per scenario and exits 1 if any deployment was lost (a
request without an execution, an execution without its notification),
duplicated (a second execution or notification), wrongly reported (an
outcome the scenario does not allow, a campaign left on another version
than the last deployment that succeeded) or hung (still running at the end).
The short version runs in the test command (tests/workflow/test_chaos.py).
"""
import argparse
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime

from workflow.harness.events import sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SOLUTION, SV1, SV2, seed

SV3 = SOLUTION + "/9c0d1e2f"
FAILING = "the injected deployment failure"
INSTANCES = {"deploy-trigger": 4, "deploy-campaign": 4, "campaign-status": 4}
# Creates beyond the emulator's default of 5 active campaigns per dataset
# group are not what this run is about.
ROOMY = ["--max-active-campaigns", "100000"]


def versions():
    """The movies sample and a third version, so that requests can compete."""
    data = seed()
    data["solutionVersions"].append({"solution": "movies", "id": "9c0d1e2f", "ageSeconds": 10})
    return data


def serving(name, version=SV1):
    return {"name": name, "solutionVersionArn": version, "status": "ACTIVE", "minProvisionedTPS": 1}


def sns_id(message):
    """The notification id an SNS message states ("Notification id: ...")."""
    for line in message.splitlines():
        if line.startswith("Notification id:"):
            return line.split(":", 1)[1].strip()
    return None


class Run:
    """One scenario: its requests, delivered twice and concurrently, and the
    checks of what came out."""

    def __init__(self, wf):
        self.wf = wf
        self.requests = {}  # request id -> (campaign, target, allowed statuses)
        self.threads = []
        self.errors = []
        # Campaigns a rollback returned, and the version they must serve.
        self.returned = {}

    def request(self, campaign, target, allowed, via_manifest=False, watch=None):
        request_id = f"{campaign}-{len(self.requests)}"
        detail = {"campaignName": campaign, "solutionVersionArn": target}
        if watch is not None:
            detail["watch"] = watch
        if via_manifest:
            event = self.wf.put_manifest(f"manifests/{request_id}.json", detail)
        else:
            event = sample("deployment-requested.json")
            event["id"] = f"00000000-0000-4000-8000-{len(self.requests):012d}"
            event["detail"] = detail
        self.requests[request_id] = (campaign, target, set(allowed))
        for _ in range(2):
            thread = threading.Thread(target=self._deliver, args=(event,))
            thread.start()
            self.threads.append(thread)

    def _deliver(self, event):
        error, report = self.wf.trigger(event)
        if error is not None:
            self.errors.append(report)

    def finish(self, started, timeout, calm=lambda: None):
        """Waits for every execution to end, then (after `calm`, which ends
        injected faults so that the checks can read) checks the outcomes."""
        for thread in self.threads:
            thread.join()
        deadline = time.time() + timeout
        while time.time() < deadline:
            executions = self.wf.executions()
            if len(executions) >= len(self.requests) and all(e["status"] != "RUNNING" for e in executions):
                break
            time.sleep(0.1)
        wall = time.time() - started
        calm()
        executions = [self.wf.sfn.describe_execution(executionArn=e["executionArn"])
                      for e in self.wf.executions()]
        sns, events = self.wf.notifications()
        return self.check(executions, sns, events, wall)

    def check(self, executions, sns, events, wall):
        problems = [f"deploy-trigger failed: {e}" for e in self.errors]
        by_arn = {e["executionArn"]: e for e in executions}
        notified = defaultdict(list)
        for event in events:
            notified[event["detail"]["executionArn"]].append(event)
        ids = Counter(e["detail"]["notificationId"] for e in events)
        sns_ids = Counter(sns_id(message) for _, message in sns)
        duplicates = sum(n - 1 for n in ids.values() if n > 1)
        duplicates += sum(n - 1 for n in sns_ids.values() if n > 1)
        duplicates += max(0, len(executions) - len(self.requests))
        # Each event has its SNS message, with the same notification id.
        if set(sns_ids) != set(ids):
            problems.append(f"SNS and EventBridge disagree: {sorted(set(sns_ids) ^ set(ids))}")
        for arn in notified:
            if arn not in by_arn:
                problems.append(f"a notification for an execution of no request: {arn}")
        running = [e for e in executions if e["status"] == "RUNNING"]
        for e in running:
            problems.append(f"hung: {e['name']}")
        targets = {}
        for execution in executions:
            request = json.loads(execution["input"]).get("request", {})
            targets[execution["executionArn"]] = (request.get("campaignName"), request.get("solutionVersionArn"))
        wanted = Counter((c, t) for c, t, _ in self.requests.values())
        found = Counter(targets.values())
        for key, n in wanted.items():
            if found[key] < n:
                problems.append(f"lost: {n - found[key]} request(s) for {key}")
        outcomes = Counter()
        last_active = {}
        for arn, execution in by_arn.items():
            sent = notified.get(arn, [])
            if execution["status"] != "RUNNING" and len(sent) != 1:
                problems.append(f"{execution['name']}: {len(sent)} notifications")
            if not sent:
                continue
            detail = sent[0]["detail"]
            outcomes[detail["status"]] += 1
            campaign, target = targets[arn]
            allowed = next(a for c, t, a in self.requests.values() if (c, t) == (campaign, target))
            if detail["status"] not in allowed:
                problems.append(f"{execution['name']}: {detail['status']} ({detail['failureReason']}), "
                                f"expected one of {sorted(allowed)}")
            if detail["status"] == "FAILED" and FAILING not in (detail["failureReason"] or ""):
                problems.append(f"{execution['name']}: failed for another reason: {detail['failureReason']}")
            if detail["status"] == "SUCCEEDED":
                ended = datetime.fromisoformat(detail["endedAt"])
                if campaign not in last_active or ended > last_active[campaign][0]:
                    last_active[campaign] = (ended, target)
        right = 0
        campaigns = sorted({c for c, _, _ in self.requests.values()})
        for name in campaigns:
            campaign = self.wf.campaign(name)
            if name in self.returned:
                ok = campaign and campaign["status"] == "ACTIVE" and \
                    campaign["solutionVersionArn"] == self.returned[name]
            elif name in last_active:
                ok = campaign and campaign["status"] == "ACTIVE" and \
                    campaign["solutionVersionArn"] == last_active[name][1]
            else:
                # Nothing succeeded: the campaign must not serve a version
                # whose deployment failed.
                ok = not (campaign and campaign["status"] == "ACTIVE"
                          and campaign["solutionVersionArn"] == SV3)
            right += bool(ok)
            if not ok:
                problems.append(f"campaign {name} is {campaign and campaign['status']} on "
                                f"{campaign and campaign.get('solutionVersionArn')}")
        per_execution = Counter(len(notified.get(arn, [])) for arn in by_arn)
        # Executions that found their campaign busy and waited for it: DeployCampaign
        # ran again once the campaign was free.
        waited = sum(1 for arn in by_arn if self.wf.path(arn).count("DeployCampaign") > 1)
        return {
            "requests": len(self.requests), "executions": len(executions),
            "outcomes": ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
            "notifications per execution": ", ".join(f"{k}: {v}" for k, v in sorted(per_execution.items())),
            "duplicates": duplicates, "waited for the campaign": waited,
            "right version": f"{right}/{len(campaigns)}",
            "still running": len(running), "wall time (s)": f"{wall:.1f}", "problems": problems,
        }


def distinct(size, seed_value):
    """Distinct campaigns, half created and half updated, by manifests and
    by events."""
    updated = [f"chaos-u{i}" for i in range(size // 2)]
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving(n) for n in updated]),
                       personalize_args=ROOMY, instances=INSTANCES) as wf:
        run, started = Run(wf), time.time()
        for i in range(size):
            name = updated[i] if i < len(updated) else f"chaos-c{i}"
            run.request(name, SV2, {"SUCCEEDED"}, via_manifest=i % 2 == 0)
        return run.finish(started, timeout=120)


def competing(size, seed_value):
    """Busy campaigns whose updates take 90 minutes (Personalize: "can take
    over an hour"): each gets a request for SV2 and, once that update runs,
    one for SV3, which waits for it (longer than the hour CampaignBusy
    retries used to last) and then deploys. The later deployment decides;
    the earlier one reports its own end or is superseded."""
    names = [f"chaos-b{i}" for i in range(size)]
    # Polls an hour (6 s here) apart: the later deployment starts between two
    # polls of the earlier one, or after its end.
    slow_polls = {"POLL_INITIAL_SECONDS": "3600", "POLL_MAX_SECONDS": "3600"}
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving(n) for n in names]),
                       personalize_args=[*ROOMY, "--campaign-update-seconds", "5400"],
                       instances=INSTANCES, env=slow_polls) as wf:
        run, started = Run(wf), time.time()
        for name in names:
            run.request(name, SV2, {"SUCCEEDED", "SUPERSEDED"})
        # Each campaign busy with the first update before the second request
        # arrives (it waits for the update, then deploys).
        deadline = time.time() + 60
        while time.time() < deadline and not all(
                (wf.campaign(n).get("latestCampaignUpdate") or {}).get("status") for n in names):
            time.sleep(0.05)
        # Nothing comes after the later one.
        for name in names:
            run.request(name, SV3, {"SUCCEEDED"})
        return run.finish(started, timeout=120)


def faults(size, seed_value):
    """Throttling (ThrottlingException and LimitExceededException about the
    request rate, alternating), 5xx (500 and 503), and the deployments of SV3
    failing: those end FAILED with the reason, the others deployed."""
    updated = [f"chaos-f{i}" for i in range(size // 2)]
    args = [*ROOMY, "--throttle-rate", "0.15", "--error-rate", "0.1",
            "--fail-deployments", f"{SV3}={FAILING}", "--random-seed", str(seed_value)]
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving(n) for n in updated]),
                       personalize_args=args, instances=INSTANCES) as wf:
        stop = threading.Event()

        def alternate():
            names = ["ThrottlingException", "LimitExceededException"]
            statuses = [500, 503]
            i = 0
            while not stop.wait(0.2):
                i += 1
                wf.personalize.admin("/faults", {"throttleError": names[i % 2], "errorStatus": statuses[i % 2]})

        def calm():
            stop.set()
            toggler.join()
            wf.personalize.admin("/faults", {"throttleRate": 0, "errorRate": 0})

        toggler = threading.Thread(target=alternate, daemon=True)
        toggler.start()
        try:
            run, started = Run(wf), time.time()
            for i in range(size):
                name = updated[i] if i < len(updated) else f"chaos-g{i}"
                target = SV3 if i % 3 == 0 else SV2
                run.request(name, target, {"FAILED"} if target == SV3 else {"SUCCEEDED"})
            return run.finish(started, timeout=180, calm=calm)
        finally:
            stop.set()


def alarms(size, seed_value):
    """Watched updates whose alarms enter ALARM during the watch, at moments
    spread over 20 s, while Personalize throttles 15 % and fails 10 % of
    requests (5xx): every one is rolled back (ROLLED_BACK), to its old
    version, with one notification."""
    names = [f"chaos-w{i}" for i in range(size)]
    args = [*ROOMY, "--throttle-rate", "0.15", "--error-rate", "0.1", "--random-seed", str(seed_value)]
    instances = dict(INSTANCES, **{"campaign-status": size + 2})
    with LocalWorkflow(seed=dict(versions(), campaigns=[serving(n) for n in names]),
                       personalize_args=args, instances=instances,
                       env={"WATCH_LOOK_SECONDS": "2"}) as wf:
        for name in names:
            wf.put_alarm(f"recs-{name}-5xx", "OK", campaign=name)
        run, started = Run(wf), time.time()
        for name in names:
            run.request(name, SV2, {"ROLLED_BACK"}, watch={"alarms": ["recs-{campaign}-5xx"], "minutes": 60})
            run.returned[name] = SV1
        for thread in run.threads:
            thread.join()
        deadline = time.time() + 120
        while len(wf.executions()) < size and time.time() < deadline:
            time.sleep(0.1)
        arn_of = {}
        for e in wf.executions():
            described = wf.sfn.describe_execution(executionArn=e["executionArn"])
            arn_of[json.loads(described["input"])["request"]["campaignName"]] = e["executionArn"]
        rng = random.Random(seed_value)
        flips = sorted((rng.uniform(0, 20), name) for name in names)
        begun = time.time()
        for at, name in flips:
            # Each alarm fires once its campaign's watch has begun.
            while time.time() < deadline and "WatchAlarms" not in wf.path(arn_of[name]):
                time.sleep(0.1)
            time.sleep(max(0.0, begun + at - time.time()))
            wf.set_alarm(f"recs-{name}-5xx", "ALARM")

        def calm():
            wf.personalize.admin("/faults", {"throttleRate": 0, "errorRate": 0})

        return run.finish(started, timeout=180, calm=calm)


SCENARIOS = {
    "distinct campaigns, creates and updates": distinct,
    "competing requests for busy campaigns": competing,
    "throttling, 5xx and failed deployments": faults,
    "alarms during watches, under throttling and 5xx": alarms,
}
SIZES = {"short": (6, 3, 6, 3), "full": (40, 12, 30, 12)}
COLUMNS = ["requests", "executions", "outcomes", "notifications per execution", "duplicates",
           "waited for the campaign", "right version", "still running", "wall time (s)"]


def run(short=False, seed_value=1):
    sizes = SIZES["short" if short else "full"]
    return {name: scenario(size, seed_value) for (name, scenario), size in zip(SCENARIOS.items(), sizes)}


def table(results):
    lines = ["| scenario | " + " | ".join(COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for name, row in results.items():
        lines.append(f"| {name} | " + " | ".join(str(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="the small version the test command runs")
    parser.add_argument("--seed", type=int, default=1, help="seed of personalize-local's fault generator")
    args = parser.parse_args()
    results = run(args.short, args.seed)
    print(table(results))
    problems = [f"{name}: {p}" for name, row in results.items() for p in row["problems"]]
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
