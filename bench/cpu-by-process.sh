#!/usr/bin/env bash
# Where a fresh-user load's CPU goes: rollprobe at N workers (default 8) on the headless shell,
# S seconds (default 20), measured by bench/treestat.py over its whole process tree and split
# by process kind (rollprobe itself, Chromium's browser process, renderers, GPU, network
# service, other utilities, zygote), each as CPU seconds per load. On the simulator's built-in
# SPA, then on a real framework app (tests/apps/react-router) served by the simulator.
#
#   bench/cpu-by-process.sh                       # 8 workers, 20 s each
#   CPU_WORKERS=12 CPU_SECONDS=30 bench/cpu-by-process.sh
#   CPU_EXTRA="--some-flag" bench/cpu-by-process.sh    # extra rollprobe run flags
#
# Renderers of fresh contexts often live less than a sampling interval: their CPU shows in
# `renderers_reaped` (what the zygote accounts for once it reaped them) rather than in the
# sampled `renderer` figure. The simulator's own CPU is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${CPU_WORKERS:-8}
S=${CPU_SECONDS:-20}
OUT=${CPU_OUT:-target/bench/cpu-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
ci/install-chromium.sh >/dev/null
cargo build --release --locked --bin rollprobe >&2
BIN=target/release/rollprobe
SIM=""
trap '[ -n "$SIM" ] && kill "$SIM" 2>/dev/null; wait 2>/dev/null || true' EXIT

measure() { # name, then simulate flags
  local name=$1; shift
  "$BIN" simulate --mode steady --before 600 --max-lifetime 600 --quiet "$@" >"$OUT/$name.sim" 2>&1 &
  SIM=$!
  local url=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^ingress: //p' "$OUT/$name.sim" 2>/dev/null || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  python3 bench/treestat.py --interval 0.1 --out "$OUT/$name.stats.json" -- \
    "$BIN" run "$url" --workers "$W" --duration "${S}s" --json "$OUT/$name.json" --quiet ${CPU_EXTRA:-} \
    >/dev/null 2>"$OUT/$name.log" || true
  kill "$SIM" 2>/dev/null || true
  wait "$SIM" 2>/dev/null || true
  SIM=""
  python3 - "$OUT/$name.stats.json" "$OUT/$name.json" "$name" <<'PY'
import json, sys
stats, report, name = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
loads = report["summary"]["loads"] or 1
by = dict(stats["cpu_by_type"])
by["renderer"] = max(by.get("renderer", 0), stats["renderers_reaped"])
by["unsampled"] = max(0.0, stats["cpu_s"] - sum(by.values()))
print(f"\n{name}: {loads} loads in {stats['wall_s']} s, {stats['cpu_s']} CPU-s, "
      f"{stats['cpu_s'] / loads:.3f} CPU-s per load")
print("| process | CPU-s | per load | share |\n|---|---|---|---|")
for kind, s in sorted(by.items(), key=lambda kv: -kv[1]):
    print(f"| {kind} | {s:.2f} | {s / loads:.3f} | {100 * s / max(stats['cpu_s'], 1e-9):.0f} % |")
PY
}

echo "workers: $W, ${S} s per run, $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
measure spa
measure react-router --builds tests/apps/react-router/dist-v1 tests/apps/react-router/dist-v2
