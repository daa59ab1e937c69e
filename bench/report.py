#!/usr/bin/env python3
"""Turns ci/bench.sh's runs into tables.

    report.py collect TOOL WORKERS TOOL_RESULT.json TREESTAT.json >> results.jsonl
    report.py table results.jsonl
    report.py auto auto.jsonl

`collect` merges what a tool reported (its JSON line, or rollprobe's --json report) with what
treestat.py measured of its process tree into one line. `table` prints a Markdown table (one
row per tool and worker count), the loads/s ratios of rollprobe (and of rollprobe --context
per-worker) to each other tool at the same worker count, and, with rollprobe_base, each tool's
CPU-s per load over that build's.
"""

import json
import sys

ORDER = ["rollprobe", "rollprobe_kept", "rollprobe_base", "rollprobe_full", "bare", "bare_idle", "puppeteer",
         "playwright", "puppeteer_full"]
LABEL = {
    "rollprobe": "rollprobe",
    "rollprobe_kept": "rollprobe --context per-worker",
    "rollprobe_base": "rollprobe (BENCH_BASE_BIN)",
    "rollprobe_full": "rollprobe --browser full",
    "bare": "bare_cdp (load event)",
    "bare_idle": "bare_cdp --idle-ms 500",
    "puppeteer": "puppeteer (networkidle0)",
    "playwright": "playwright (networkidle)",
    "puppeteer_full": "puppeteer on full Chromium",
}


def last_json_line(path):
    with open(path) as f:
        text = f.read().strip()
    try:
        return json.loads(text)  # rollprobe's report, or a lone JSON line
    except ValueError:
        pass
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in {path}")


def collect(tool, workers, result_path, stats_path):
    stats = json.load(open(stats_path))
    row = {"tool": tool, "workers": workers if workers == "auto" else int(workers)}
    try:
        res = last_json_line(result_path)
    except (OSError, ValueError) as e:
        row.update({"error": str(e), "loads": 0, "loads_per_s": 0.0, "p50_ms": 0.0, "p95_ms": 0.0})
        res = None
    if res is not None and "summary" in res:  # rollprobe's report
        s = res["summary"]
        steps = res.get("prober", {}).get("worker_steps", [])
        if steps:
            row["worker_steps"] = [st["workers"] for st in steps]
        row.update({
            "loads": s["loads"],
            "failed": s["failed"] + s["prober_errors"],
            "seconds": round(s["duration_s"], 3),
            "loads_per_s": round(s["loads_per_s"], 3),
            "p50_ms": round(s["load_ms"]["p50"], 1),
            "p95_ms": round(s["load_ms"]["p95"], 1),
        })
    elif res is not None:
        row.update({
            "loads": res["loads"],
            "failed": res.get("failed", 0) + res.get("errors", 0),
            "seconds": res["seconds"],
            "loads_per_s": res["loads_per_s"],
            "p50_ms": res["p50_ms"],
            "p95_ms": res["p95_ms"],
        })
    row.update({
        "exit_code": stats["exit_code"],
        "wall_s": stats["wall_s"],
        "cpu_s": stats["cpu_s"],
        "cpu_s_sampled": stats["cpu_s_sampled"],
        "cpu_percent": stats["cpu_percent"],
        "cpu_s_per_load": round(stats["cpu_s"] / row["loads"], 3) if row["loads"] else None,
        "peak_rss_mb": stats["peak_rss_mb"],
        "peak_pss_mb": stats["peak_pss_mb"],
        "max_procs": stats["max_procs"],
    })
    print(json.dumps(row))


def table(path):
    rows = [json.loads(l) for l in open(path) if l.strip()]
    rows.sort(key=lambda r: (r["workers"], ORDER.index(r["tool"]) if r["tool"] in ORDER else 99))
    print("| tool | workers | loads | loads/s | p50 ms | p95 ms | CPU % | CPU s/load | peak RSS MB | peak PSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        per = r.get("cpu_s_per_load")
        failed = f" ({r['failed']} failed)" if r.get("failed") else ""
        print(
            f"| {LABEL.get(r['tool'], r['tool'])} | {r['workers']} | {r['loads']}{failed} | "
            f"{r['loads_per_s']:.2f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['cpu_percent']:.0f} | {per if per is None else f'{per:.2f}'} | "
            f"{r['peak_rss_mb']:.0f} | {r['peak_pss_mb']:.0f} |"
        )
    by = {(r["tool"], r["workers"]): r for r in rows}
    for mine in ("rollprobe", "rollprobe_kept"):
        ratios(by, mine, "loads_per_s", "loads/s")
    # CPU per load of each build and mode against the other build's (lower is better).
    ratios(by, "rollprobe_base", "cpu_s_per_load", "CPU s/load", inverse=True)


def ratios(by, mine, key, what, inverse=False):
    """One table: `mine`'s figure over each other tool's, per worker count (inverse: theirs
    over mine)."""
    others = [t for t in ORDER if t != mine and any(k[0] == t for k in by)]
    if mine not in {k[0] for k in by} or not others:
        return
    print()
    names = [f"{LABEL[t]} / {LABEL[mine]}" if inverse else f"{LABEL[mine]} / {LABEL[t]}" for t in others]
    print(f"{what}, as ratios:")
    print()
    print("| workers | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(others))
    for w in sorted({k[1] for k in by}):
        cells = []
        for t in others:
            a, b = by.get((mine, w)), by.get((t, w))
            if inverse:
                a, b = b, a
            if a and b and a.get(key) and b.get(key):
                cells.append(f"{a[key] / b[key]:.2f}")
            else:
                cells.append("-")
        print(f"| {w} | " + " | ".join(cells) + " |")


def auto(path):
    """The --workers auto sweep: each run, then auto's loads/s over the best fixed count's."""
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print("| workers | loads | loads/s | p50 ms | CPU % | worker steps |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        steps = " → ".join(str(w) for w in r.get("worker_steps", [])) or "-"
        failed = f" ({r['failed']} failed)" if r.get("failed") else ""
        print(
            f"| {r['workers']} | {r['loads']}{failed} | {r['loads_per_s']:.2f} | "
            f"{r['p50_ms']:.0f} | {r['cpu_percent']:.0f} | {steps} |"
        )
    fixed = [r for r in rows if r["workers"] != "auto"]
    autos = [r for r in rows if r["workers"] == "auto"]
    if fixed and autos:
        best = max(fixed, key=lambda r: r["loads_per_s"])
        mean = sum(r["loads_per_s"] for r in autos) / len(autos)
        print()
        print(
            f"auto (mean of {len(autos)} runs) {mean:.2f} loads/s = "
            f"{mean / best['loads_per_s']:.2f} x the best fixed count ({best['workers']}: "
            f"{best['loads_per_s']:.2f} loads/s)"
        )


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "collect" and len(sys.argv) == 6:
        collect(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "auto":
        auto(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
