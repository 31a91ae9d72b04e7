"""Polling cost of status schedules: for deployments lasting 1 to 120 minutes,
how many status polls (Lambda invocations and Step Functions state transitions)
each schedule makes, and how late it notices that the deployment finished.

    python3 benchmarks/polling_cost.py

The project's schedule is the one campaign-status computes (src/domain/status.rs,
PollPolicy::backoff): the first poll right after the create/update call, then
waits of initial x rate^(n-1), capped. Each poll that finds the deployment
still running costs three state transitions (PollCampaign, CheckCampaign,
WaitForCampaign); the last one two (PollCampaign, CheckCampaign). The states
before and after the loop are the same for every schedule and are left out.
"""
import math

DURATIONS_MIN = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120]
TRANSITION_USD = 0.000025  # Step Functions standard, per state transition
INVOCATION_USD = 0.0000002 + 0.0000000017 * 0.1  # arm64 request + ~100 ms at 128 MB


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


def simulate_one(wait, duration_s):
    """(polls, detection lag in seconds) for a deployment finishing at duration_s."""
    t, polls = 0.0, 0
    while True:
        polls += 1
        if t >= duration_s:
            return polls, t - duration_s
        t += wait(polls)


def simulate(wait, duration_min):
    """Mean polls and mean lag over completion times spread across the minute
    after `duration_min` (real deployments do not end on a poll boundary)."""
    runs = [simulate_one(wait, duration_min * 60 + k) for k in range(60)]
    return sum(p for p, _ in runs) / len(runs), sum(lag for _, lag in runs) / len(runs)


def main():
    header = "| schedule | " + " | ".join(f"{d} min" for d in DURATIONS_MIN) + " |"
    print("Mean polls (= Lambda invocations) / mean detection lag in seconds, per deployment duration\n")
    print(header)
    print("|---|" + "---|" * len(DURATIONS_MIN))
    totals = {}
    for name, wait in SCHEDULES.items():
        cells, transitions, invocations = [], 0, 0
        for d in DURATIONS_MIN:
            polls, lag = simulate(wait, d)
            cells.append(f"{polls:.1f} / {lag:.0f}")
            transitions += 3 * polls - 1
            invocations += polls
        totals[name] = (transitions, invocations)
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nSummed over the durations above:\n")
    print("| schedule | state transitions | invocations | cost (USD) |")
    print("|---|---|---|---|")
    for name, (transitions, invocations) in totals.items():
        cost = transitions * TRANSITION_USD + invocations * INVOCATION_USD
        print(f"| {name} | {transitions} | {invocations} | {cost:.5f} |")


if __name__ == "__main__":
    main()
