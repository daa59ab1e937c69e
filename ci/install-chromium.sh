#!/usr/bin/env bash
# Installs Debian's browsers when they are not there yet: the headless shell rollprobe runs by
# default, and full Chromium for `--browser full` (and the test that covers it). rollprobe
# never downloads a browser.
set -euo pipefail
if [ -n "${CHROMIUM:-}" ]; then
  exit 0
fi
need=()
command -v chromium-headless-shell >/dev/null 2>&1 || need+=(chromium-headless-shell)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "== installing ${need[*]} (apt-get)" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
