"""Runs the whole pipeline locally on a sample and shows what happens.

    ./scripts/local-run [--sample NAME] [--speed X]

Samples: create, update, unchanged, failed-create, failed-update, rejected,
timeout, retrain (a version still training: the wait, the metric gate's
verdict, the deployment), gated (a worse model held back by the gate),
rollback (a watched update whose alarm fires: the watch, the alarm, the
rollback), revert (an update kept, then a revert on request to the last known
good the campaign's record holds).

It starts personalize-local, moto (S3, Step Functions with the state machine
of template.yaml, SNS, EventBridge, SQS) and the three Lambda binaries, feeds
the sample request through deploy-trigger, prints the campaign's status and
the execution's states as they change, then the notifications, and stops
everything it started.
"""
import argparse
import json
import signal
import sys
import threading
import time

from workflow.harness.events import manifest, sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.names import BUCKET
from workflow.contract import CONTRACT
from workflow.harness.sample import SOLUTION, SV1, SV2, campaign_arn, seed

NDCG = "normalized_discounted_cumulative_gain_at_10"
GATE = {"metric": NDCG, "maxDrop": 0.02}


def requested():
    return sample("deployment-requested.json")


def serving(version):
    detail = requested()["detail"]
    return {"name": "movie-recs", "solutionVersionArn": version,
            "minProvisionedTPS": detail["minProvisionedTPS"], "campaignConfig": detail["campaignConfig"]}


# name: (description, campaigns to seed, personalize-local options, Lambda env, input)
SAMPLES = {
    "create": ("a new campaign from an S3 manifest", [], [], {}, ("manifest", "movie-recs.json")),
    "update": ("a new solution version for a live campaign, from an EventBridge event",
               [serving(SV1)], [], {}, ("event", None)),
    "unchanged": ("a request the campaign already serves", [serving(SV2)], [], {}, ("event", None)),
    "failed-create": ("a creation that fails", [], ["--fail-deployments", f"{SV1}=Insufficient capacity"], {},
                      ("manifest", "movie-recs.json")),
    "failed-update": ("an update that fails (the campaign stays on the old version)", [serving(SV1)],
                      ["--fail-deployments", f"{SV2}=Model artifacts are corrupt"], {}, ("event", None)),
    "rejected": ("an invalid manifest", [], [], {}, ("manifest", "invalid.json")),
    "timeout": ("a creation that outlasts its deadline (3 s here)", [], ["--campaign-create-seconds", "1000000"],
                {"DEPLOYMENT_DEADLINE_SECONDS": "3"}, ("manifest", "movie-recs.json")),
    "retrain": ("a request for a version still training (an hour here is 6 s): the training wait, the metric "
                f"gate ({NDCG} may drop by 0.02 at most) and the deployment",
                [serving(SV1)], [], {}, ("retrain", 0.305)),
    "gated": (f"a worse model held back by the metric gate ({NDCG} 0.25 against the served 0.30, at most "
              "0.02 lower allowed): nothing written", [serving(SV1)], [], {}, ("gated", 0.25)),
    "rollback": ("an update watched with the campaign's 5xx alarm (CloudWatch, in moto); 5 s into the watch "
                 "the alarm enters ALARM, and the campaign is rolled back to what it served before "
                 "(the watch reads the alarm every 2 s here)",
                 [dict(serving(SV1), minProvisionedTPS=1)], [], {"WATCH_LOOK_SECONDS": "2"}, ("rollback", None)),
    "revert": ("an update kept (no watch), then a 'Campaign Rollback Requested' event: the campaign returns to "
               "its last known good, the version, TPS and configuration it served before the update, as its "
               "record (tags) holds them", [dict(serving(SV1), minProvisionedTPS=1)], [], {}, ("revert", None)),
}

ALARM = "recs-movie-recs-5xx"

# What the served version reports (the retrain and gated samples).
SERVED_METRICS = {NDCG: 0.30, "coverage": 0.41}


class Watcher:
    """Prints the campaign's status and the execution's states as they change."""

    def __init__(self, wf, campaign):
        self.wf = wf
        self.campaign = campaign
        # A solution version whose training to show, and its last status.
        self.version = None
        self.last_version = None
        self.started = time.time()
        self.stop = threading.Event()
        self.seen_events = 0
        self.last_campaign = None

    def say(self, text):
        print(f"  [{time.time() - self.started:6.2f}s] {text}", flush=True)

    def _campaign_state(self):
        c = self.wf.campaign(self.campaign)
        if c is None:
            return "does not exist"
        text = f"{c['status']} on {c['solutionVersionArn'].rsplit('/', 1)[-1]}"
        update = c.get("latestCampaignUpdate")
        if update:
            text += f"; latest update {update['status']} to {update['solutionVersionArn'].rsplit('/', 1)[-1]}"
        return text

    def poll(self):
        if self.version:
            status = self.wf.personalize.client().describe_solution_version(
                solutionVersionArn=self.version)["solutionVersion"]["status"]
            if status != self.last_version:
                self.say(f"solution version {self.version.rsplit('/', 1)[-1]}: {status}")
                self.last_version = status
        state = self._campaign_state()
        if state != self.last_campaign:
            self.say(f"campaign {self.campaign}: {state}")
            self.last_campaign = state
        for execution in self.wf.executions():
            events = self.wf.history(execution["executionArn"])
            for e in events[self.seen_events:]:
                if "stateEnteredEventDetails" in e:
                    self.say(f"state  {e['stateEnteredEventDetails']['name']}")
                elif "lambdaFunctionFailedEventDetails" in e:
                    details = e["lambdaFunctionFailedEventDetails"]
                    self.say(f"       task failed: {details.get('error')} (the state machine retries or catches it)")
            self.seen_events = len(events)

    def run(self):
        while not self.stop.is_set():
            try:
                self.poll()
            except Exception as error:  # keep watching through transient errors
                self.say(f"(watch error: {error})")
            time.sleep(0.05)
        self.poll()


def fire_alarm_during_the_watch(wf, watcher, execution_arn):
    """Once the watch has begun, 5 s later, the alarm enters ALARM."""
    deadline = time.time() + 120
    while "WatchAlarms" not in wf.path(execution_arn):
        if time.time() > deadline:
            return
        time.sleep(0.1)
    time.sleep(5)
    wf.set_alarm(ALARM, "ALARM", "Threshold Crossed: 1 datapoint [12.0 (07/12/26 09:00:00)] was greater "
                                 "than or equal to the threshold (1.0).")
    watcher.say(f"alarm {ALARM}: ALARM")


def trigger(wf, watcher, event):
    """Feeds an event to deploy-trigger and says what it started: its report,
    or None when it failed."""
    error, report = wf.trigger(event)
    if error:
        print(f"deploy-trigger failed: {report}")
        return None
    for e in report["executions"]:
        watcher.say(f"deploy-trigger: {e['status']} execution {e['name']}" + (" (rejected)" if e["rejected"] else ""))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", choices=sorted(SAMPLES), default="create")
    parser.add_argument("--speed", type=float, default=600.0,
                        help="personalize-local speed-up; Wait and Retry delays shrink alike (default 600)")
    args = parser.parse_args(argv)
    # A SIGTERM unwinds like Ctrl-C, so that everything started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    description, campaigns, personalize_args, env, (kind, name) = SAMPLES[args.sample]
    seed_document = seed(*campaigns)

    print(f"Sample '{args.sample}': {description}.")
    with LocalWorkflow(speed=args.speed, seed=seed_document, personalize_args=personalize_args, env=env) as wf:
        print(f"personalize-local: {wf.personalize.url} (x{args.speed:g});  moto: {wf.moto_url};  "
              f"Lambda Invoke API: {wf.lambdas.url}")
        if campaigns:
            print(f"Seeded campaign movie-recs, ACTIVE on {campaigns[0]['solutionVersionArn'].rsplit('/', 1)[-1]}.")
        watcher = Watcher(wf, "movie-recs")
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        if kind == "manifest":
            key = f"manifests/{name}"
            watcher.say(f"upload s3://{BUCKET}/{key}")
            event = wf.put_manifest(key, manifest(name))
        elif kind in ("retrain", "gated"):
            wf.personalize.admin("/metrics", {"solutionVersionArn": SV1, "metrics": SERVED_METRICS})
            if kind == "retrain":
                version, _ = wf.train(SOLUTION)
                watcher.version = version
                watcher.say(f"CreateSolutionVersion: training {version}")
            else:
                version = SV2
            wf.personalize.admin("/metrics", {"solutionVersionArn": version,
                                              "metrics": dict(SERVED_METRICS, **{NDCG: name})})
            event = requested()
            event["detail"].update(solutionVersionArn=version, gate=GATE)
            watcher.say(f"EventBridge event 'Campaign Deployment Requested' for {version}, gate {json.dumps(GATE)}")
        elif kind == "rollback":
            wf.put_alarm(ALARM, "OK")
            watcher.say(f"alarm {ALARM} (GetRecommendations5xxErrors of movie-recs): OK")
            event = requested()
            event["detail"]["watch"] = {"alarms": ["recs-{campaign}-5xx"], "minutes": 60}
            watcher.say(f"EventBridge event 'Campaign Deployment Requested' for "
                        f"{event['detail']['solutionVersionArn']}, watch {json.dumps(event['detail']['watch'])}")
        elif kind == "revert":
            event = requested()
            watcher.say(f"EventBridge event 'Campaign Deployment Requested' for {event['detail']['solutionVersionArn']}")
            if trigger(wf, watcher, event) is None:
                return 1
            wf.wait_for_executions(1, timeout=300)
            tags = wf.personalize.client().list_tags_for_resource(resourceArn=campaign_arn("movie-recs"))["tags"]
            record = {t["tagKey"]: t["tagValue"] for t in tags}
            good = [record.get(CONTRACT["record"][k]) for k in ("goodVersionTag", "goodTpsTag", "goodConfigTag")]
            watcher.say(f"kept; the campaign's record: last known good {good[0]}, TPS {good[1]}, "
                        f"configuration '{good[2]}'")
            event = sample("rollback-requested.json")
            event["detail"] = {"campaignArn": campaign_arn("movie-recs"), "reason": "CTR fell in the weekly review"}
            watcher.say(f"EventBridge event 'Campaign Rollback Requested': {json.dumps(event['detail'])}")
        else:
            event = requested()
            watcher.say(f"EventBridge event 'Campaign Deployment Requested' for {event['detail']['solutionVersionArn']}")
        report = trigger(wf, watcher, event)
        if report is None:
            return 1
        if kind == "rollback":
            fire_alarm_during_the_watch(wf, watcher, report["executions"][0]["executionArn"])
        arn = report["executions"][0]["executionArn"]
        executions = wf.wait_for_executions(2 if kind == "revert" else 1, timeout=300)
        [execution] = [e for e in executions if e["executionArn"] == arn]
        watcher.stop.set()
        thread.join()
        status = execution["status"]
        print(f"\nExecution {status}" + (f" ({execution.get('error')})" if execution.get("error") else ""))
        sns, events = wf.notifications()
        for subject, message in sns:
            print(f"\nSNS notification\n  Subject: {subject}\n" + "\n".join("  " + line for line in message.splitlines()))
        for event in events:
            print(f"\nEventBridge event  source={event['source']}  detail-type={event['detail-type']}")
            print("\n".join("  " + line for line in json.dumps(event["detail"], indent=2).splitlines()))
    print("\nStopped personalize-local, moto and the Lambdas.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
