#!/usr/bin/env bash
# Side-by-side training benchmark: deltagrad vs PyTorch on the same machine, alternating runs, medians.
# Needs: apt-get install -y python3-torch libopenblas0-pthread (and libblas.so.3 pointed at OpenBLAS:
#   update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3)
# Usage: bench/compare.sh [rounds]   (default 3 rounds of each config; ONLY=b64,cnn picks configs by their short name)
# Each run trains WARMUP epochs (default 3) and then TIMED epochs (default 5) and reports the median timed epoch;
# both tools get the same numbers. WARMUP=1 TIMED=3 bench/compare.sh also counts deltagrad's JIT warm-up (the JVM
# compiles its kernels during the first two or three epochs on two cores); see docs/PERFORMANCE.md.
# deltagrad runs on the JDK that ./deltagrad picks (the newest installed, where OpenBLAS reads tensors in place
# from JDK 22 on); DELTAGRAD_JAVA=/usr/bin/java bench/compare.sh measures another one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}
warmup=${WARMUP:-3}
timed=${TIMED:-5}
jar=deltagrad-cli/target/deltagrad.jar
[ -f "$jar" ] || mvn -B -q -DskipTests -pl deltagrad-cli -am package
py() { OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/pytorch_train.py "$@"; }
dg() { ./deltagrad bench train --dataset fashion-mnist --json --warmup "$warmup" --timed "$timed" "$@" 2>/dev/null; }
median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
field() { python3 -c 'import sys,json; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

run_config() {
  local name=$1 dgargs=$2 pyargs=$3 d=() p=()
  for ((r = 0; r < rounds; r++)); do
    d+=("$(dg $dgargs | field median_epoch_seconds)")
    p+=("$(py $pyargs --warmup "$warmup" --timed "$timed" | field median_epoch_seconds)")
  done
  local dm pm
  dm=$(median "${d[@]}"); pm=$(median "${p[@]}")
  printf '%-56s deltagrad %7.3f s  pytorch %7.3f s  ratio %.2f  (per-round ratios %s)\n' "$name" "$dm" "$pm" \
    "$(python3 -c "print($dm/$pm)")" "$(python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print(" ".join("%.2f" % (float(x)/float(y)) for x, y in zip(a, b)))' "${d[*]}" "${p[*]}")"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $rounds rounds, $warmup warm-up + $timed timed epochs per run"

# The configurations: a short name (for ONLY=name,name), a label, deltagrad's arguments, PyTorch's arguments.
cnn=conv16x5,maxpool2,conv32x5,maxpool2,fc100
configs=(
  "b64|784-100-10 relu CE, batch 64, SGD 0.1"
      "--layers 100 --batch 64 --optimizer sgd --lr 0.1"
      "--layers 100 --batch 64 --lr 0.1"
  "b1024|784-100-10 relu CE, batch 1024, SGD 0.1"
      "--layers 100 --batch 1024 --optimizer sgd --lr 0.1"
      "--layers 100 --batch 1024 --lr 0.1"
  "nielsen|Nielsen 784-30-10 sigmoid MSE, batch 10, lr 3"
      "--layers 30 --activation sigmoid --loss mse --batch 10 --optimizer sgd --lr 3.0"
      "--layers 30 --activation sigmoid --loss mse --batch 10 --lr 3.0"
  "cnn|CNN $cnn, batch 64, Adam 0.001"
      "--arch $cnn --batch 64 --optimizer adam --lr 0.001"
      "--arch $cnn --batch 64 --optimizer adam --lr 0.001"
)
only=${ONLY:-}   # e.g. ONLY=cnn bench/compare.sh 3
for ((i = 0; i < ${#configs[@]}; i += 3)); do
  key=${configs[i]%%|*} label=${configs[i]#*|}
  [ -z "$only" ] || [[ ",$only," == *",$key,"* ]] || continue
  run_config "$label" "${configs[i + 1]}" "${configs[i + 2]}"
done
