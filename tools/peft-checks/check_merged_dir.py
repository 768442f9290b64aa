"""Checks a directory written by `peft4j merge` with the standard classes: it must load without missing weights
(AutoModel* with output_loading_info), its tokenizer with AutoTokenizer, and give the outputs PEFT computed for base +
adapter (a fixture's expected.json, written by tools/hf-fixtures).

Usage: /path/to/venv/bin/python tools/peft-checks/check_merged_dir.py MERGED_DIR FIXTURE_EXPECTED_JSON [seqcls|encoder|causal]
"""
import json
import sys

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer


def array(a):
    return torch.tensor(a["data"]).view(a["shape"])


def main(merged, expected_json, kind):
    exp = json.load(open(expected_json))
    cls = {"seqcls": AutoModelForSequenceClassification, "encoder": AutoModel, "causal": AutoModelForCausalLM}[kind]
    model, info = cls.from_pretrained(merged, dtype=torch.float32, output_loading_info=True)
    model.eval()
    print("missing:", info["missing_keys"], "unexpected:", info["unexpected_keys"])
    try:
        tok = AutoTokenizer.from_pretrained(merged)
        print("tokenizer:", type(tok).__name__, "model_max_length", tok.model_max_length,
              "special", {k: v for k, v in tok.special_tokens_map.items()})
    except Exception as e:  # a base without tokenizer files
        print("tokenizer: none (", type(e).__name__, ")")
    ids = torch.tensor(exp["inputs"]["input_ids"])
    mask = torch.tensor(exp["inputs"]["attention_mask"])
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask)
    worst = 0.0
    for name in ("logits", "last_hidden_state", "pooler_output"):
        if name in exp["outputs"] and hasattr(out, name):
            d = (getattr(out, name) - array(exp["outputs"][name])).abs().max().item()
            print(f"{name}: max |merged - PEFT base+adapter| = {d:.3g}")
            if name != "pooler_output":
                worst = max(worst, d)
    if "logits_at" in exp["outputs"]:
        at = exp["outputs"]["logits_at"]
        picked = torch.stack([out.logits[r, p] for r, p in at["positions"]])
        d = (picked - array(at)).abs().max().item()
        print(f"logits_at: max |merged - PEFT base+adapter| = {d:.3g}")
        worst = max(worst, d)
    return 0 if worst <= 1e-4 and not info["missing_keys"] else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
