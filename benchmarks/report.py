"""The benchmark's report: the machine, the latency and memory table with
the Python / Rust ratios, the parity check, the panic check and the
trigger's throughput, as Markdown."""
import json
import os
import platform
import statistics


def stats(values):
    return min(values), statistics.median(values), max(values)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def render(subjects, rust, python, floor, panic, tp, args, parity_checked):
    out = [f"Machine: {machine()}", f"Runs: {args.runs} cold starts per Lambda, {args.warm} warm invocations each",
           f"Lambdas: {args.lambdas or 'the release build'}", ""]
    out += ["| Lambda | start → first /next (ms) | first invocation (ms) | warm invocation (ms) | peak RSS (MiB) |",
            "|---|---|---|---|---|"]
    for s in subjects:
        cells = []
        for key, fmt in (("start", "{:.2f}"), ("first", "{:.2f}"), ("warm", "{:.2f}"), ("rss", "{:.1f}")):
            lo, mid, hi = stats(s.samples[key])
            cells.append(f"{fmt.format(lo)} / **{fmt.format(mid)}** / {fmt.format(hi)}")
        out.append(f"| {s.label} | " + " | ".join(cells) + " |")
    out += ["", "min / **median** / max", ""]

    def med(s, k):
        return statistics.median(s.samples[k])

    def ratios(label, minus):
        def net(s, k):
            return med(s, k) - (med(floor, k) if minus else 0)
        cells = [net(python, k) / net(rust, k) for k in ("start", "first")]
        cells.append((net(python, "start") + net(python, "first")) / (net(rust, "start") + net(rust, "first")))
        cells.append(net(python, "warm") / net(rust, "warm"))
        cells = [f"{c:.1f}×" for c in cells]
        # The floor's memory is its own process's, not part of the others'.
        cells.append("n/a" if minus else f"{med(python, 'rss') / med(rust, 'rss'):.1f}×")
        return f"| {label} | " + " | ".join(cells) + " |"

    out += ["Python / Rust, campaign-status (medians; the second row subtracts the harness floor from both):", "",
            "| | start → first /next | first invocation | start + first (cold) | warm invocation | peak RSS |",
            "|---|---|---|---|---|---|",
            ratios("as measured", False), ratios("net of the floor", True), ""]
    out += ["Python twin: the same report as the Rust handler (notification included; the end time and "
            "duration excepted) for: " + "; ".join(parity_checked) + ".", ""]
    out += [f"Panic in a handler (deployment profile): {'reported as an invocation error' if panic['reported'] else 'NOT reported'}"
            f" ({json.dumps(panic)})", ""]
    out += [f"Trigger throughput ({args.instances} deploy-trigger processes, moto Step Functions):", "",
            "| input | time (s) | per second | STARTED | ALREADY_HANDLED | executions | expected | duplicates |",
            "|---|---|---|---|---|---|---|---|"]
    for name, r in tp.items():
        count = 100 if name.startswith("s3") else args.burst
        out.append(f"| {name} | {r['seconds']:.2f} | {count / r['seconds']:.0f} | {r['started']} | {r['already']} "
                   f"| {r['executions']} | {r['expected']} | {r['duplicates']} |")
    return "\n".join(out) + "\n"
