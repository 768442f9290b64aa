#!/usr/bin/env python3
"""Makes the project's small copy of the SpamAssassin splits (see README.md beside this file).

Deterministic: the same source files give byte-identical output. Python 3 standard library only.

    python3 make_subset.py [SOURCE_DIR]      # default SOURCE_DIR: /work/shared/data/spam-assassin
"""
import json
import random
import sys
from collections import Counter
from pathlib import Path

SEED = 20240601
MAX_CHARS = 1000
FIELDS = ("text", "label", "source")
# Target size per split; None keeps every example. The spam share of each split is kept.
TARGETS = {"train": 2000, "valid": 300, "test": None}


def read(path):
    with open(path, encoding="utf-8", errors="strict") as f:
        return [json.loads(line) for line in f if line.strip()]


def stratified_sample(rows, target, rng):
    """Keeps each label's share: per label, round(target * share) rows, chosen by a seeded sample,
    then returned in the source file's order (that order is already a seeded shuffle)."""
    if target is None or target >= len(rows):
        return list(rows)
    by_label = {}
    for i, row in enumerate(rows):
        by_label.setdefault(row["label"], []).append(i)
    keep = []
    for label in sorted(by_label):
        indices = by_label[label]
        n = round(target * len(indices) / len(rows))
        keep.extend(rng.sample(indices, n))
    return [rows[i] for i in sorted(keep)]


def main():
    source_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/spam-assassin")
    out_dir = Path(__file__).resolve().parent
    for split, target in TARGETS.items():
        rows = read(source_dir / f"{split}.jsonl")
        # One generator per split, so changing one split's target does not change the others.
        rng = random.Random(f"{SEED}-{split}")
        subset = stratified_sample(rows, target, rng)
        with open(out_dir / f"{split}.jsonl", "w", encoding="utf-8", newline="\n") as f:
            for row in subset:
                kept = {k: row[k] for k in FIELDS}
                kept["text"] = kept["text"][:MAX_CHARS]
                f.write(json.dumps(kept, ensure_ascii=False) + "\n")
        counts = Counter(r["label"] for r in subset)
        print(f"{split}: {len(subset)} of {len(rows)} "
              + ", ".join(f"{k} {counts[k]}" for k in sorted(counts))
              + f" (spam share {counts['spam'] / len(subset):.3f})")


if __name__ == "__main__":
    main()
