"""Trained to serving, end to end: how long after a solution version becomes
ACTIVE its campaign's UpdateCampaign is called (L1), and how long after that
update becomes ACTIVE the notification goes out (L2), measured through the
real state machine (template.yaml in moto's interpreter) with the real Lambda
binaries (debug builds) against personalize-local, with real waits, for the
three ways an execution starts while its version still trains:

- request: a "Campaign Deployment Requested" event naming the version
  (CreateSolutionVersion, then the request at once);
- CloudTrail: the CreateSolutionVersion call's CloudTrail event (the campaign
  follows the solution);
- look: an automatic training (no API call), found by the scheduled look
  (the campaign follows the solution). The look also finds the CloudTrail
  path's versions and answers their running executions (StartExecution with
  the same name and input), which it reports as STARTED again: executions are
  counted by name.

Beside them, the same lags modelled by benchmarks/polling_cost.py for
realistic durations: the product's schedules with a right expectation, the
product's without one (no history), and the two schedules users would write
instead (ALTERNATIVES: Retry-style 60 s x1.02, fixed 120 s).

    python -m benchmarks.trained_to_serving [--runs 20] [--batches 4] [--parallel 4]
    python -m benchmarks.trained_to_serving --from-raw target/trained-to-serving.json

from the repository's root, with the debug binaries built (target/debug, as
the workflow tests run them); about five minutes with the defaults. It
prints a markdown table, then the sanity checks, and keeps every run's
numbers in target/trained-to-serving.json (--from-raw prints the table again
from them, without running). It exits 1 if an execution did not start, did
not find its version still training, failed, did not deploy it, or was not
notified exactly once.

How it runs. `--runs` runs per path, split over `--batches` pipelines (a
LocalWorkflow each, `--parallel` of them at once, each in its own process):
personalize-local lets 20 versions train at once in an account, and each
batch has its own update duration (below). In a batch, every run has its own
solution (one version training per run) and its own campaign. All runs of a
batch start together; a batch takes about five minutes.

- Time is real (time_scale 1.0): Step Functions Waits wait, campaign-status
  holds around the expected end and looks every TRAINING_HOLD_SECONDS (10)
  and POLL_HOLD_SECONDS (5), the product's defaults. personalize-local runs
  at --speed 600 with trainings of 72,000 of its seconds (120 s real) and
  updates of 36,000 to 43,500 (60 to 72.5 s real, by batch); its timestamps
  are wall-clock time.
- Scaled because real time forces it: TRAINING_DEADLINE_SECONDS=3600 (the
  floor between checks becomes ceil(3600/248) = 15 s instead of 349 s, which
  would jump over a 2-minute training's whole window) and
  DEPLOYMENT_DEADLINE_SECONDS=1800 (floor ceil(1800/418) = 5 s instead of
  26 s, which would open the hold some 13 s into a 1-minute update's
  window). The usual waits (60 s doubling; 30 s doubling to 120 s) are the
  defaults.
- campaign-status's time-out is the template's (900 s), as the harness
  gives each function, so that a hold lasts as long as in AWS (840 s,
  240 s).
- History, so that each execution has an expectation: each solution is
  seeded with two ACTIVE versions of the path's trainingMode (FULL for request
  and CloudTrail, AUTOTRAIN for the look), a day and two hours old, both with
  trainingSeconds E: the version the campaign serves and an older one. E is
  spread over the runs of a path between 113 and 127 s (120 s +- 6 %, a right
  expectation) so that the window's start, 70 % of E, moves over a whole look
  interval (10 s) and the training's end falls at every phase of the looks
  rather than always at the same one. The campaign's history is a warm-up:
  before the measured run, an UpdateCampaign straight to personalize-local
  (its minProvisionedTPS 1 -> 2, the value the request asks for), as long as
  the measured update (the batch's update duration), waited for until ACTIVE:
  the measured deployment expects the last update's duration (basis
  LAST_UPDATE). The update duration differs between batches, 60 s + 16.7 s x
  batch / batches, so that the update's end, too, falls at several phases of
  the 5 s looks.

Measured, per run:
- L1 = the campaign's latestCampaignUpdate.creationDateTime (personalize-local's
  record of the UpdateCampaign call) - the version's lastUpdatedDateTime (the
  moment it became ACTIVE);
- L2 = the exit of NotifyTopic in the execution's history (the SNS publish
  done) - latestCampaignUpdate.lastUpdatedDateTime (the update ACTIVE).

Modelled (benchmarks/polling_cost.py), with realistic durations:
- L1: trainings of TRAINING_HOURS (0.5 to 23 h); for the schedules without an
  expectation, each ending uniformly over the 20 minutes after it, as that
  script does (the first poll at the training's start); for the product with
  an expectation, E = each of those durations and the end spread evenly within
  +-30 % of E (3,000 ends each), TRAINING_PREDICTIVE;
- L2: deployments of 1 to 120 minutes (DURATIONS_MIN without 0), ending over
  the 120 s after each; with an expectation, E = each duration and the end
  within +-30 % of E, CAMPAIGN_PREDICTIVE (the default 3-hour deadline).
The model counts to the poll that sees the end; the measured lags also hold
the DeployCampaign call (L1) and DescribeOutcome and the SNS publish (L2).
"""
import argparse
import json
import multiprocessing
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone

from benchmarks.polling_cost import (
    ALTERNATIVES, CAMPAIGN, CAMPAIGN_PREDICTIVE, DURATIONS_MIN, PROJECT_DEFAULT, SCHEDULES, TRAINING,
    TRAINING_DEFAULT, TRAINING_FLOOR, TRAINING_HOURS, TRAINING_PREDICTIVE, TRAINING_WINDOW, WINDOW, describe,
    modelled_lags, percentile, predictive_looks, runs_over, spread,
)
from workflow.definition import load_template
from workflow.harness.events import sample, scheduled_event
from workflow.harness.names import ROOT, target_dir
from workflow.harness.sample import campaign_arn

ACCOUNT, REGION = "111122223333", "us-east-1"
LOOK_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/personalize-deployer-FollowLook-1A2B3C4D5E6F"
FOLLOW = {"tagKey": "personalize-deployer:follow", "tagValue": "true"}
TEMPLATE = load_template()

RAW = target_dir() / "trained-to-serving.json"
SPEED = 600
TRAINING_S = 120.0          # real seconds of training (personalize-local: 72,000 of its seconds)
UPDATE_S = 60.0             # real seconds of the first batch's updates
LOOK_TRAINING_S, LOOK_UPDATE_S = 10, 5  # the product's default look intervals (not set: defaults)
WINDOW_START = 0.7          # the window opens at 70 % of E
ENV = {"TRAINING_DEADLINE_SECONDS": "3600", "DEPLOYMENT_DEADLINE_SECONDS": "1800"}

# path: (label, trainingMode, trainingType, follows)
PATHS = {
    "request": ("request naming a version still training", "FULL", "MANUAL", False),
    "cloudtrail": ("CloudTrail event (CreateSolutionVersion)", "FULL", "MANUAL", True),
    "look": ("the scheduled look (automatic training)", "AUTOTRAIN", "AUTOMATIC", True),
}


def solution_arn(name):
    return f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/{name}"


def expected_training(k, runs):
    """E for run k of a path's runs: 120 s +- 6 %, so that 70 % of E spans one
    look interval (10 s) over the runs."""
    return round(TRAINING_S + (LOOK_TRAINING_S / WINDOW_START) * ((k + 0.5) / runs - 0.5), 1)


def update_seconds(batch, batches):
    """The batch's update duration (real s): 0.3 x it spans one look interval
    (5 s) over the batches."""
    return round(UPDATE_S + (LOOK_UPDATE_S / (1 - WINDOW_START)) * batch / batches, 2)


def plan(runs, batches):
    """Per batch, its runs: (path, k, E); run k of a path goes to batch k % batches."""
    out = [[] for _ in range(batches)]
    for path in PATHS:
        for k in range(runs):
            out[k % batches].append((path, k, expected_training(k, runs)))
    return out


def seed_for(runs):
    data = {"solutions": [], "solutionVersions": [], "campaigns": []}
    config = sample("deployment-requested.json")["detail"]["campaignConfig"]
    for path, k, expected in runs:
        _, mode, kind, follows = PATHS[path]
        name = f"{path}{k:02d}"
        data["solutions"].append({"name": name})
        for suffix, age in (("0e0e0e0e", 86400), ("5e6f7a8b", 7200)):
            data["solutionVersions"].append({
                "solution": name, "id": suffix, "ageSeconds": age, "trainingSeconds": expected,
                "trainingMode": mode, "trainingType": kind})
        data["campaigns"].append({
            "name": f"{path}-{k:02d}", "solutionVersionArn": f"{solution_arn(name)}/5e6f7a8b",
            "minProvisionedTPS": 1, "campaignConfig": config, "tags": [FOLLOW] if follows else []})
    return data


def request_event(campaign, version):
    event = sample("deployment-requested.json")
    event["id"] = str(uuid.uuid4())
    event["time"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"]["campaignName"] = campaign
    event["detail"]["solutionVersionArn"] = version
    return event


def exits(history, state):
    """(timestamp, output) of every exit from `state`, in order."""
    return [(e["timestamp"], json.loads(e["stateExitedEventDetails"]["output"]))
            for e in history if e.get("stateExitedEventDetails", {}).get("name") == state]


def run_batch(batch, batches, runs, timeout=900.0):
    """One pipeline with these runs started together: a record per run, and
    the problems seen."""
    update_s = update_seconds(batch, batches)
    problems = []
    instances = {"campaign-status": len(runs) + 4, "deploy-campaign": 4, "deploy-trigger": 2}
    args = ["--solution-version-training-seconds", str(int(TRAINING_S * SPEED)),
            "--campaign-update-seconds", str(int(update_s * SPEED)), "--max-active-campaigns", "100000"]
    with local_workflow.LocalWorkflow(seed=seed_for(runs), time_scale=1.0, speed=SPEED, env=ENV,
                                      personalize_args=args, instances=instances) as wf:
        client = wf.personalize.client()
        campaigns = {f"{path}-{k:02d}": (path, k, expected) for path, k, expected in runs}
        # Warm-up: the campaign's history, one update as long as the measured one.
        for name in campaigns:
            client.update_campaign(campaignArn=campaign_arn(name), minProvisionedTPS=2)
        deadline = time.time() + update_s + 60
        while any(client.describe_campaign(campaignArn=campaign_arn(n))["campaign"]["latestCampaignUpdate"]
                  ["status"] != "ACTIVE" for n in campaigns):
            if time.time() > deadline:
                raise TimeoutError("warm-up updates did not end")
            time.sleep(1)

        # The measured runs: each version starts training, its execution starts.
        # Counted by name: the look reports the CloudTrail path's running
        # executions as STARTED again (see the module's docstring).
        versions, started = {}, set()
        for name, (path, k, _) in campaigns.items():
            solution = solution_arn(f"{path}{k:02d}")
            if path == "request":
                versions[name] = client.create_solution_version(
                    solutionArn=solution, trainingMode="FULL")["solutionVersionArn"]
                error, report = wf.trigger(request_event(name, versions[name]))
            elif path == "cloudtrail":
                versions[name], call = wf.train(solution, "FULL")
                error, report = wf.trigger(call)
            else:
                versions[name] = wf.auto_train(solution)
                continue
            if error is not None:
                problems.append(f"{name}: deploy-trigger failed: {report}")
                continue
            started |= {e["name"] for e in report["executions"] if e["status"] == "STARTED"}
        if any(path == "look" for path, _, _ in runs):
            error, report = wf.trigger(scheduled_event(LOOK_RULE))
            if error is not None:
                problems.append(f"look: deploy-trigger failed: {report}")
            else:
                started |= {e["name"] for e in report["executions"] if e["status"] == "STARTED"}
        if len(started) != len(runs):
            problems.append(f"batch {batch}: {len(started)} executions started for {len(runs)} runs")

        # Wait (not busily: moto's interpreter runs in this process).
        deadline = time.time() + timeout
        while True:
            executions = wf.executions()
            if len(executions) >= len(started) and all(e["status"] != "RUNNING" for e in executions):
                break
            if time.time() > deadline:
                raise TimeoutError(f"batch {batch}: executions still running after {timeout} s")
            time.sleep(2)

        sns, events = wf.notifications()
        notified = {}
        for event in events:
            arn = event["detail"].get("executionArn")
            notified[arn] = notified.get(arn, 0) + 1
        if len(sns) != len(executions):
            problems.append(f"batch {batch}: {len(sns)} SNS notifications for {len(executions)} executions")

        records = []
        for summary in executions:
            execution = wf.sfn.describe_execution(executionArn=summary["executionArn"])
            name = json.loads(execution["input"])["request"]["campaignName"]
            path, k, expected = campaigns[name]
            history = wf.history(execution["executionArn"])
            states = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
            version = client.describe_solution_version(solutionVersionArn=versions[name])["solutionVersion"]
            campaign = client.describe_campaign(campaignArn=campaign_arn(name))["campaign"]
            update = campaign["latestCampaignUpdate"]
            checks = exits(history, "CheckTraining")
            deploys = exits(history, "DeployCampaign")
            polls = exits(history, "PollCampaign")
            notify = exits(history, "NotifyTopic")
            where = f"{name} ({execution['executionArn'].split(':')[-1]})"
            if execution["status"] != "SUCCEEDED" or states[-1] != "Deployed":
                problems.append(f"{where}: {execution['status']}, ended in {states[-1]}")
                continue
            if notified.get(execution["executionArn"], 0) != 1 or len(notify) != 1:
                problems.append(f"{where}: {notified.get(execution['executionArn'], 0)} notification events, "
                                f"{len(notify)} NotifyTopic exits")
                continue
            first = checks[0][1]["training"]["outcome"] if checks else None
            if first != "IN_PROGRESS":
                problems.append(f"{where}: first training check {first}, not IN_PROGRESS")
            if campaign["solutionVersionArn"] != versions[name] or update["status"] != "ACTIVE":
                problems.append(f"{where}: campaign on {campaign['solutionVersionArn']}, update {update['status']}")
                continue
            training_expected = checks[-1][1]["training"].get("expected") or {}
            deployment_expected = deploys[-1][1]["deployment"].get("expected") or {}
            active = version["lastUpdatedDateTime"]
            records.append({
                "path": path, "k": k, "batch": batch, "campaign": name,
                "E_training_seeded": expected, "E_training": training_expected.get("seconds"),
                "E_deployment": deployment_expected.get("seconds"),
                "deployment_basis": deployment_expected.get("basis"),
                "training_s": (active - version["creationDateTime"]).total_seconds(),
                "update_s": (update["lastUpdatedDateTime"] - update["creationDateTime"]).total_seconds(),
                "started_after_creation": (execution["startDate"] - version["creationDateTime"]).total_seconds(),
                "L1": (update["creationDateTime"] - active).total_seconds(),
                "L1_deploy_exit": (deploys[-1][0] - active).total_seconds(),
                "L2": (notify[-1][0] - update["lastUpdatedDateTime"]).total_seconds(),
                "L2_event_ended": (datetime.fromisoformat(
                    next(e["detail"]["endedAt"] for e in events
                         if e["detail"].get("executionArn") == execution["executionArn"]).replace("Z", "+00:00"))
                    - update["lastUpdatedDateTime"]).total_seconds(),
                "training_checks": len(checks), "campaign_polls": len(polls),
                "check_seconds": [round(s, 1) for s in task_spans(history, "CheckTraining")],
                "poll_seconds": [round(s, 1) for s in task_spans(history, "PollCampaign")],
            })
    return {"batch": batch, "update_s": update_s, "records": records, "problems": problems}


def task_spans(history, state):
    entered, spans = None, []
    for e in history:
        if e.get("stateEnteredEventDetails", {}).get("name") == state:
            entered = e["timestamp"]
        elif e.get("stateExitedEventDetails", {}).get("name") == state:
            spans.append((e["timestamp"] - entered).total_seconds())
    return spans


def _run_batch(job):
    return run_batch(*job)


# ------------------------------------------------------------------ the model

def modelled():
    """(label, L1 lags, L2 lags) of the modelled schedules, realistic durations."""
    training_ends = [h * 3600 + k * 10 + 5 for h in TRAINING_HOURS for k in range(TRAINING_WINDOW // 10)]
    deployment_ends = [d * 60 + k + 0.5 for d in DURATIONS_MIN if d > 0 for k in range(WINDOW)]
    rows = []
    # The product with a right expectation: E = each duration, the actual
    # within +-30 % of it.
    l1 = [lag for h in TRAINING_HOURS
          for _, lag, _ in runs_over(predictive_looks(h * 3600, TRAINING_PREDICTIVE), spread(h * 3600, 0.3))]
    l2 = [lag for d in DURATIONS_MIN if d > 0
          for _, lag, _ in runs_over(predictive_looks(d * 60, CAMPAIGN_PREDICTIVE), spread(d * 60, 0.3))]
    rows.append(("product with a right expectation (actual within ±30 % of E), looks every "
                 f"{TRAINING_PREDICTIVE.look} s / {CAMPAIGN_PREDICTIVE.look} s", l1, l2))
    rows.append((f"product without history: its usual waits (training {describe(TRAINING)}, floor "
                 f"{TRAINING_FLOOR} s; deployment {describe(CAMPAIGN)})",
                 modelled_lags(TRAINING_DEFAULT, training_ends),
                 modelled_lags(SCHEDULES[PROJECT_DEFAULT], deployment_ends)))
    for name, wait in ALTERNATIVES.items():
        rows.append((name, modelled_lags(wait, training_ends), modelled_lags(wait, deployment_ends)))
    return rows


def cells(values):
    return f"{percentile(values, 50):.1f} | {percentile(values, 90):.1f}"


def report(results, wall, runs):
    """Prints the table and the sanity checks; returns the problems."""
    records = [r for result in results for r in result["records"]]
    problems = [p for result in results for p in result["problems"]]
    updates = ", ".join(f"{r['update_s']:g}" for r in results)
    print(f"Measured: local pipeline (debug binaries, moto, personalize-local at speed {SPEED}), real waits, "
          f"looks every {LOOK_TRAINING_S} s (training) and {LOOK_UPDATE_S} s (update); trainings of "
          f"{TRAINING_S:g} s, updates of {updates} s (one value a batch); {runs} runs per path in "
          f"{len(results)} batches; {wall / 60:.1f} min wall time.")
    print("Modelled: benchmarks/polling_cost.py; trainings of "
          f"{', '.join(f'{h:g}' for h in TRAINING_HOURS)} h, deployments of "
          f"{', '.join(str(d) for d in DURATIONS_MIN if d > 0)} min.\n")
    print("| | path or schedule | runs | L1 median (s) | L1 p90 (s) | L2 median (s) | L2 p90 (s) |")
    print("|---|---|---|---|---|---|---|")
    for path, (label, *_rest) in PATHS.items():
        mine = [r for r in records if r["path"] == path]
        if mine:
            print(f"| measured (local; 2-min trainings, 1–1.2-min updates) | {label} | {len(mine)} "
                  f"| {cells([r['L1'] for r in mine])} | {cells([r['L2'] for r in mine])} |")
    if records:
        print(f"| measured (local; 2-min trainings, 1–1.2-min updates) | all three | {len(records)} "
              f"| {cells([r['L1'] for r in records])} | {cells([r['L2'] for r in records])} |")
    for label, l1, l2 in modelled():
        print(f"| modelled (0.5–23 h trainings, 1–120 min updates) | {label} | – | {cells(l1)} | {cells(l2)} |")

    print("\nSanity (measured runs):\n")
    med = statistics.median
    for path, (label, *_rest) in PATHS.items():
        mine = [r for r in records if r["path"] == path]
        if not mine:
            continue
        print(f"- {label}: training {med(r['training_s'] for r in mine):.1f} s, execution started "
              f"{med(r['started_after_creation'] for r in mine):.1f} s after the version's creation (median), "
              f"E training {min(r['E_training'] or 0 for r in mine)}–{max(r['E_training'] or 0 for r in mine)} s, "
              f"E deployment {sorted({r['E_deployment'] for r in mine})} s "
              f"({', '.join(sorted({str(r['deployment_basis']) for r in mine}))}); "
              f"training checks {med(r['training_checks'] for r in mine):g}, campaign polls "
              f"{med(r['campaign_polls'] for r in mine):g} (median); L1 by DeployCampaign's exit "
              f"{cells([r['L1_deploy_exit'] for r in mine]).replace(' | ', ' / ')} s; L2 by the event's "
              f"endedAt {cells([r['L2_event_ended'] for r in mine]).replace(' | ', ' / ')} s (median / p90)")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per path (default 20)")
    parser.add_argument("--batches", type=int, default=4,
                        help="pipelines the runs are split over (at most 20 trainings each; default 4)")
    parser.add_argument("--parallel", type=int, default=None, help="batches at once (default: all)")
    parser.add_argument("--from-raw", metavar="PATH",
                        help="print the table again from the numbers an earlier run kept (no run)")
    args = parser.parse_args()
    if args.from_raw:
        with open(args.from_raw) as raw:
            kept = json.load(raw)
        problems = report(kept["results"], kept["wall_seconds"], kept.get("runs", args.runs))
        sys.exit(1 if problems else 0)

    batches = max(1, min(args.batches, args.runs))
    plans = plan(args.runs, batches)
    if max(len(p) for p in plans) > 20:
        parser.error("more than 20 trainings in a batch (personalize-local's limit): raise --batches")
    began = time.monotonic()
    jobs = [(b, batches, plans[b]) for b in range(batches)]
    with ProcessPoolExecutor(max_workers=args.parallel or batches,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_run_batch, jobs))
    wall = time.monotonic() - began
    with open(RAW, "w") as raw:
        json.dump({"results": results, "wall_seconds": wall, "runs": args.runs}, raw, indent=1, default=str)
    problems = report(results, wall, args.runs)
    print(f"\nEvery run's numbers: {RAW.relative_to(ROOT)}")
    if problems:
        print("\nProblems:")
        for p in problems:
            print(f"- {p}")
        sys.exit(1)


if __name__ == "__main__":
    main()
