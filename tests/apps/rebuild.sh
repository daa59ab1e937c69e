#!/usr/bin/env bash
# Rebuilds every fixture app: runs each tests/apps/*/build.sh in turn
# (each does `npm ci` and writes its committed dist-v1/ and dist-v2/).
set -euo pipefail
cd "$(dirname "$0")"

for script in */build.sh; do
  echo "==> ${script}"
  bash "${script}"
done
