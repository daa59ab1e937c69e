#!/usr/bin/env python3
"""The YAML checks of ci/lint-deploy-files.sh that no off-the-shelf linter makes (run with the venv's
python, which has PyYAML, kubernetes-validate and check-jsonschema):

    lint_deploy_files.py action action.yml SCRIPT_DIR   composite action keys; its run scripts to SCRIPT_DIR
    lint_deploy_files.py gitlab ci/gitlab-ci.yml        the keys GitLab requires
    lint_deploy_files.py k8s SCHEMA_DIR FILE...         every manifest against its schema

Each prints what is wrong and exits 1, or prints one line saying what it checked.
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

BIN = os.path.dirname(sys.executable)
# Kubernetes versions the manifests must be valid for: the newest kubernetes-validate knows and an
# older one still in wide use, so a field too new for most clusters fails too.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
CORE_GROUPS = {"v1", "batch/v1", "apps/v1", "networking.k8s.io/v1", "policy/v1", "rbac.authorization.k8s.io/v1"}
# Custom resources: apiVersion, kind -> the JSON schema vendored in ci/schemas (see its README).
CRD_SCHEMAS = {("argoproj.io/v1alpha1", "AnalysisTemplate"): "analysistemplate-argoproj.io-v1alpha1.json"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def fail(path, problems):
    for p in dict.fromkeys(problems):
        print(f"{path}: {p}")
    sys.exit(1)


def check_action(path, script_dir):
    """A composite action's metadata as GitHub reads it; the run scripts go to script_dir for shellcheck."""
    (action,) = load(path)
    problems = []
    allowed = {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
    problems += [f"unknown top-level key {k!r}" for k in action if k not in allowed]
    problems += [f"{k!r} is required" for k in ("name", "description", "runs") if not action.get(k)]
    inputs = action.get("inputs") or {}
    for name, spec in inputs.items():
        if not isinstance(spec, dict) or "description" not in spec:
            problems.append(f"input {name!r} needs a description")
        elif "default" in spec and not isinstance(spec["default"], str):
            problems.append(f"input {name!r}: a default is a string")
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        problems.append("runs.using must be 'composite'")
    steps = runs.get("steps") or []
    if not steps:
        problems.append("runs.steps is empty")
    ids = [s["id"] for s in steps if isinstance(s, dict) and "id" in s]
    problems += [f"step id {i!r} is used twice" for i in {i for i in ids if ids.count(i) > 1}]
    for name, spec in (action.get("outputs") or {}).items():
        if not isinstance(spec, dict) or "description" not in spec or "value" not in spec:
            problems.append(f"output {name!r} needs a description and a value (composite actions)")
    text = open(path, encoding="utf-8").read()
    for kind, name in re.findall(r"\$\{\{[^}]*?\b(inputs|steps)\.([A-Za-z0-9_-]+)", text):
        known = inputs if kind == "inputs" else ids
        if name not in known:
            problems.append(f"${{{{ {kind}.{name} }}}} names no {kind[:-1]} of this action")
    os.makedirs(script_dir, exist_ok=True)
    for n, step in enumerate(steps):
        label = f"step {n + 1} ({step.get('name', step.get('id', '?'))})"
        if ("run" in step) == ("uses" in step):
            problems.append(f"{label}: needs exactly one of run and uses")
        if "run" in step:
            if step.get("shell") != "bash":
                problems.append(f"{label}: a run step of a composite action needs shell: bash")
            if "${{" in step["run"]:
                # An expression is pasted into the script before bash reads it: inputs go through env.
                problems.append(f"{label}: no ${{{{ }}}} in run scripts, pass values through env")
            with open(os.path.join(script_dir, f"step-{n + 1}.sh"), "w", encoding="utf-8") as f:
                f.write("#!/usr/bin/env bash\n" + step["run"])
    if problems:
        fail(path, problems)
    print(f"{path}: composite action, {len(inputs)} inputs, {len(steps)} steps")


GITLAB_GLOBAL = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script", "spec",
}


def check_gitlab(path):
    """The keys GitLab requires: a job has a script (or trigger/extends), its stage is declared."""
    (ci,) = load(path)
    problems = []
    stages = ci.get("stages", ["build", "test", "deploy"])
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        problems.append("stages must be a list of names")
    jobs = {k: v for k, v in ci.items() if k not in GITLAB_GLOBAL and not k.startswith(".")}
    if not jobs:
        problems.append("no job")
    for name, job in jobs.items():
        if not isinstance(job, dict):
            problems.append(f"job {name!r} is not a mapping")
            continue
        if not any(k in job for k in ("script", "trigger", "extends")):
            problems.append(f"job {name!r} has no script")
        for key in ("before_script", "script", "after_script"):
            lines = job.get(key, [])
            if isinstance(lines, str):
                lines = [lines]
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                problems.append(f"job {name!r}: {key} must be a string or a list of strings")
        if "stage" in job and job["stage"] not in stages + [".pre", ".post"]:
            problems.append(f"job {name!r}: stage {job['stage']!r} is not in stages")
        reports = (job.get("artifacts") or {}).get("reports") or {}
        if "junit" in reports and not reports.get("junit"):
            problems.append(f"job {name!r}: artifacts.reports.junit is empty")
    if problems:
        fail(path, problems)
    print(f"{path}: {len(jobs)} job(s), stages {stages}")


def analysis_jobs(doc):
    """The Jobs an AnalysisTemplate's job metrics create, as batch/v1 Jobs for the Kubernetes schema."""
    for metric in doc["spec"].get("metrics", []):
        job = (metric.get("provider") or {}).get("job")
        if job:
            yield {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": f"{doc['metadata']['name']}-{metric['name']}", **(job.get("metadata") or {})},
                "spec": job["spec"],
            }


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    out = (result.stdout + result.stderr).strip()
    # kubernetes-validate only warns about a kind it has no schema for; here that is a failure.
    if result.returncode != 0 or "Couldn't find schema" in out:
        print(out)
        sys.exit(1)


def check_k8s(schema_dir, paths):
    core, crds, problems = [], [], []
    for path in paths:
        for doc in load(path):
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key in CRD_SCHEMAS:
                crds.append((path, key))
                core.extend(analysis_jobs(doc))
            elif key[0] in CORE_GROUPS:
                core.append(doc)
            else:
                problems.append(f"{path}: no schema for {key[1]} {key[0]}")
    if problems:
        fail("k8s", problems)
    with tempfile.TemporaryDirectory() as tmp:
        manifests = os.path.join(tmp, "core.yaml")
        with open(manifests, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(core, f)
        for version in KUBERNETES_VERSIONS:
            run([os.path.join(BIN, "kubernetes-validate"), "--strict", "--quiet", "-k", version, manifests])
    for path, key in sorted(set(crds)):
        run([os.path.join(BIN, "check-jsonschema"), "--schemafile", os.path.join(schema_dir, CRD_SCHEMAS[key]), path])
    print(
        f"k8s: {len(core)} resources (with the Jobs of job metrics) valid for Kubernetes "
        f"{' and '.join(KUBERNETES_VERSIONS)}, {len(crds)} custom resource(s) valid for their CRD's schema"
    )


def main():
    cmd, *args = sys.argv[1:]
    if cmd == "action":
        check_action(*args)
    elif cmd == "gitlab":
        check_gitlab(*args)
    elif cmd == "k8s":
        check_k8s(args[0], args[1:])
    else:
        sys.exit(f"unknown check {cmd!r}")


if __name__ == "__main__":
    main()
