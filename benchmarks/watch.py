"""The watch: how soon after an alarm's state change the rollback's
UpdateCampaign is called, measured end to end through the local pipeline
(the state machine in moto, the real Lambdas, personalize-local, the alarms
in moto) with the default look every 10 s; and what a watch hour costs, from
the schedule in contract.json and AWS's prices.

    python -m benchmarks.watch [--runs N]

Each run is a campaign updated with a watch; once every watch has begun, each
alarm enters ALARM at a moment spread over 30 s. The reaction is the
rollback's update record's creation (personalize-local) less the alarm's state
change (CloudWatch's StateUpdatedTimestamp).
"""
import argparse
import math
import random
import statistics
import sys
import time

from workflow.contract import SCHEDULE
from workflow.harness.events import sample
from workflow.harness.local_workflow import LocalWorkflow
from workflow.harness.sample import SV1, SV2, seed

# Prices (us-east-1, December 2026): Lambda arm64 per GB-second and per
# request; Step Functions Standard per state transition; CloudWatch API
# requests beyond the free tier.
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
TRANSITION = 0.025 / 1000
CLOUDWATCH_REQUEST = 0.01 / 1000
MEMORY_GB = 128 / 1024


def cost_per_hour():
    """A watch hour with the defaults: invocations that hold up to
    maxHoldSeconds, reading the alarms every watchLookSeconds and the
    campaign every minute."""
    hold = SCHEDULE["maxHoldSeconds"]
    look = SCHEDULE["watchLookSeconds"]
    campaign_look = SCHEDULE["watchCampaignLookSeconds"]
    invocations = math.ceil(3600 / hold)
    # WatchAlarms, CheckWatch, WaitForWatch: three transitions, nine events.
    transitions = 3 * invocations
    events = 9 * invocations
    describe_alarms = 3600 // look
    # Each invocation looks at the campaign at once, then every minute: 240 s
    # is four looks.
    describe_campaign = invocations * math.ceil(hold / campaign_look)
    lambda_usd = 3600 * MEMORY_GB * LAMBDA_GB_SECOND + invocations * LAMBDA_REQUEST
    return {
        "invocations": invocations, "transitions": transitions, "history events": events,
        "DescribeAlarms": describe_alarms, "DescribeCampaign": describe_campaign,
        "Lambda seconds": 3600,
        "Lambda USD": lambda_usd, "Step Functions USD": transitions * TRANSITION,
        "CloudWatch USD (beyond the free tier)": describe_alarms * CLOUDWATCH_REQUEST,
        "total USD": lambda_usd + transitions * TRANSITION + describe_alarms * CLOUDWATCH_REQUEST,
    }


def request(name, n):
    event = sample("deployment-requested.json")
    event["id"] = f"33333333-0000-4000-8000-{n:012d}"
    event["detail"]["campaignName"] = name
    event["detail"]["solutionVersionArn"] = SV2
    event["detail"]["watch"] = {"alarms": ["recs-{campaign}-5xx"], "minutes": 60}
    return event


def reactions(runs, seed_value=7):
    names = [f"watch-{i}" for i in range(runs)]
    campaigns = [{"name": n, "solutionVersionArn": SV1, "status": "ACTIVE", "minProvisionedTPS": 1}
                 for n in names]
    rng = random.Random(seed_value)
    with LocalWorkflow(seed=dict(seed(), campaigns=campaigns), instances={"campaign-status": runs}) as wf:
        arns = {}
        for i, name in enumerate(names):
            wf.put_alarm(f"recs-{name}-5xx", "OK", campaign=name)
            error, report = wf.trigger(request(name, i))
            assert error is None, report
            arns[name] = report["executions"][0]["executionArn"]
        deadline = time.time() + 120
        while not all("WatchAlarms" in wf.path(arn) for arn in arns.values()):
            assert time.time() < deadline, "the watches did not begin"
            time.sleep(0.1)
        flips = sorted((rng.uniform(0, 30), name) for name in names)
        start = time.time()
        for at, name in flips:
            time.sleep(max(0.0, start + at - time.time()))
            wf.set_alarm(f"recs-{name}-5xx", "ALARM")
        deadline = time.time() + 180
        while any(wf.sfn.describe_execution(executionArn=a)["status"] == "RUNNING" for a in arns.values()):
            assert time.time() < deadline, "still running"
            time.sleep(0.2)
        out = []
        for name in names:
            [alarm] = wf.cloudwatch.describe_alarms(AlarmNames=[f"recs-{name}-5xx"])["MetricAlarms"]
            changed = alarm["StateUpdatedTimestamp"].timestamp()
            update = wf.campaign(name)["latestCampaignUpdate"]
            assert update["solutionVersionArn"] == SV1, update
            out.append(update["creationDateTime"].timestamp() - changed)
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    cost = cost_per_hour()
    print("A watch hour (defaults: holds of", SCHEDULE["maxHoldSeconds"], "s, alarms read every",
          SCHEDULE["watchLookSeconds"], "s, the campaign every minute):\n")
    print("| | per watch hour |\n|---|---|")
    for key, value in cost.items():
        shown = f"{value:.5f}" if isinstance(value, float) else str(value)
        print(f"| {key} | {shown} |")
    seconds = reactions(args.runs)
    print(f"\nReaction, alarm state change to the rollback's UpdateCampaign, {len(seconds)} runs (s):\n")
    print("| min | median | p90 | max |\n|---|---|---|---|")
    ordered = sorted(seconds)
    p90 = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    print(f"| {ordered[0]:.1f} | {statistics.median(ordered):.1f} | {p90:.1f} | {ordered[-1]:.1f} |")
    return 0 if max(seconds) < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
