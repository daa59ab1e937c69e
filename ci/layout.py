#!/usr/bin/env python3
"""Checks the layout rules the README's code map states: no import cycle between top-level modules
of src/, nor between the files of one folder; `model` imports no other module of the crate; the
judge does no I/O; the exporters read only the model; every source file under 600 lines (its
inline test module aside), no function over 80 lines outside tests. Prints what breaks a rule and
exits 1, or prints a summary and exits 0."""
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

def reexports(folder):
    """What a folder's mod.rs re-exports from its files: `pub use session::{Session, drive}`."""
    path = os.path.join(ROOT, folder, "mod.rs")
    if not os.path.exists(path):
        return {}
    found = {}
    for m in re.finditer(r"pub(?:\([a-z]+\))? use ([a-z_]+)::(\{[^}]*\}|\w+)", open(path).read()):
        for element in m.group(2).strip("{}").split(","):
            # `app as cli_app`: the folder knows it as cli_app.
            words = re.findall(r"\w+", element)
            if words:
                found[words[-1]] = m.group(1)
    return found

def test_only(folder):
    """Files a folder's mod.rs declares under #[cfg(test)]: test helpers, not the module's code."""
    path = os.path.join(ROOT, folder, "mod.rs")
    if not os.path.exists(path):
        return set()
    return set(re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))? )?mod ([a-z_]+);", open(path).read()))

def top_names(code, start):
    """The first name of each element of a use tree at `code[start:]`: `x`, or the `x` and `y`
    of `{x::{A, B}, y}`."""
    if code[start] != "{":
        return set(re.findall(r"^\w+", code[start:]))
    names, depth, element = set(), 0, ""
    for ch in code[start:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if depth == 1 and ch == ",":
            names |= set(re.findall(r"^\s*(\w+)", element))
            element = ""
        else:
            element += ch
    names |= set(re.findall(r"^\s*(\w+)", element))
    return names

def used_under(code, prefix):
    """Every first name used under a path prefix: `std::fs`, and `fs`, `net` of `std::{fs, net}`."""
    names = set()
    for m in re.finditer(prefix, code):
        names |= top_names(code, m.end())
    return names

def crate_names(code):
    """The crate's top-level modules a file names: `crate::a::x`, `crate::{a, b::y}`."""
    return {n for n in used_under(code, r"\bcrate::") if n.islower()}

def siblings_named(code, crate_path, folder):
    """The names a file takes from its folder (`super::x`, `super::{x, Y}`, `crate::folder::x`),
    re-exported items resolved to the file that defines them."""
    names = used_under(code, r"\bsuper::") | used_under(code, re.escape(crate_path))
    items = reexports(folder)
    return {items.get(n, n) for n in names}

graph = {}
# Per folder: which sibling file a file names (`super::x`, `crate::folder::x`).
folders = {}
# The I/O a pure module may not touch.
IO_CRATES = {"tokio", "reqwest"}
IO_STD = {"fs", "net", "process", "io", "env", "thread"}
# The exporters: they read the report model (and their own helpers in report/) only.
EXPORTERS = ("report/json.rs", "report/junit.rs", "report/text.rs", "report/html/")
for path in files():
    code = without_tests(open(path).read())
    rel = os.path.relpath(path, ROOT)
    lines = code.count("\n")
    if lines > MAX_FILE:
        problems.append(f"{rel}: {lines} lines outside tests (max {MAX_FILE})")
    me = top(path)
    if me in ("main", "lib"):
        continue
    parts = rel[:-3].split(os.sep)
    if len(parts) >= 2 and parts[-1] in test_only(os.sep.join(parts[:-1])):
        continue
    deps = crate_names(code)
    if me == "model":
        for dep in sorted(deps - {"model"}):
            problems.append(f"{rel}: uses crate::{dep}: model imports no other module of the crate")
    if me == "judge":
        io = {c for c in IO_CRATES if re.search(r"\b" + c + r"::", code)}
        io |= {f"std::{n}" for n in used_under(code, r"\bstd::") & IO_STD}
        for hit in sorted(io):
            problems.append(f"{rel}: uses {hit}: the judge does no I/O")
    if rel.startswith(EXPORTERS):
        for dep in sorted(deps - {"model", "report"}):
            problems.append(f"{rel}: uses crate::{dep}: the exporters read only the model")
    if len(parts) >= 2 and parts[-1] != "mod":
        folder, name = os.sep.join(parts[:-1]), parts[-1]
        crate_path = "crate::" + "::".join(parts[:-1]) + "::"
        folders.setdefault(folder, {})[name] = siblings_named(code, crate_path, folder)
    for dep in deps:
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

for folder, names in sorted(folders.items()):
    # Only edges to sibling files: `super::Item` of the folder's mod.rs is not a file.
    local = {n: {d for d in deps if d in names and d != n} for n, deps in names.items()}
    seen_cycles = set()
    for start in sorted(local):
        stack = [(start, [start])]
        visited = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(local.get(node, ())):
                if nxt == start:
                    cyc = tuple(sorted(path))
                    if cyc not in seen_cycles:
                        seen_cycles.add(cyc)
                        problems.append(f"import cycle in {folder}/: " + " -> ".join(path + [start]))
                elif nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, path + [nxt]))

if problems:
    print("\n".join(problems))
    sys.exit(1)
modules = {top(p) for p in files()} - {"main", "lib"}
print(f"layout ok: {len(modules)} top-level modules and {len(folders)} folders without an import cycle, model, judge and exporters within their rules, files <= {MAX_FILE} lines, functions <= {MAX_FN} lines")
