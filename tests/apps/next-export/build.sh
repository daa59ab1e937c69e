#!/usr/bin/env bash
# Builds the Next.js static export twice: dist-v1/ and dist-v2/ differ only in
# the visible "build vN" string (NEXT_PUBLIC_APP_VERSION, inlined at build time).
set -euo pipefail
cd "$(dirname "$0")"
export NEXT_TELEMETRY_DISABLED=1 CI=1

npm ci --no-audit --no-fund

for v in v1 v2; do
  rm -rf .next out "dist-$v"
  APP_VERSION="$v" NEXT_PUBLIC_APP_VERSION="$v" npx --no-install next build
  mv out "dist-$v"
done
# next build also leaves an (empty) telemetry-preferences folder ./cache when
# it thinks it runs in CI or in a container.
rm -rf .next cache
