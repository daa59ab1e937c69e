#!/usr/bin/env python3
"""Runs a command and measures its whole process tree: CPU time and peak memory.

    treestat.py --out stats.json [--interval 0.5] -- CMD [ARGS...]

The command's stdout/stderr are passed through. This process becomes a child subreaper, so
processes that the tool orphans (Chromium's zygote and renderers are grandchildren and deeper)
are reparented here rather than to init, stay in the tree and are reaped here.

Measured:
- cpu_s: user+system CPU seconds of every process in the tree, from getrusage(RUSAGE_CHILDREN)
  once the command and everything it left behind has been reaped. Exact: a reaped process's
  time (and that of the children it reaped) ends up in its parent's, up to us.
- cpu_s_sampled: cross-check from /proc every --interval: per pid the last seen utime+stime,
  summed (misses what a process used after its last sample).
- peak_rss_mb: the largest sum of VmRSS over the tree at one sample (shared pages are counted
  once per process, so this overstates real memory); peak_pss_mb: the same with Pss from
  smaps_rollup (shared pages divided among their users: closer to what the tree really costs).
- wall_s, exit code, the most processes seen at once.
- cpu_by_type: the sampled CPU seconds by what each process is, from its command line:
  `tool` (the command itself), Chromium's `browser`, `renderer`, `gpu`, `network` (the network
  service), `utility` (other utility processes), `zygote`, `other`; and `renderers_reaped`: the
  CPU of renderers that exited, as their parent (the zygote) accounts for them once it reaped
  them (a renderer of a fresh context often lives less than one sampling interval).
"""

import argparse
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
CLK_TCK = os.sysconf("SC_CLK_TCK")


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("treestat: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)


def read_stat(pid):
    """(ppid, utime+stime ticks, cutime+cstime ticks) or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    # comm may contain spaces and parentheses: fields start after the last ')'.
    rest = data[data.rfind(")") + 2 :].split()
    # rest[0] = state (field 3), rest[1] = ppid (4), utime = field 14, stime = field 15
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def read_mem_kb(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                    break
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                    break
    except OSError:
        pass
    return rss, pss


def tree(root):
    """Pids of every descendant of root (not root itself), with their stats."""
    stats = {}
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        st = read_stat(pid)
        if st is None:
            continue
        stats[pid] = st
        children.setdefault(st[0], []).append(pid)
    out = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out[pid] = stats[pid]
        todo.extend(children.get(pid, []))
    return out


def kind_of(pid):
    """What a process of the tree is, from its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            # Chromium rewrites its children's titles into one space-separated string.
            args = f.read().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return "other"
    if not args:
        return "other"
    kind = next((a[len("--type="):] for a in args if a.startswith("--type=")), None)
    if kind is None:
        return "browser" if "chrom" in args[0] else "other"
    if kind == "utility":
        return "network" if any("NetworkService" in a for a in args) else "utility"
    return {"renderer": "renderer", "gpu-process": "gpu", "zygote": "zygote"}.get(kind, "other")


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def by_type(last_ticks, kinds):
    out = {}
    for pid, ticks in last_ticks.items():
        kind = kinds.get(pid, "other")
        out[kind] = out.get(kind, 0) + ticks
    return {k: round(v / CLK_TCK, 3) for k, v in sorted(out.items())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--linger", type=float, default=10.0,
                    help="how long processes left behind may take to exit before SIGKILL")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        ap.error("no command")

    set_subreaper()
    me = os.getpid()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    child = subprocess.Popen(cmd)

    def kill_tree(sig):
        for pid in tree(me):
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    def on_signal(signum, _frame):
        kill_tree(signal.SIGTERM)
        time.sleep(1)
        kill_tree(signal.SIGKILL)
        reap_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    last_ticks = {}  # pid -> last seen utime+stime ticks (pids are not reused within a run)
    kinds = {}  # pid -> what it is
    zygote_reaped = {}  # zygote pid -> last seen cutime+cstime ticks
    peak_rss = peak_pss = 0
    max_procs = 0
    code = None
    linger_until = None
    while True:
        procs = tree(me)
        rss_sum = pss_sum = 0
        for pid, (_, ticks, cticks) in procs.items():
            last_ticks[pid] = max(last_ticks.get(pid, 0), ticks)
            # A zygote's fresh fork shows the zygote's title until it takes its own.
            if kinds.get(pid, "zygote") == "zygote" or kinds[pid] == "other":
                kinds[pid] = "tool" if pid == child.pid else kind_of(pid)
            if kinds[pid] == "zygote":
                zygote_reaped[pid] = max(zygote_reaped.get(pid, 0), cticks)
            rss, pss = read_mem_kb(pid)
            rss_sum += rss
            pss_sum += pss
        peak_rss = max(peak_rss, rss_sum)
        peak_pss = max(peak_pss, pss_sum)
        max_procs = max(max_procs, len(procs))
        if code is None:
            code = child.poll()
            if code is not None:
                wall = time.monotonic() - t0
                linger_until = time.monotonic() + args.linger
        reap_all()
        if code is not None:
            if not tree(me):
                break
            if time.monotonic() > linger_until:
                print(f"treestat: killing {len(tree(me))} process(es) left behind", file=sys.stderr)
                kill_tree(signal.SIGKILL)
                time.sleep(0.2)
                reap_all()
                break
            time.sleep(0.1)
            continue
        time.sleep(args.interval)

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    out = {
        "cmd": cmd,
        "exit_code": code,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "cpu_s_sampled": round(sum(last_ticks.values()) / CLK_TCK, 3),
        "cpu_percent": round(100.0 * cpu / wall, 1) if wall > 0 else 0.0,
        "peak_rss_mb": round(peak_rss / 1024.0, 1),
        "peak_pss_mb": round(peak_pss / 1024.0, 1),
        "max_procs": max_procs,
        "pids_seen": len(last_ticks),
        "cpu_by_type": by_type(last_ticks, kinds),
        "renderers_reaped": round(sum(zygote_reaped.values()) / CLK_TCK, 3),
    }
    with open(args.out, "w") as f:
        json.dump(out, f)
        f.write("\n")
    sys.exit(code if code is not None and code >= 0 else 1)


if __name__ == "__main__":
    main()
