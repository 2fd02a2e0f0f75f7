#!/usr/bin/env python3
"""Median GFLOP/s per (threads, shape, backend) over the rounds of gemm-compare.sh, and Java/OpenBLAS."""
import collections, glob, json, statistics, sys

runs = collections.defaultdict(list)
for path in glob.glob(sys.argv[1] + "/r*-t*-*.json"):
    text = open(path).read()
    if not text.strip():
        continue  # a run still in progress
    for r in json.loads(text):
        p = r["params"]
        runs[(p["threads"], p["shape"], p["backend"])].append(r["secondaryMetrics"]["mflop"]["score"] / 1000)
shapes = ["fwd64", "fwdT64", "fwd1024", "fwdT1024", "dW64", "dX64", "dW1024", "dX1024", "square256", "square1024"]
for t in sorted({k[0] for k in runs}):
    print(f"\nthreads={t}\n| shape | Java (Vector API) | Java (auto-vectorised) | OpenBLAS | Java/OpenBLAS median | range of per-round ratios |")
    print("|---|---|---|---|---|---|")
    for s in shapes:
        j, a, o = (runs.get((t, s, b), []) for b in ("java", "javaAutovec", "openblas"))
        if not j or not o:
            continue
        med = lambda x: statistics.median(x) if x else float("nan")
        ratios = sorted(x / y for x, y in zip(j, o))
        auto = f"{med(a):.1f}" if a else "–"
        print(f"| {s} | {med(j):.1f} | {auto} | {med(o):.1f} | **{med(j) / med(o):.2f}** | {ratios[0]:.2f}–{ratios[-1]:.2f} (n={len(ratios)}) |")
