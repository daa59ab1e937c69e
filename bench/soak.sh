#!/usr/bin/env bash
# Staying power: probe the simulator (steady) for SOAK_MINUTES and sample the whole process
# tree's RSS and process count every 30 s. Prints the samples and the growth after minute 1.
# Usage: SOAK_MINUTES=30 bench/soak.sh   (builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${SOAK_MINUTES:-30}
workers=${SOAK_WORKERS:-2}
cargo build --release -q
bin=target/release/rollprobe
out=$(mktemp -d)
trap 'kill $sim $probe 2>/dev/null || true; wait 2>/dev/null || true' EXIT

$bin simulate --mode steady --port 0 --control-port 0 --max-lifetime $((minutes * 60 + 120)) --quiet >"$out/sim.txt" &
sim=$!
for _ in $(seq 50); do grep -q '^ingress:' "$out/sim.txt" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^ingress: //p' "$out/sim.txt")

$bin run "$url" --workers "$workers" --duration "${minutes}m" --quiet --json "$out/report.json" >"$out/summary.txt" &
probe=$!

tree() { # pid -> all descendants and itself
  local pids=($1) i=0
  while [ $i -lt ${#pids[@]} ]; do
    pids+=($(ps -o pid= --ppid "${pids[$i]}" 2>/dev/null || true)); i=$((i + 1))
  done
  echo "${pids[@]}"
}
echo "minute  rss_mb  processes"
while kill -0 $probe 2>/dev/null; do
  pids=$(tree $probe)
  # Processes come and go between listing and reading: a vanished one counts as 0.
  rss=$(for p in $pids; do awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || true; done | awk '{s+=$1} END {printf "%.0f", s/1024}')
  printf "%6.1f  %6s  %9s\n" "$(awk -v s=$SECONDS 'BEGIN { print s / 60 }')" "$rss" "$(echo $pids | wc -w)" | tee -a "$out/samples.txt"
  sleep 30
done
wait $probe || true
cat "$out/summary.txt"
python3 - "$out/samples.txt" <<'PY'
import sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
# The run starts when Chromium is up (the tree is big); compare its early and late minutes.
start = next((r[0] for r in rows if r[1] > 100), None)
early = [r for r in rows if start is not None and start + 1 <= r[0] <= start + 6]
late = [r for r in rows if r[0] >= rows[-1][0] - 5]
if early and late:
    mean = lambda rs: sum(r[1] for r in rs) / len(rs)
    peak = lambda rs: max(r[1] for r in rs)
    print(f"tree RSS, minutes 1-6 of the run: mean {mean(early):.0f} MB, peak {peak(early):.0f} MB")
    print(f"tree RSS, last 5 minutes:        mean {mean(late):.0f} MB, peak {peak(late):.0f} MB")
    print(f"growth: mean {100 * (mean(late) / mean(early) - 1):+.1f} %, peak {100 * (peak(late) / peak(early) - 1):+.1f} %")
    print(f"processes in the tree: {min(int(r[2]) for r in rows if r[1] > 100)}..{max(int(r[2]) for r in rows)}")
PY
echo "report: $out/report.json"
