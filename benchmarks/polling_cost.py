"""Polling cost of status schedules: for deployments lasting 1 to 120 minutes,
how many status polls (Lambda invocations and Step Functions state transitions)
each schedule makes, and how late it notices that the deployment finished;
and the same for the training wait, for trainings of half an hour to a day.

    python3 benchmarks/polling_cost.py

The project's schedule is the one campaign-status computes (src/domain/status.rs,
PollPolicy::backoff): the first poll right after the create/update call, then
waits of initial x rate^(n-1), capped. Each poll that finds the deployment
still running costs three state transitions (PollCampaign, CheckCampaign,
WaitForCampaign); the last one two (PollCampaign, CheckCampaign). The states
before and after the loop are the same for every schedule and are left out.
"""
import math

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


SCHEDULES = {
    "project default (30 s x2, cap 120 s)": backoff(30, 2.0, 120),
    "fixed 30 s": backoff(30, 1.0, 30),
    "fixed 60 s": backoff(60, 1.0, 60),
    "fixed 120 s": backoff(120, 1.0, 120),
    "60 s x1.02 (Retry-style)": backoff(60, 1.02, math.inf),
}


# The training wait (src/domain/watch.rs, src/config.rs TRAINING_POLICY): waits
# from 60 s doubling to TrainingPollSeconds (600 s), never shorter than the
# wait that keeps a TrainingDeadlineSeconds (a day) within MAX_TRAINING_POLLS
# (250) polls: ceil(86400 / 248) = 349 s.
TRAINING_FLOOR = math.ceil(86400 / (250 - 2))


def at_least(floor, wait):
    return lambda n: max(floor, wait(n))


TRAINING_HOURS = [0.5, 1, 2, 4, 8, 12, 23]
TRAINING_SCHEDULES = {
    "project default (60 s x2, cap 600 s, floor 349 s)": at_least(TRAINING_FLOOR, backoff(60, 2.0, 600)),
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


def simulate_training(wait, hours):
    runs = [simulate_one(wait, hours * 3600 + k * 10 + 5) for k in range(TRAINING_WINDOW // 10)]
    return sum(p for p, _ in runs) / len(runs), sum(lag for _, lag in runs) / len(runs)


def training_tables():
    print("\nThe training wait: mean polls (= campaign-status invocations) / mean detection lag in")
    print("seconds, by training duration (ending at a uniformly random moment within 20 minutes after it)\n")
    print("| schedule | " + " | ".join(f"{h:g} h" for h in TRAINING_HOURS) + " |")
    print("|---|" + "---|" * len(TRAINING_HOURS))
    for name, wait in TRAINING_SCHEDULES.items():
        cells = []
        for h in TRAINING_HOURS:
            polls, lag = simulate_training(wait, h)
            cells.append(f"{polls:.1f} / {lag:.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nPer training hour (a 4-hour training):\n")
    print("| schedule | polls per hour | state transitions per hour | cost per hour (USD) | mean lag (s) |")
    print("|---|---|---|---|---|")
    for name, wait in TRAINING_SCHEDULES.items():
        polls, lag = simulate_training(wait, 4)
        cost = transitions(polls) * TRANSITION_USD + polls * INVOCATION_USD
        print(f"| {name} | {polls / 4:.1f} | {transitions(polls) / 4:.1f} | {cost / 4:.5f} | {lag:.0f} |")


def main():
    header = "| schedule | " + " | ".join(f"{d} min" for d in DURATIONS_MIN) + " |"
    print("Mean polls (= campaign-status invocations) / mean detection lag in seconds, by deployment duration\n")
    print("(a duration of d minutes ends at a uniformly random moment within 2 minutes after d;")
    print("0 min is a deployment that ends within its first 2 minutes, such as a fast failure)\n")
    print(header)
    print("|---|" + "---|" * len(DURATIONS_MIN))
    for name, wait in SCHEDULES.items():
        cells = []
        for d in DURATIONS_MIN:
            polls, lag = simulate(wait, d)
            cells.append(f"{polls:.1f} / {lag:.0f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    for d in (20, 60):
        print(f"\nOne {d}-minute deployment:\n")
        print("| schedule | polls | state transitions | cost (USD) | mean lag (s) |")
        print("|---|---|---|---|---|")
        for name, wait in SCHEDULES.items():
            polls, lag = simulate(wait, d)
            cost = transitions(polls) * TRANSITION_USD + polls * INVOCATION_USD
            print(f"| {name} | {polls:.1f} | {transitions(polls):.1f} | {cost:.5f} | {lag:.0f} |")
    training_tables()


if __name__ == "__main__":
    main()
