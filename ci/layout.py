#!/usr/bin/env python3
"""Checks the layout rules of docs/issue 10: no import cycles between top-level modules of src/,
every source file under 600 lines (its inline test module aside), no function over 80 lines
outside tests. Prints what breaks a rule and exits 1, or prints a summary and exits 0."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
MAX_FILE, MAX_FN = 600, 80
problems = []

def files():
    for d, _, names in os.walk(ROOT):
        for n in names:
            if n.endswith(".rs"):
                yield os.path.join(d, n)

def top(path):
    rel = os.path.relpath(path, ROOT).split(os.sep)
    return rel[0][:-3] if len(rel) == 1 else rel[0]

def without_tests(text):
    m = re.search(r"^#\[cfg\(test\)\]\s*\nmod tests", text, re.M)
    return text[: m.start()] if m else text

graph = {}
for path in files():
    code = without_tests(open(path).read())
    rel = os.path.relpath(path, ROOT)
    lines = code.count("\n")
    if lines > MAX_FILE:
        problems.append(f"{rel}: {lines} lines outside tests (max {MAX_FILE})")
    me = top(path)
    if me in ("main", "lib"):
        continue
    for dep in set(re.findall(r"crate::([a-z_]+)", code)):
        if dep != me:
            graph.setdefault(me, set()).add(dep)
    # Functions: from a `fn` line to the closing brace at its indentation.
    src = code.split("\n")
    for i, line in enumerate(src):
        m = re.match(r"^(\s*)(pub(\([a-z]+\))? )?(async )?fn (\w+)", line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i + 1, len(src)):
            if src[j] == indent + "}":
                if j - i + 1 > MAX_FN:
                    problems.append(f"{rel}:{i+1}: fn {m.group(5)} is {j-i+1} lines (max {MAX_FN})")
                break

def cycle_from(start):
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None

cycles = set()
for m in sorted(graph):
    c = cycle_from(m)
    if c:
        cycles.add(" -> ".join(c))
problems += [f"import cycle: {c}" for c in sorted(cycles)]

if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"layout ok: {len(graph)} top-level modules, no import cycle, files <= {MAX_FILE} lines, functions <= {MAX_FN} lines")
