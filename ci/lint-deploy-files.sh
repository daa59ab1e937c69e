#!/usr/bin/env bash
# Lints the files that run rollprobe elsewhere (README, "Where it runs"):
#   Containerfile            hadolint
#   ci/github-actions.yml    actionlint (with shellcheck on its run: scripts), also against action.yml
#   action.yml               the composite action's keys, its run scripts with shellcheck
#   ci/gitlab-ci.yml         YAML with the keys GitLab requires
#   ci/k8s/*.yaml            Kubernetes' schemas (kubernetes-validate, strict); the Argo Rollouts
#                            AnalysisTemplate against its CRD's schema (check-jsonschema, ci/schemas/),
#                            and the Job its job metric creates against Kubernetes' schema
# The tools come from PyPI (ci/lint-requirements.txt) into a venv in target/ci-tools, made once and
# again only when that file changes. Needs python3 with venv; installs python3-venv with apt-get when
# it is missing, as ci/install-chromium.sh does for Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/ci-tools
stamp="$venv/.installed-$(sha256sum ci/lint-requirements.txt | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "== installing python3-venv (apt-get)" >&2
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  fi
  echo "== installing the linters into $venv (pip)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: -r ci/lint-requirements.txt
  touch "$stamp"
fi
# actionlint finds shellcheck on PATH.
export PATH="$PWD/$venv/bin:$PATH"
py="$venv/bin/python"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== hadolint Containerfile"
hadolint --failure-threshold style Containerfile

echo "== actionlint ci/github-actions.yml"
actionlint ci/github-actions.yml
# The same workflow using this checkout's action.yml (uses: ./): actionlint then checks the inputs it
# gives and the outputs it reads against the action's own. actionlint takes a directory for a project
# (where ./ actions are) only when it is a git repository.
mkdir -p "$tmp/project/.github/workflows"
git init -q "$tmp/project"
cp action.yml "$tmp/project/"
sed -E 's#uses: [^ ]+/rollprobe@[^ ]+#uses: ./#' ci/github-actions.yml >"$tmp/project/.github/workflows/example.yml"
grep -qE 'uses: \./( |$)' "$tmp/project/.github/workflows/example.yml" || {
  echo "ci/github-actions.yml: no step uses the rollprobe action" >&2
  exit 1
}
(cd "$tmp/project" && actionlint .github/workflows/example.yml)

echo "== action.yml"
"$py" ci/lint_deploy_files.py action action.yml "$tmp/action-scripts"
shellcheck --shell=bash "$tmp"/action-scripts/*.sh
echo "== shellcheck ci/lint-deploy-files.sh ci/test.sh ci/install-chromium.sh"
shellcheck ci/lint-deploy-files.sh ci/test.sh ci/install-chromium.sh

echo "== ci/gitlab-ci.yml"
"$py" ci/lint_deploy_files.py gitlab ci/gitlab-ci.yml

echo "== ci/k8s"
"$py" ci/lint_deploy_files.py k8s ci/schemas ci/k8s/*.yaml
