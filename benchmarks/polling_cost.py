"""Polling cost of status schedules: for deployments lasting 1 to 120 minutes,
how many status polls (Lambda invocations and Step Functions state transitions)
each schedule makes, and how late it notices that the deployment finished;
and the same for the training wait, for trainings of half an hour to a day.

    python -m benchmarks.polling_cost        # from the repository's root

The project's schedules (their defaults, budgets, window and hold) are read
from the contract the Rust side writes (contract.json, src/contract.rs).

The last tables are the schedule that predicts the end (src/domain/schedule.rs):
with an expected duration E from the campaign's history, the usual waits until
70 % of E (the last one shortened to land there), then one invocation that
stays and looks every 5 s (a hold, at most 240 s per invocation) until 130 % of
E, then the usual waits again.

The project's schedule is the one campaign-status computes (src/domain/schedule.rs,
PollPolicy::backoff): the first poll right after the create/update call, then
waits of initial x rate^(n-1), capped. Each poll that finds the deployment
still running costs three state transitions (PollCampaign, CheckCampaign,
WaitForCampaign); the last one two (PollCampaign, CheckCampaign). The states
before and after the loop are the same for every schedule and are left out.
"""
import math

from workflow.contract import SCHEDULE

CAMPAIGN, TRAINING = SCHEDULE["campaign"], SCHEDULE["training"]
DURATIONS_MIN = [0, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120]
# Prices (us-east-1): Step Functions standard, per state transition; Lambda
# arm64, per request and per GB-second, at 128 MB for 10 ms (campaign-status
# takes a few ms warm, see docs/benchmarks.md; billing is per ms).
TRANSITION_USD = 0.000025
INVOCATION_USD = 0.0000002 + 0.0000133334 * 0.125 * 0.010
# A deployment finishes at a uniformly random moment in the WINDOW seconds
# after its nominal duration: 120 s covers a whole period of every fixed
# schedule compared, so a fixed T-second schedule shows its true T/2 lag.
WINDOW = 120


def backoff(initial, rate, cap):
    def wait(n):  # wait after poll n (1-based)
        return min(cap, max(1, round(initial * rate ** (n - 1))))
    return wait


def describe(policy):
    return f"{policy['initialSeconds']} s x{policy['backoffRate']:g}, cap {policy['maxSeconds']} s"


PROJECT_DEFAULT = f"project default ({describe(CAMPAIGN)})"
SCHEDULES = {
    PROJECT_DEFAULT: backoff(CAMPAIGN["initialSeconds"], CAMPAIGN["backoffRate"], CAMPAIGN["maxSeconds"]),
    "fixed 30 s": backoff(30, 1.0, 30),
    "fixed 60 s": backoff(60, 1.0, 60),
    "fixed 120 s": backoff(120, 1.0, 120),
    "60 s x1.02 (Retry-style)": backoff(60, 1.02, math.inf),
}


# The training wait (src/domain/training_check.rs, schedule.rs
# TRAINING_POLICY): waits from 60 s doubling to TrainingPollSeconds (600 s),
# never shorter than the wait that keeps a TrainingDeadlineSeconds (a day)
# within MAX_TRAINING_POLLS (250) polls: ceil(86400 / 248) = 349 s.
TRAINING_FLOOR = math.ceil(TRAINING["deadlineSeconds"] / (SCHEDULE["maxTrainingPolls"] - 2))


def at_least(floor, wait):
    return lambda n: max(floor, wait(n))


TRAINING_HOURS = [0.5, 1, 2, 4, 8, 12, 23]
TRAINING_SCHEDULES = {
    f"project default ({describe(TRAINING)}, floor {TRAINING_FLOOR} s)": at_least(
        TRAINING_FLOOR, backoff(TRAINING["initialSeconds"], TRAINING["backoffRate"], TRAINING["maxSeconds"])),
    "fixed 60 s": backoff(60, 1.0, 60),
    "fixed 300 s": backoff(300, 1.0, 300),
    "fixed 600 s": backoff(600, 1.0, 600),
}
# A training ends at a uniformly random moment in the 20 minutes after its
# nominal duration (a whole period of every schedule compared).
TRAINING_WINDOW = 1200


def simulate_one(wait, duration_s):
    """(polls, detection lag in seconds) for a deployment finishing at duration_s."""
    t, polls = 0.0, 0
    while True:
        polls += 1
        if t >= duration_s:
            return polls, t - duration_s
        t += wait(polls)


def simulate(wait, duration_min):
    """Mean polls and mean lag over completion times spread across the WINDOW
    seconds after `duration_min` (deployments do not end on a poll boundary)."""
    runs = [simulate_one(wait, duration_min * 60 + k + 0.5) for k in range(WINDOW)]
    return sum(p for p, _ in runs) / len(runs), sum(lag for _, lag in runs) / len(runs)


def transitions(polls):
    return 3 * polls - 1


def cost(polls, held=0.0):
    """USD: the polls' state transitions and invocations, and the seconds
    held (the schedule that predicts the end)."""
    return transitions(polls) * TRANSITION_USD + polls * INVOCATION_USD + held * HOLD_USD_PER_SECOND


def polls_and_lag_rows(schedules, columns, simulate_cell):
    """A table's rows: a schedule's mean polls / mean lag for each column."""
    for name, wait in schedules.items():
        cells = (simulate_cell(wait, c) for c in columns)
        print(f"| {name} | " + " | ".join(f"{polls:.1f} / {lag:.0f}" for polls, lag in cells) + " |")


def simulate_training(wait, hours):
    runs = [simulate_one(wait, hours * 3600 + k * 10 + 5) for k in range(TRAINING_WINDOW // 10)]
    return sum(p for p, _ in runs) / len(runs), sum(lag for _, lag in runs) / len(runs)


def training_tables():
    print("\nThe training wait: mean polls (= campaign-status invocations) / mean detection lag in")
    print("seconds, by training duration (ending at a uniformly random moment within 20 minutes after it)\n")
    print("| schedule | " + " | ".join(f"{h:g} h" for h in TRAINING_HOURS) + " |")
    print("|---|" + "---|" * len(TRAINING_HOURS))
    polls_and_lag_rows(TRAINING_SCHEDULES, TRAINING_HOURS, simulate_training)
    print("\nPer training hour (a 4-hour training):\n")
    print("| schedule | polls per hour | state transitions per hour | cost per hour (USD) | mean lag (s) |")
    print("|---|---|---|---|---|")
    for name, wait in TRAINING_SCHEDULES.items():
        polls, lag = simulate_training(wait, 4)
        print(f"| {name} | {polls / 4:.1f} | {transitions(polls) / 4:.1f} | {cost(polls) / 4:.5f} | {lag:.0f} |")


# The schedule that predicts the end (src/domain/schedule.rs, status.rs
# poll): its window, the looks of a hold, the longest hold of one
# invocation. A hold is billed as Lambda duration (128 MB arm64).
WINDOW_FRACTION = SCHEDULE["window"]
HOLD_LOOK_SECONDS = CAMPAIGN["holdSeconds"]
MAX_HOLD_SECONDS = SCHEDULE["maxHoldSeconds"]
HOLD_USD_PER_SECOND = 0.0000133334 * 0.125
# The shortest wait the poll budget allows with the default 3-hour deadline:
# polls start at least this far apart.
POLL_FLOOR = CAMPAIGN["shortestWaitSeconds"]
DEFAULT = SCHEDULES[PROJECT_DEFAULT]


def simulate_predictive(expected_s, duration_s, wait=DEFAULT):
    """(polls, detection lag, seconds held) for a deployment expected to take
    expected_s that ends at duration_s."""
    opens, closes = expected_s * (1 - WINDOW_FRACTION), expected_s * (1 + WINDOW_FRACTION)
    t, polls, held = 0.0, 0, 0.0
    while True:
        polls += 1
        if t >= duration_s:
            return polls, t - duration_s, held
        if t < opens:
            # Shortened to land on the window, but never below the floor.
            t += max(POLL_FLOOR, min(wait(polls), math.ceil(opens - t)))
            continue
        if t >= closes:
            t += wait(polls)
            continue
        # A hold: looks every 5 s (the last one at its end) until the window
        # closes or the invocation's 240 s are up.
        until = min(closes, t + MAX_HOLD_SECONDS)
        while t < until:
            step = min(HOLD_LOOK_SECONDS, until - t)
            t += step
            held += step
            if t >= duration_s:
                return polls, t - duration_s, held
        # Window closed: the usual wait; invocation's time up: back at once
        # (the held 240 s are more than the floor).
        t += wait(polls) if t >= closes else max(1, POLL_FLOOR - MAX_HOLD_SECONDS)


def spread(center_s, fraction, n=3000, at_least_s=0):
    """n durations spread evenly within +-fraction of center_s, over at
    least at_least_s (from 0 on when that would reach below it)."""
    half = max(center_s * fraction, at_least_s / 2)
    low = max(0.0, center_s - half)
    return [low + 2 * half * (k + 0.5) / n for k in range(n)]


def mean_runs(runs):
    runs = list(runs)
    return tuple(sum(r[i] for r in runs) / len(runs) for i in range(len(runs[0])))


EXPECTED_MIN = [1, 2, 5, 10, 20, 30, 60]


def predictive_tables():
    print("\nThe schedule that predicts the end. Mean polls / mean lag (s) / cost per deployment (USD),")
    print("by expected duration E; actual durations spread evenly within the range given.\n")
    print("| actual duration | schedule | " + " | ".join(f"E = {e} min" for e in EXPECTED_MIN) + " |")
    print("|---|---|" + "---|" * len(EXPECTED_MIN))
    # The wrong expectations' ends are spread over at least 120 s, a whole
    # period of the schedules' longest wait, so that their lags compare.
    cases = [
        ("within ±10 % of E", 1.0, 0.1, 0),
        ("within ±30 % of E", 1.0, 0.3, 0),
        ("2 E ± 10 % (at least ± 60 s; E is half the actual)", 2.0, 0.1, WINDOW),
        ("E/2 ± 10 % (at least ± 60 s; E is double the actual)", 0.5, 0.1, WINDOW),
    ]
    verdicts = []
    for label, factor, fraction, at_least in cases:
        def ends(e):
            return spread(e * 60 * factor, fraction, at_least_s=at_least)
        rows = {}
        for name, wait in [("project default", DEFAULT), ("fixed 30 s", SCHEDULES["fixed 30 s"]),
                           ("fixed 60 s", SCHEDULES["fixed 60 s"]), ("fixed 120 s", SCHEDULES["fixed 120 s"])]:
            rows[name] = [mean_runs((*simulate_one(wait, a), 0.0) for a in ends(e)) for e in EXPECTED_MIN]
        rows["predictive"] = [mean_runs(simulate_predictive(e * 60, a) for a in ends(e)) for e in EXPECTED_MIN]
        for name, cells in rows.items():
            text = " | ".join(f"{p:.1f} / {lag:.0f} / {cost(p, held):.5f}" for p, lag, held in cells)
            print(f"| {label} | {name} | {text} |")
        for e, pred, fixed120, default in zip(EXPECTED_MIN, rows["predictive"], rows["fixed 120 s"],
                                               rows["project default"]):
            if factor == 1.0:
                ok = pred[0] <= fixed120[0] and pred[1] <= 15
                rule = "lag <= 15 s, polls <= fixed 120 s"
            else:
                # Within half a second: the ends are samples, 3000 per case.
                ok = pred[0] <= default[0] + 1 and pred[1] <= default[1] + 0.5
                rule = "polls <= default + 1, lag <= default (+0.5 s)"
            verdicts.append((label, e, rule, ok, pred, fixed120 if factor == 1.0 else default))
    print("\nTargets:\n")
    print("| actual duration | E | target | met | predictive polls / lag | compared with polls / lag |")
    print("|---|---|---|---|---|---|")
    for label, e, rule, ok, pred, other in verdicts:
        print(f"| {label} | {e} min | {rule} | {'yes' if ok else 'NO'} | {pred[0]:.1f} / {pred[1]:.1f} | "
              f"{other[0]:.1f} / {other[1]:.1f} |")


def main():
    header = "| schedule | " + " | ".join(f"{d} min" for d in DURATIONS_MIN) + " |"
    print("Mean polls (= campaign-status invocations) / mean detection lag in seconds, by deployment duration\n")
    print("(a duration of d minutes ends at a uniformly random moment within 2 minutes after d;")
    print("0 min is a deployment that ends within its first 2 minutes, such as a fast failure)\n")
    print(header)
    print("|---|" + "---|" * len(DURATIONS_MIN))
    polls_and_lag_rows(SCHEDULES, DURATIONS_MIN, simulate)
    for d in (20, 60):
        print(f"\nOne {d}-minute deployment:\n")
        print("| schedule | polls | state transitions | cost (USD) | mean lag (s) |")
        print("|---|---|---|---|---|")
        for name, wait in SCHEDULES.items():
            polls, lag = simulate(wait, d)
            print(f"| {name} | {polls:.1f} | {transitions(polls):.1f} | {cost(polls):.5f} | {lag:.0f} |")
    training_tables()
    predictive_tables()


if __name__ == "__main__":
    main()
