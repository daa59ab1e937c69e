#!/usr/bin/env bash
# Staying power: probe the simulator (steady) for SOAK_MINUTES with SOAK_WORKERS users and
# sample the whole process tree's RSS, PSS and process count every 30 s; at SOAK_KILL_AT
# minutes (0: never) kill -9 the browser once: the run must go on and book the gap as the
# prober's. Prints the samples, early-against-late memory, and the run's summary.
# Usage: SOAK_MINUTES=30 SOAK_WORKERS=4 SOAK_KILL_AT=15 bench/soak.sh   (builds release first)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${SOAK_MINUTES:-30}
workers=${SOAK_WORKERS:-4}
kill_at=${SOAK_KILL_AT:-$((minutes / 2))}
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
started=$SECONDS

tree() { # pid -> all descendants and itself
  local pids=($1) i=0
  while [ $i -lt ${#pids[@]} ]; do
    pids+=($(ps -o pid= --ppid "${pids[$i]}" 2>/dev/null || true)); i=$((i + 1))
  done
  echo "${pids[@]}"
}
# Processes come and go between listing and reading: a vanished one counts as 0.
sum_kb() { # field pids...
  local field=$1; shift
  for p in "$@"; do awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" "/proc/$p/smaps_rollup" 2>/dev/null || true; done |
    awk '{s+=$1} END {printf "%.0f", s/1024}'
}
killed=0
echo "minute  rss_mb  pss_mb  processes"
while kill -0 $probe 2>/dev/null; do
  read -r -a pids <<<"$(tree $probe)"
  printf "%6.1f  %6s  %6s  %9s\n" "$(awk -v s=$((SECONDS - started)) 'BEGIN { print s / 60 }')" \
    "$(sum_kb VmRSS "${pids[@]}")" "$(sum_kb Pss "${pids[@]}")" "${#pids[@]}" | tee -a "$out/samples.txt"
  if [ "$kill_at" -gt 0 ] && [ $killed = 0 ] && [ $((SECONDS - started)) -ge $((kill_at * 60)) ]; then
    browser=$(ps -o pid= --ppid $probe | head -1 | tr -d ' ')
    if [ -n "$browser" ]; then
      echo "killing the browser (pid $browser) with SIGKILL" | tee -a "$out/samples.txt"
      kill -KILL "$browser" || true
    fi
    killed=1
  fi
  sleep 30
done
wait $probe || true
cat "$out/summary.txt"
python3 - "$out/samples.txt" "$out/report.json" <<'PY'
import json, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip() and l[0] != "k"]
# The run starts when Chromium is up (the tree is big); compare its early and late minutes.
start = next((r[0] for r in rows if r[1] > 100), None)
early = [r for r in rows if start is not None and start + 1 <= r[0] <= start + 6]
late = [r for r in rows if r[0] >= rows[-1][0] - 5]
if early and late:
    mean = lambda rs, i: sum(r[i] for r in rs) / len(rs)
    for name, i in (("RSS", 1), ("PSS", 2)):
        print(f"tree {name}: minutes 1-6 mean {mean(early, i):.0f} MB, last 5 minutes mean {mean(late, i):.0f} MB, "
              f"growth {100 * (mean(late, i) / mean(early, i) - 1):+.1f} %")
    print(f"processes in the tree: {min(int(r[3]) for r in rows if r[1] > 100)}..{max(int(r[3]) for r in rows)}")
r = json.load(open(sys.argv[2]))
s, p = r["summary"], r["prober"]
down = sum(o["to_unix_ms"] - o["from_unix_ms"] for o in p.get("browser_outages", [])) / 1000
print(f"loads {s['loads']}, ok {s['ok']}, failed {s['failed']}, prober errors {s['prober_errors']}, "
      f"{s['loads_per_s']:.2f} loads/s, p50 {s['load_ms']['p50']:.0f} ms, p95 {s['load_ms']['p95']:.0f} ms; "
      f"browser relaunches {p['browser_relaunches']}, {down:.1f} s without a browser; verdict {r['verdict']['status']}")
PY
echo "report: $out/report.json"
