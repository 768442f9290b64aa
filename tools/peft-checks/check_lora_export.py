"""Checks `peft4j export --to lora` against PEFT: the exported directory must load as a LoraConfig adapter with
PeftModel.from_pretrained on the base, and give the AdaLoRA model's outputs.

Usage: /path/to/venv/bin/python tools/peft-checks/check_lora_export.py BASE_DIR ADALORA_DIR LORA_DIR [seqcls|causal]
Prints the max |difference| of the outputs and the LoRA config PEFT read; exits 1 above 1e-5.
"""
import sys

import torch
from peft import LoraConfig, PeftConfig, PeftModel
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification


def main(base, adalora, lora, kind):
    cls = AutoModelForSequenceClassification if kind == "seqcls" else AutoModelForCausalLM
    torch.manual_seed(0)
    ids = torch.randint(3, 60, (3, 17))
    mask = torch.ones_like(ids)
    mask[1, 12:] = 0
    outs = []
    for adapter in (adalora, lora):
        model = cls.from_pretrained(base, dtype=torch.float32).eval()
        peft_model = PeftModel.from_pretrained(model, adapter).eval()
        config = peft_model.peft_config["default"]
        print(adapter, "->", type(config).__name__, "peft_type", config.peft_type)
        with torch.no_grad():
            outs.append(peft_model(input_ids=ids, attention_mask=mask).logits)
    assert isinstance(PeftConfig.from_pretrained(lora), LoraConfig)
    diff = (outs[0] - outs[1]).abs()
    real = mask.bool() if outs[0].dim() == 3 else torch.ones(outs[0].shape[0], dtype=torch.bool)
    worst = diff[real].max().item()
    print(f"max |AdaLoRA - exported LoRA| = {worst:.3g} over {outs[0].shape} (largest |output| {outs[0].abs().max().item():.3g})")
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
