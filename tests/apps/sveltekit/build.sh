#!/usr/bin/env bash
# Builds the SvelteKit app (adapter-static, all pages prerendered) twice:
# dist-v1/ and dist-v2/ differ only in the visible "build vN" string
# (APP_VERSION, replaced at build time through Vite's `define`).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund

for v in v1 v2; do
  rm -rf .svelte-kit build "dist-$v"
  APP_VERSION="$v" npx --no-install vite build
  mv build "dist-$v"
done
rm -rf .svelte-kit
