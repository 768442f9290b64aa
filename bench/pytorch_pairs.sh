#!/usr/bin/env bash
# Alternating pairs of eager PyTorch and peft4j on the LoRA step, with each pair's ratio and the median.
# A single pair moves by ±15% on a shared machine (both sides drift with the host's load), so the
# ratio worth quoting is the median over several pairs run back to back.
#
#   bench/pytorch_pairs.sh [PAIRS]    # default 5 pairs; MiniLM, batch 32 x 128, 2 threads, on both sides
#
# Needs what bench/pytorch_reference.py needs (Debian's python3-torch, python3-numpy, libopenblas0-pthread).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
pairs="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# the environment the launcher gives peft4j, so that both sides run alike
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-268435456}"

ratios=()
for i in $(seq 1 "$pairs"); do
    /usr/bin/python3 "$root/bench/pytorch_reference.py" --threads 2 --modes lora --json "$work/ref.json" >/dev/null
    "$root/peft4j" bench --cases lora --no-memory -q --threads 2 --reference "$work/ref.json" > "$work/ours.txt"
    ratio="$(awk '/^lora_tokens_per_s_over_pytorch/ { print $2 }' "$work/ours.txt")"
    ours="$(awk '$1 == "lora" && $2 == "train" { print $3 }' "$work/ours.txt")"
    theirs="$(/usr/bin/python3 -c 'import json, sys; print("%.1f" % (1000 * json.load(open(sys.argv[1]))["results"]["lora"]["median_seconds"]))' "$work/ref.json")"
    [[ -n "$ratio" ]] || { echo "pair $i: no ratio in peft4j's output" >&2; exit 1; }
    echo "pair $i: PyTorch ${theirs} ms, peft4j ${ours} ms per LoRA step; peft4j / PyTorch tokens/s = $ratio"
    ratios+=("$ratio")
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{ r[NR] = $1 } END {
    m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
    printf "median of %d pairs: %.3f (min %.3f, max %.3f)\n", NR, m, r[1], r[NR] }'
