#!/usr/bin/env python3
"""report: the table of medians that bench/run prints.

    report.py results.csv [title]

results.csv has the header fs,rep,config,metric,value; value is a number
or "fail".  One row per filesystem and metric; the columns are the median
of every configuration over its repetitions, then fsmonitor's median
divided by each other configuration's.  A median over fewer repetitions
than were run (some failed) is marked with "*"; a cell with no successful
repetition reads "fail", a cell that does not apply "-".
"""

import csv
import statistics
import sys

CONFIGS = ["native", "fsmonitor", "fsmonitor_uring", "bindfs",
           "passthrough_ll"]
PEERS = ["native", "bindfs", "passthrough_ll"]
# Whose ratios to the peers are printed, and under what name.
OURS = [("fsmonitor", "fsm"), ("fsmonitor_uring", "uring")]

# key, label, unit, higher is better
METRICS = [
    ("seq_write", "seq write 1 MiB blocks", "MiB/s", True),
    ("seq_read", "seq read 1 MiB blocks", "MiB/s", True),
    ("rand_read", "rand read 4 KiB psync", "IOPS", True),
    ("rand_write", "rand write 4 KiB psync", "IOPS", True),
    ("create", "create", "ops/s", True),
    ("stat", "stat, cold caches", "ops/s", True),
    ("restat", "stat again 1.5 s later", "ops/s", True),
    ("walk", "readdir+stat walk, cold", "ops/s", True),
    ("rewalk", "readdir+stat walk again 1.5 s later", "ops/s", True),
    ("open", "open+read+close", "ops/s", True),
    ("reopen", "open+read+close again", "ops/s", True),
    ("rename", "rename", "ops/s", True),
    ("unlink", "unlink", "ops/s", True),
    ("untar", "untar tree", "ms", False),
    ("rmtree", "rm -rf tree", "ms", False),
    ("mount", "mount latency", "ms", False),
    ("rss", "idle worker RSS", "KiB", False),
]


def number(v):
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    return "%.2f" % v


def load(path):
    data = {}
    reps = {}
    order = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            fs = row["fs"]
            if fs not in order:
                order.append(fs)
            key = (fs, row["config"], row["metric"])
            data.setdefault(key, []).append(row["value"])
            reps.setdefault(fs, set()).add(row["rep"])
    return data, reps, order


def median(values):
    ok = []
    for v in values:
        try:
            ok.append(float(v))
        except ValueError:
            pass
    if not ok:
        return None, False
    return statistics.median(ok), len(ok) < len(values)


def present(data):
    """The configurations the run had, in table order."""
    seen = set(config for _, config, _ in data)
    return [c for c in CONFIGS if c in seen]


def rows(data, reps, order, configs):
    out = []
    for fs in order:
        for key, label, unit, higher in METRICS:
            cells = {}
            med = {}
            for c in configs:
                values = data.get((fs, c, key))
                if values is None:
                    cells[c] = "-"
                    continue
                m, partial = median(values)
                if m is None:
                    cells[c] = "fail"
                    continue
                med[c] = m
                cells[c] = number(m) + ("*" if partial else "")
            ratios = []
            for ours, _ in OURS:
                if ours not in configs:
                    continue
                for p in PEERS:
                    if ours in med and med.get(p):
                        ratios.append("%.2f" % (med[ours] / med[p]))
                    else:
                        ratios.append("-")
            if all(cells[c] == "-" for c in configs):
                continue
            out.append(["%s %s" % (fs, label), unit,
                        "higher" if higher else "lower"] +
                       [cells[c] for c in configs] + ratios)
    return out


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: report.py results.csv [title]\n")
        return 2
    data, reps, order = load(sys.argv[1])
    configs = present(data)
    head = ["metric", "unit", "better"] + configs + \
        [short + "/" + p for ours, short in OURS if ours in configs
         for p in PEERS]
    body = rows(data, reps, order, configs)
    width = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    if len(sys.argv) > 2:
        print(sys.argv[2])
    for r in [head] + body:
        cells = []
        for i, cell in enumerate(r):
            if i < 3:
                cells.append(cell.ljust(width[i]))
            else:
                cells.append(cell.rjust(width[i]))
        print("  ".join(cells).rstrip())
    counts = sorted(set(len(reps[fs]) for fs in order))
    print("medians of %s repetitions; fsm/X = fsmonitor / X, uring/X = "
          "fsmonitor_uring / X: above 1 is "
          "better in \"higher\" rows, worse in \"lower\" rows; "
          "* = some repetitions failed" %
          "/".join(str(n) for n in counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
