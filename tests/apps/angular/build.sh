#!/usr/bin/env bash
# Builds the Angular app (application builder, no SSR, no prerender) twice:
# dist-v1/ and dist-v2/ differ only in the visible "build vN" string
# (APP_VERSION, replaced at build time through the builder's `define` option).
set -euo pipefail
cd "$(dirname "$0")"
export NG_CLI_ANALYTICS=false

npm ci --no-audit --no-fund

for v in v1 v2; do
  rm -rf dist "dist-$v"
  npx --no-install ng build --configuration production --source-map=false \
    --define "APP_VERSION='$v'"
  mv dist/rollprobe-angular/browser "dist-$v"
  rm -rf dist
done
