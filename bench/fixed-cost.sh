#!/usr/bin/env bash
# What a fresh-user load costs before the page does anything: CPU seconds per load of the bare
# DevTools loop (examples/bare_cdp.rs, --idle-ms 500) and of rollprobe, at N workers (default
# 8) on the headless shell, on three pages served by the simulator:
#
#   blank  about:blank: a browser context, a page, its domains, a navigation without a request,
#          close and dispose. What every fresh user costs, whatever the site.
#   empty  an index.html with nothing in it: the same plus one HTTP request and a document.
#   spa    the simulator's built-in SPA (hashed JS and CSS, a lazily imported chunk).
#
# The runs alternate (bare, rollprobe, page by page; rollprobe takes no about:blank) for R
# rounds (default 2), S seconds each (default 15), each measured over its whole process tree
# by bench/treestat.py.
#
#   bench/fixed-cost.sh
#   FIXED_WORKERS=4 FIXED_ROUNDS=3 bench/fixed-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=${FIXED_WORKERS:-8}
S=${FIXED_SECONDS:-15}
R=${FIXED_ROUNDS:-2}
OUT=${FIXED_OUT:-target/bench/fixed-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT/empty"
: >"$OUT/empty/index.html"
ci/install-chromium.sh >/dev/null
cargo build --release --locked --bin rollprobe --example bare_cdp >&2
BIN=target/release/rollprobe
BARE=target/release/examples/bare_cdp
SHELL_BIN=/usr/lib/chromium/chromium-headless-shell
SIMS=()
trap 'for p in "${SIMS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
declare -A URL
URL[blank]=about:blank

serve() { # page, then simulate flags: sets URL[page]
  local name=$1 life=$(( 6 * R * (S + 15) + 60 )); shift
  "$BIN" simulate --mode steady --before "$life" --max-lifetime "$life" --quiet "$@" \
    >"$OUT/$name.sim" 2>&1 &
  SIMS+=($!)
  for _ in $(seq 100); do
    URL[$name]=$(sed -n 's/^ingress: //p' "$OUT/$name.sim" 2>/dev/null || true)
    [ -n "${URL[$name]}" ] && return
    sleep 0.1
  done
  echo "simulator for $name printed no ingress URL" >&2
  exit 1
}
serve empty --builds "$OUT/empty" "$OUT/empty"
serve spa

run() { # tool page round
  local tool=$1 page=$2 name="$1-$2-$3" cmd
  case $tool in
    bare) cmd=("$BARE" "${URL[$page]}" --workers "$W" --duration "$S" --idle-ms 500 --chromium "$SHELL_BIN") ;;
    rollprobe) cmd=("$BIN" run "${URL[$page]}" --workers "$W" --duration "${S}s" --quiet
      --json "$OUT/$name.json") ;;
  esac
  python3 bench/treestat.py --out "$OUT/$name.stats.json" -- "${cmd[@]}" >"$OUT/$name.out" \
    2>"$OUT/$name.err" || true
  python3 - "$tool" "$page" "$OUT/$name" <<'PY'
import json, sys
tool, page, base = sys.argv[1:]
try:
    stats = json.load(open(base + ".stats.json"))
    if tool == "bare":
        loads = json.loads(open(base + ".out").read().strip().splitlines()[-1])["loads"]
    else:
        loads = json.load(open(base + ".json"))["summary"]["loads"]
    print(f"| {page} | {tool} | {loads} | {stats['cpu_s'] / max(loads, 1):.3f} |")
except (OSError, ValueError, IndexError, KeyError) as e:
    print(f"| {page} | {tool} | failed ({e}; see {base}.err) | |")
PY
  sleep 2
}

echo "workers: $W, ${S} s per run, $R round(s), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| page | tool | loads | CPU-s per load |"
echo "|---|---|---:|---:|"
for round in $(seq "$R"); do
  for page in blank empty spa; do
    run bare "$page" "$round"
    # rollprobe takes http(s) URLs only.
    [ "$page" = blank ] || run rollprobe "$page" "$round"
  done
done
