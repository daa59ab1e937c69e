#!/usr/bin/env bash
# The project's test command: installs Chromium when missing, then lint and the whole suite.
# Tests start their own sites on 127.0.0.1 and a real headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/install-chromium.sh

echo "== cargo fmt --check"
cargo fmt --check
echo "== layout (import cycles, file and function lengths)"
python3 ci/layout.py
echo "== deployment files (Containerfile, GitHub Action and workflow, GitLab CI, Kubernetes manifests)"
ci/lint-deploy-files.sh
echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked -- --test-threads="${ROLLPROBE_TEST_THREADS:-2}"
