"""The short chaos run (benchmarks/chaos --short): creates, updates, duplicate
deliveries, competing requests and injected faults, all at once; nothing is
lost, duplicated, wrongly reported or left running."""
from benchmarks.chaos import run, table


def test_the_short_chaos_run_loses_duplicates_misreports_and_hangs_nothing():
    results = run(short=True)
    print(table(results))
    for name, row in results.items():
        assert row["problems"] == [], (name, row["problems"])
        assert row["executions"] == row["requests"], name
        assert row["duplicates"] == 0 and row["still running"] == 0, name
        done, total = row["right version"].split("/")
        assert done == total, name
    # Each scenario did what it is for.
    # Later requests met their campaigns busy with 90-minute updates, waited
    # for them and then deployed (the right version, checked above, is theirs).
    assert results["competing requests for busy campaigns"]["waited for the campaign"] > 0
    assert "FAILED" in results["throttling, 5xx and failed deployments"]["outcomes"]
    assert results["alarms during watches, under throttling and 5xx"]["outcomes"].startswith("ROLLED_BACK")
