#!/usr/bin/env python3
"""Collects what scripts/experiments.sh measured into DIR/summary.json and DIR/summary.md.

    python3 scripts/experiments_summary.py runs/experiments

Reads each part that ran: main/, ablations/ and seeds/report.json (scripts/compare.sh),
extrapolation.jsonl (gau eval --json per run and length) and context/n*/report.json.
"""
import json
import os
import re
import sys


def load_json(path):
    return json.load(open(path)) if os.path.exists(path) else None


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main(out):
    summary, md = {}, []
    for part in ("main", "ablations", "seeds"):
        rows = load_json(f"{out}/{part}/report.json")
        if rows is None:
            continue
        summary[part] = rows
        md.append(f"## {part}\n")
        md.append(table(["config", "parameters", "steps", "val bits per byte", "tokens/s", "peak memory (MiB)"],
                        [[r["config"], f"{r['parameters']:,}", r["steps"], f"{r['val_bits_per_byte']:.4f}",
                          f"{r['tokens_per_s']:,.0f}", f"{r['peak_memory_mib']:.0f}"] for r in rows]))

    if os.path.exists(f"{out}/extrapolation.jsonl"):
        evals = [json.loads(line) for line in open(f"{out}/extrapolation.jsonl") if line.strip()]
        summary["extrapolation"] = evals
        lengths = sorted({e["seq_len"] for e in evals})
        runs = list(dict.fromkeys(e["run"] for e in evals))
        by = {(e["run"], e["seq_len"]): e.get("bits_per_byte", e["loss"]) for e in evals}
        md.append("## extrapolation (val bits per byte)\n")
        md.append(table(["run"] + [f"n = {n}" for n in lengths],
                        [[r] + [f"{by[(r, n)]:.4f}" if (r, n) in by else "" for n in lengths] for r in runs]))

    context = {}
    if os.path.isdir(f"{out}/context"):
        for d in os.listdir(f"{out}/context"):
            m = re.fullmatch(r"n(\d+)", d)
            rows = load_json(f"{out}/context/{d}/report.json")
            if m and rows:
                context[int(m.group(1))] = {r["config"]: r for r in rows}
    if context:
        lengths = sorted(context)
        configs = list(dict.fromkeys(c for n in lengths for c in context[n]))
        summary["context"] = {str(n): context[n] for n in lengths}
        md.append("## context scaling (same tokens per step at every n)\n")
        header = ["n"] + [f"{c} tokens/s" for c in configs] + [f"{c} peak MiB" for c in configs]
        rows = [[n] + [f"{context[n][c]['tokens_per_s']:,.0f}" if c in context[n] else "" for c in configs] +
                [f"{context[n][c]['peak_memory_mib']:.0f}" if c in context[n] else "" for c in configs]
                for n in lengths]
        md.append(table(header, rows))
        # The crossover: the first length from which FLASH is the fastest of the three and stays so.
        if "flash" in configs:
            fastest = [n for n in lengths
                       if all(context[n]["flash"]["tokens_per_s"] >= context[n][c]["tokens_per_s"]
                              for c in configs if c in context[n])]
            crossover = next((n for n in lengths if all(m in fastest for m in lengths if m >= n)), None)
            summary["flash_fastest_from_n"] = crossover
            md.append(f"FLASH is the fastest from n = {crossover} on.\n" if crossover else
                      "FLASH is not the fastest at the longest length measured.\n")

    json.dump(summary, open(f"{out}/summary.json", "w"), indent=1)
    open(f"{out}/summary.md", "w").write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/experiments")
