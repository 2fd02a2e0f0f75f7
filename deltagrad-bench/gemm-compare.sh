#!/usr/bin/env bash
# Java vs OpenBLAS float32 GEMM, side by side: for each round, thread count and shape, one JMH
# invocation runs every backend back to back (one fork each), so both see the same machine load.
# Usage: deltagrad-bench/gemm-compare.sh [rounds] [outdir]; then gemm-summary.py outdir.
set -euo pipefail
rounds=${1:-3}
out=${2:-gemm-compare}
jar=$(dirname "$0")/target/benchmarks.jar
shapes=${SHAPES:-fwd64 fwdT64 fwd1024 fwdT1024 dW64 dX64 dW1024 dX1024}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  for t in 1 2; do
    backends=java,openblas
    [ "$t" = 1 ] && backends=java,javaAutovec,openblas
    for s in $shapes; do
      echo "round $r threads $t $s load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/load.txt"
      java -jar "$jar" GemmBench -f 1 -wi 2 -i 3 -w 1s -r 1s -p threads="$t" -p shape="$s" \
           -p backend="$backends" -rf json -rff "$out/r$r-t$t-$s.json" > "$out/r$r-t$t-$s.log" 2>&1
    done
  done
done
