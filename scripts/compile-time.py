#!/usr/bin/env python3
"""CPU time to compile one target's objects, one object at a time (docs/benchmarks.md, issue 8).

    python3 scripts/compile-time.py BUILD [BUILD ...] [--target gau] [--json FILE]

For every object of the target (default: libgau, the `gau.dir` objects) in each build folder's
compile_commands.json, it runs the build's own compile command in that folder, without ccache
(CMake keeps the launcher out of compile_commands.json, and CCACHE_DISABLE=1 is set anyway), and
reads the child's user + sys CPU time from wait4(), the figures `/usr/bin/time -f "%U %S"`
prints. Objects run one at a time (-j1). With several build folders the objects alternate between
them (each build's objects spread evenly over the run), so that a before and an after build see
the same machine load. It prints per object and per build the .cpp and .cu subtotals and the total.

Configure each folder first (cmake -G Ninja ...); the objects it writes are the build's own, so
a later `ninja` there does not rebuild them unless a source changed.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def objects(build, target):
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = json.load(f)
    marker = f"CMakeFiles/{target}.dir/"
    out = [e for e in entries if marker in e.get("output", e["command"])]
    # A precompiled header (CMake's cmake_pch.hxx.cxx) is built first: the objects that use it need it.
    return sorted(out, key=lambda e: ("cmake_pch" not in e["file"], e["file"]))


def run(entry):
    env = dict(os.environ, CCACHE_DISABLE="1")
    out_dir = os.path.dirname(entry.get("output", ""))
    if out_dir:
        os.makedirs(os.path.join(entry["directory"], out_dir), exist_ok=True)
    start = time.monotonic()
    proc = subprocess.Popen(entry["command"], shell=True, cwd=entry["directory"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit(f"compile failed: {entry['file']}")
    return usage.ru_utime + usage.ru_stime, time.monotonic() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("builds", nargs="+", help="configured build folders")
    p.add_argument("--target", default="gau", help="CMake target (default gau, the library)")
    p.add_argument("--json", help="write every per-object figure to this file")
    p.add_argument("--lang", choices=["cxx", "cuda"], help="only the C++ or only the CUDA objects")
    p.add_argument("--quiet", action="store_true", help="no per-object lines")
    args = p.parse_args()

    lists = [objects(os.path.abspath(b), args.target) for b in args.builds]
    if args.lang:
        lists = [[e for e in x if e["file"].endswith(".cu") == (args.lang == "cuda")] for x in lists]
    results = [[] for _ in lists]
    # Spread each build's objects evenly over the run (object j of n at (j + 0.5) / n), so builds
    # with fewer, larger objects still interleave with the others from start to end.
    order = sorted((((j + 0.5) / len(entries), b, j) for b, entries in enumerate(lists)
                    for j in range(len(entries))))
    for _, b, j in order:
        entry = lists[b][j]
        cpu, wall = run(entry)
        name = os.path.relpath(entry["file"], os.path.dirname(entry["directory"]))
        results[b].append({"file": entry["file"], "cpu_s": cpu, "wall_s": wall})
        if not args.quiet:
            print(f"[{b}] {cpu:7.2f} s cpu {wall:7.2f} s wall  {name}", flush=True)

    summary = []
    for build, res in zip(args.builds, results):
        # C++: .cpp objects, the precompiled header and any generated unity .cxx; CUDA: .cu.
        cu = [r for r in res if r["file"].endswith(".cu")]
        cxx = [r for r in res if not r["file"].endswith(".cu")]
        s = {"build": build, "objects": len(res), "cpp_s": sum(r["cpu_s"] for r in cxx),
             "cpp_objects": len(cxx), "cu_s": sum(r["cpu_s"] for r in cu), "cu_objects": len(cu),
             "total_s": sum(r["cpu_s"] for r in res)}
        summary.append(s)
        print(f"{build}: {s['objects']} objects, C++ {s['cpp_s']:.1f} s ({s['cpp_objects']}), "
              f".cu {s['cu_s']:.1f} s ({s['cu_objects']}), total {s['total_s']:.1f} s CPU")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "objects": results}, f, indent=1)


if __name__ == "__main__":
    main()
