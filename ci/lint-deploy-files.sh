#!/usr/bin/env bash
# Lints the files that run rollprobe elsewhere (README, "Where it runs"):
#   Containerfile            hadolint
#   ci/github-actions.yml    actionlint (with shellcheck on its run: scripts), also against action.yml
#   action.yml               the composite action's keys, its run scripts with shellcheck
#   ci/gitlab-ci.yml         YAML with the keys GitLab requires
#   ci/k8s/*.yaml            Kubernetes' schemas (kubernetes-validate, strict); the Argo Rollouts
#                            AnalysisTemplate against its CRD's schema (check-jsonschema, ci/schemas/),
#                            and the Job its job metric creates against Kubernetes' schema
# The tools come from PyPI (ci/lint-requirements.txt) into the venv ci/ci-tools.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$(ci/ci-tools.sh)
# actionlint finds shellcheck on PATH.
export PATH="$venv/bin:$PATH"
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
echo "== shellcheck ci/lint-deploy-files.sh ci/ci-tools.sh ci/test.sh ci/install-chromium.sh"
shellcheck ci/lint-deploy-files.sh ci/ci-tools.sh ci/test.sh ci/install-chromium.sh

echo "== ci/gitlab-ci.yml"
"$py" ci/lint_deploy_files.py gitlab ci/gitlab-ci.yml

echo "== ci/k8s"
"$py" ci/lint_deploy_files.py k8s ci/schemas ci/k8s/*.yaml

echo "== the recorded JUnit files as GitLab and Jenkins read them (junitparser)"
for xml in tests/fixtures/*.junit.xml; do "$py" ci/check_junit.py "$xml" --attachments none; done
