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
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
after1 = [r for r in rows if float(r[0]) >= 1.0]
if after1:
    first, peak = int(after1[0][1]), max(int(r[1]) for r in after1)
    print(f"RSS after minute 1: {first} MB, peak after: {peak} MB, growth {100 * (peak - first) / first:.1f} %")
PY
echo "report: $out/report.json"
