#!/usr/bin/env bash
# AdaLoRA against LoRA at the same final budget (96 rank triplets on MiniLM's 12 query/value matrices) on the
# 8-class mail-topics task: topics-lora.groovy (r 8) and topics-adalora.groovy (12 -> 8, default schedule and λ rate)
# at each learning rate and seed, then test accuracy and macro-F1 as mean ± sample standard deviation [min, max].
#
#   recipes/experiments/topics-benchmark.sh [OUT_DIR]        # default OUT_DIR: runs/topics-benchmark
#   LRS="5e-4 2e-3" SEEDS="42 43 44" METHODS="lora adalora" recipes/experiments/topics-benchmark.sh
#
# A finished run (its summary.json exists) is not run again, so an interrupted sweep continues where it stopped.
# CPU cost: about 2-4 minutes a run on 2 cores, 12 runs with the defaults.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-runs/topics-benchmark}"
lrs="${LRS:-5e-4 2e-3}"
seeds="${SEEDS:-42 43 44}"
methods="${METHODS:-lora adalora}"
mkdir -p "$out"

metric() { # metric SUMMARY NAME: the test split's value
    sed -n '/"test" : {/,/}/p' "$1" | sed -n "s/.*\"$2\" : \([0-9.eE+-]*\).*/\1/p"
}

for method in $methods; do
    for lr in $lrs; do
        for seed in $seeds; do
            dir="$out/$method-lr$lr-seed$seed"
            if [[ ! -f "$dir/summary.json" ]]; then
                echo "running $method lr $lr seed $seed -> $dir" >&2
                rm -rf "$dir"
                "$root/peft4j" run "$here/topics-$method.groovy" --out "$dir" --no-eval-before --quiet \
                    --set "params.lr=$lr" --set "train.seed=$seed" > "$dir.log" 2>&1 \
                    || { echo "failed: see $dir.log" >&2; exit 1; }
            fi
        done
    done
done

printf '%-8s %-7s %-28s %-28s %s\n' method lr 'test accuracy' 'test macro-F1' 'AdaLoRA: kept (came back) per seed'
for method in $methods; do
    for lr in $lrs; do
        acc=() f1=() kept=""
        for seed in $seeds; do
            s="$out/$method-lr$lr-seed$seed/summary.json"
            acc+=("$(metric "$s" accuracy)")
            f1+=("$(metric "$s" f1)")
            if [[ $method == adalora ]]; then
                kept+="$(sed -n 's/.*"kept" : \([0-9]*\).*/\1/p' "$s")($(sed -n 's/.*"returned_triplets" : \([0-9]*\).*/\1/p' "$s")) "
            fi
        done
        stats() { printf '%s\n' "$@" | awk '{s += $1; q += $1 * $1; if (NR == 1 || $1 < lo) lo = $1; if (NR == 1 || $1 > hi) hi = $1}
            END {m = s / NR; sd = NR > 1 ? sqrt((q - NR * m * m) / (NR - 1)) : 0; if (sd != sd) sd = 0
                 printf "%.3f ± %.3f [%.3f, %.3f]", m, sd, lo, hi}'; }
        printf '%-8s %-7s %-28s %-28s %s\n' "$method" "$lr" "$(stats "${acc[@]}")" "$(stats "${f1[@]}")" "${kept:--}"
    done
done
