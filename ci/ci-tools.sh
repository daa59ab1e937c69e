#!/usr/bin/env bash
# Makes the venv of the CI's Python tools (ci/lint-requirements.txt: the deployment files' linters,
# junitparser for the JUnit check) in target/ci-tools, once and again only when that file changes,
# and prints its path. Used by ci/lint-deploy-files.sh and by the e2e test that reads a JUnit file
# the way CI servers do. Needs python3 with venv; installs python3-venv with apt-get when it is
# missing, as ci/install-chromium.sh does for Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/ci-tools
mkdir -p target
# The e2e test and the linters may make it at the same time.
exec 9>target/ci-tools.lock
flock 9
stamp="$venv/.installed-$(sha256sum ci/lint-requirements.txt | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "== installing python3-venv (apt-get)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  echo "== installing the CI tools into $venv (pip)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: -r ci/lint-requirements.txt >&2
  touch "$stamp"
fi
echo "$PWD/$venv"
