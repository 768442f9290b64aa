#!/usr/bin/env bash
# Interleaved pairs of the PyTorch anchor (Transformers + PEFT, fp32 eager and bf16 autocast) and peft4j on the
# LoRA step, each pair's ratio against the anchor's faster precision, the median, the load average beside every
# pair and the CPU's bfloat16 flags. A single pair moves by ±15% on a shared machine, so the figure worth quoting
# is the median over several pairs.
#
#   PYTHON=/path/to/venv/bin/python bench/pytorch_pairs.sh [PAIRS]    # default 5 pairs; MiniLM, 32 x 128, 2 threads
#
# PYTHON needs torch, transformers and peft. Extra arguments after PAIRS go to `peft4j bench` (e.g. --cases).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
pairs="${1:-5}"
shift || true
: "${PYTHON:?set PYTHON to an interpreter with torch, transformers and peft}"

exec "$root/peft4j" bench --cases lora,lora-bf16 --no-memory --threads 2 --anchor "$PYTHON" --pairs "$pairs" "$@"
