#!/usr/bin/env bash
# Rebuilds the committed fixture builds dist-v1/ and dist-v2/ from the sources.
# The two builds differ only in the visible "build vN" string (APP_VERSION).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund
for v in v1 v2; do
  APP_VERSION="$v" npx --no-install vite build --outDir "dist-$v" --emptyOutDir
done
