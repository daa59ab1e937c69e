"""Reads a rollprobe JUnit file with junitparser, as CI servers read it, and checks the
conventions GitLab and Jenkins depend on (README, "Reports"):

- every testcase has a classname (GitLab groups testcases by it; without one they land in an
  empty group),
- no (classname, name) pair repeats (GitLab keys testcases by both and keeps one of each),
- no testsuite has its own <system-out> (GitLab ignores it): each suite's summary is in one of
  its testcases' <system-out>,
- every `[[ATTACHMENT|path]]` line (GitLab's and Jenkins' junit-attachments' syntax) is in a
  failing testcase, names a relative path without `[`, `]` or `|`, and that file exists next to
  the JUnit file; a testcase has at most one (GitLab shows only the first).

  python check_junit.py FILE [--attachments required|none|any]

`required`: at least one failing testcase attaches a file; `none`: no testcase does.
Exit 0 and a one-line summary when the file passes, 1 and every problem found when it does not.
"""

import argparse
import re
import sys
from pathlib import Path

from junitparser import JUnitXml, SystemOut

ATTACHMENT = re.compile(r"^\[\[ATTACHMENT\|(.*)\]\]$")


def attachments(case):
    return [m.group(1) for line in (case.system_out or "").splitlines() if (m := ATTACHMENT.match(line))]


def check(path, wanted):
    problems = []
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml) if isinstance(xml, JUnitXml) else [xml]
    seen, cases, attached = set(), 0, 0
    for suite in suites:
        if suite.child(SystemOut) is not None:
            problems.append(f"suite {suite.name!r}: a testsuite-level <system-out> (GitLab ignores it)")
        if not any((case.system_out or "").strip() for case in suite):
            problems.append(f"suite {suite.name!r}: no testcase carries the summary in <system-out>")
        for case in suite:
            cases += 1
            where = f"suite {suite.name!r}, testcase {case.name!r}"
            if not case.classname:
                problems.append(f"{where}: no classname")
            key = (case.classname, case.name)
            if key in seen:
                problems.append(f"{where}: classname and name repeat {key}")
            seen.add(key)
            files = attachments(case)
            if len(files) > 1:
                problems.append(f"{where}: {len(files)} attachments, GitLab shows the first only")
            if files and not (case.is_failure or case.is_error):
                problems.append(f"{where}: an attachment on a testcase that did not fail")
            for name in files:
                attached += 1
                if Path(name).is_absolute() or any(c in name for c in "[]|"):
                    problems.append(f"{where}: attachment {name!r} is not a relative path GitLab takes")
                elif not (path.parent / name).is_file():
                    problems.append(f"{where}: attachment {name!r} does not exist next to {path}")
    if wanted == "required" and attached == 0:
        problems.append("no failing testcase attaches a file")
    if wanted == "none" and attached:
        problems.append(f"{attached} attachment(s) where none were expected")
    return problems, f"{len(suites)} suites, {cases} testcases, {attached} attachment(s)"


def main():
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("file", type=Path)
    args.add_argument("--attachments", choices=["required", "none", "any"], default="any")
    opts = args.parse_args()
    problems, summary = check(opts.file, opts.attachments)
    for p in problems:
        print(f"{opts.file}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"{opts.file}: JUnit as GitLab and Jenkins read it: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
