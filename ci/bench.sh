#!/usr/bin/env bash
# Throughput benchmark: rollprobe against the floor of what Chromium costs (a bare CDP
# loop, examples/bare_cdp.rs) and against the peers a careful user would write (a Puppeteer
# script, bench/puppeteer, and a Playwright script, bench/playwright), all loading the embedded
# simulator's SPA (steady mode, with a lazily imported chunk) on 127.0.0.1.
#
#   ci/bench.sh                                   # workers 1 4 8 12, 20 s each
#   BENCH_WORKERS="1 2" BENCH_SECONDS=10 ci/bench.sh
#   BENCH_APP=react-router ci/bench.sh            # a real framework app of tests/apps instead
#
# Then the `--workers auto` sweep: rollprobe at each count of BENCH_AUTO_SWEEP (default "4 8 12")
# and with --workers auto, alternating, BENCH_AUTO_SECONDS (default 40) each (the ramp's first
# windows count against auto); BENCH_AUTO_SWEEP="" skips it. Results: auto.jsonl, auto.md.
#
# Environment (an empty BENCH_WORKERS or BENCH_TOOLS skips the main table): BENCH_WORKERS
# (default "1 4 8 12"), BENCH_SECONDS (default 20), BENCH_APP (an app of tests/apps, served from
# its dist-v1; default: the simulator's built-in SPA), BENCH_TOOLS
# (default "rollprobe rollprobe_kept rollprobe_full bare_idle puppeteer playwright
# puppeteer_full"), BENCH_OUT (default target/bench/<time>), BENCH_BASE_BIN (for rollprobe_base).
# Tools, on the headless shell unless named _full: rollprobe (its defaults); rollprobe_kept
# (--context per-worker); rollprobe_base (BENCH_BASE_BIN, another build of rollprobe, with its
# defaults: to compare two builds in one run); rollprobe_full (--browser full); bare (bare_cdp,
# stops at the load event); bare_idle (bare_cdp --idle-ms 500, rollprobe's wait: the floor);
# puppeteer (headless 'shell', networkidle0); playwright (playwright-core, networkidle);
# puppeteer_full (full Chromium, with the WebUI-omnibox disable-features rollprobe passes: the
# same browser work as rollprobe --browser full).
#
# For each worker count the tools run one after the other, never at once, in an order that
# rotates between worker counts. Each run is measured over its whole process tree by
# bench/treestat.py (Chromium's renderers are grandchildren and deeper: counted): CPU seconds
# from getrusage once everything is reaped, peak summed VmRSS (and Pss) sampled every 0.5 s.
# The simulator's own CPU is not counted. Results: $BENCH_OUT/results.jsonl and table.md.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS=${BENCH_WORKERS-"1 4 8 12"}
APP=${BENCH_APP:-}
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
TOOLS=${BENCH_TOOLS-"rollprobe rollprobe_kept rollprobe_full bare_idle puppeteer playwright puppeteer_full"}
OUT=${BENCH_OUT:-target/bench/$(date +%Y%m%d-%H%M%S)}
AUTO_SWEEP=${BENCH_AUTO_SWEEP-"4 8 12"}
AUTO_SECONDS=${BENCH_AUTO_SECONDS:-40}
mkdir -p "$OUT"

SIM_PID=""
RUN_PID=""
cleanup() {
  # treestat.py kills the whole tree it runs on SIGTERM; the simulator exits on SIGTERM.
  for pid in $RUN_PID $SIM_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for pid in $RUN_PID $SIM_PID; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ci/install-chromium.sh

echo "== cargo build --release (rollprobe, examples/bare_cdp)" >&2
cargo build --release --locked --bin rollprobe --example bare_cdp
ROLLPROBE=target/release/rollprobe
BARE=target/release/examples/bare_cdp

SHELL_BIN=/usr/lib/chromium/chromium-headless-shell
FULL_BIN=/usr/lib/chromium/chromium
# The peers run on Node with their package installed from the lock file, no browser download.
for peer in puppeteer playwright; do
  [[ " $TOOLS " == *" $peer"* ]] || continue
  if ! command -v node >/dev/null 2>&1; then
    echo "== node not found: skipping $peer" >&2
    TOOLS=$(tr ' ' '\n' <<<"$TOOLS" | grep -v "^$peer" | tr '\n' ' ')
  elif [ ! -d "bench/$peer/node_modules" ]; then
    echo "== npm ci (bench/$peer)" >&2
    (cd "bench/$peer" && npm ci --no-audit --no-fund)
  fi
done

n_workers=$(wc -w <<<"$WORKERS")
n_tools=$(wc -w <<<"$TOOLS")
# Bounded: every run plus launch, shutdown and slack.
n_auto=$(wc -w <<<"$AUTO_SWEEP")
LIFETIME=$(( n_workers * n_tools * (SECONDS_PER_RUN + 40) + (n_auto + 1) * (AUTO_SECONDS + 40) + 60 ))
# Steady mode keeps the normal timeline (before, rollout, after) and then exits: keep it in
# "before" for the simulator's whole life.
APP_ARGS=()
[ -n "$APP" ] && APP_ARGS=(--builds "tests/apps/$APP/dist-v1" "tests/apps/$APP/dist-v2")
"$ROLLPROBE" simulate --mode steady --port 0 --before "$LIFETIME" --max-lifetime "$LIFETIME" "${APP_ARGS[@]}" \
  --quiet >"$OUT/sim.out" 2>"$OUT/sim.err" &
SIM_PID=$!
URL=""
for _ in $(seq 100); do
  URL=$(sed -n 's/^ingress: //p' "$OUT/sim.out" 2>/dev/null || true)
  [ -n "$URL" ] && break
  kill -0 "$SIM_PID" 2>/dev/null || { cat "$OUT/sim.err" >&2; echo "simulator exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "simulator printed no ingress URL" >&2; exit 1; }

{
  echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/^Mem:/{print $2}') GB RAM"
  echo "browsers: $("$SHELL_BIN" --version 2>/dev/null || echo "no headless shell"); $("$FULL_BIN" --version 2>/dev/null || echo "no full Chromium")"
  echo "node: $(node --version 2>/dev/null || echo none), puppeteer-core $(node -p "require('./bench/puppeteer/node_modules/puppeteer-core/package.json').version" 2>/dev/null || echo none), playwright-core $(node -p "require('./bench/playwright/node_modules/playwright-core/package.json').version" 2>/dev/null || echo none)"
  echo "url: $URL (rollprobe simulate --mode steady${APP:+, tests/apps/$APP}), ${SECONDS_PER_RUN} s per run, workers: $WORKERS"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

run_one() { # tool workers [seconds [results file]]
  local tool=$1 w=$2 res="$OUT/$1-w$2.json" log="$OUT/$1-w$2.log" stats="$OUT/$1-w$2.stats.json"
  local SECONDS_PER_RUN=${3:-$SECONDS_PER_RUN} results=${4:-$OUT/results.jsonl}
  local cmd
  case $tool in
    rollprobe) cmd=("$ROLLPROBE" run "$URL" --workers "$w" --duration "${SECONDS_PER_RUN}s" --json "$res") ;;
    rollprobe_kept) cmd=("$ROLLPROBE" run "$URL" --workers "$w" --duration "${SECONDS_PER_RUN}s" --json "$res"
      --context per-worker) ;;
    rollprobe_base) cmd=("${BENCH_BASE_BIN:?rollprobe_base runs the build BENCH_BASE_BIN names}" run "$URL"
      --workers "$w" --duration "${SECONDS_PER_RUN}s" --json "$res") ;;
    rollprobe_full) cmd=("$ROLLPROBE" run "$URL" --workers "$w" --duration "${SECONDS_PER_RUN}s" --json "$res"
      --browser full) ;;
    bare) cmd=("$BARE" "$URL" --workers "$w" --duration "$SECONDS_PER_RUN" --chromium "$SHELL_BIN") ;;
    bare_idle) cmd=("$BARE" "$URL" --workers "$w" --duration "$SECONDS_PER_RUN" --idle-ms 500
      --chromium "$SHELL_BIN") ;;
    puppeteer|playwright) cmd=(node "bench/$tool/bench.js" "$URL" --workers "$w"
      --duration "$SECONDS_PER_RUN" --chromium "$SHELL_BIN") ;;
    puppeteer_full) cmd=(node bench/puppeteer/bench.js "$URL" --workers "$w" --duration "$SECONDS_PER_RUN"
      --chromium "$FULL_BIN"
      --extra-arg --disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup) ;;
    *) echo "unknown tool $tool" >&2; return 1 ;;
  esac
  echo "== $tool, $w worker(s)" >&2
  # rollprobe writes its report to --json; the others print their JSON line on stdout.
  local stdout="$log"
  [[ "$tool" == rollprobe* ]] || stdout="$res"
  python3 bench/treestat.py --out "$stats" -- "${cmd[@]}" >"$stdout" 2>>"$log" &
  RUN_PID=$!
  local rc=0
  wait "$RUN_PID" || rc=$?
  RUN_PID=""
  # rollprobe exits 1 when a load failed: still a measurement; the table shows failures.
  if [ ! -s "$stats" ]; then
    echo "   $tool failed (exit $rc), see $log" >&2
    return 0
  fi
  python3 bench/report.py collect "$tool" "$w" "$res" "$stats" | tee -a "$results" >&2
  sleep 2
}

read -r -a tools <<<"$TOOLS"
i=0
for w in $WORKERS; do
  # Rotate the order so no tool always runs first (right after a cool-down) or last.
  for k in $(seq 0 $(( ${#tools[@]} - 1 ))); do
    run_one "${tools[$(( (i + k) % ${#tools[@]} ))]}" "$w"
  done
  i=$(( i + 1 ))
done

if [ -n "$AUTO_SWEEP" ]; then
  j=0
  for w in $AUTO_SWEEP; do
    # auto before the fixed count, then after it: neither always follows a cool-down.
    if (( j % 2 == 0 )); then run_one rollprobe auto "$AUTO_SECONDS" "$OUT/auto.jsonl"; fi
    run_one rollprobe "$w" "$AUTO_SECONDS" "$OUT/auto.jsonl"
    if (( j % 2 == 1 )); then run_one rollprobe auto "$AUTO_SECONDS" "$OUT/auto.jsonl"; fi
    j=$(( j + 1 ))
  done
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
[ -s "$OUT/results.jsonl" ] && python3 bench/report.py table "$OUT/results.jsonl" | tee "$OUT/table.md"
[ -s "$OUT/auto.jsonl" ] && python3 bench/report.py auto "$OUT/auto.jsonl" | tee "$OUT/auto.md"
echo >&2
echo "results: $OUT/results.jsonl, $OUT/table.md, $OUT/auto.md" >&2
