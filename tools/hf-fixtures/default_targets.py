"""Writes runtime/src/test/resources/hf/default-targets.json: for one committed fixture model of every
model_type peft4j loads, the modules PEFT adapts when a config names no target_modules (LoraConfig and
AdaLoraConfig, PEFT's per-model_type defaults) and for target_modules="all-linear".

Each model is loaded with the Transformers class peft4j's `inspect` shows for that family (a sequence
classifier, a bare encoder or a causal LM). Where PEFT has no default for a model_type it raises; the
file records null and PEFT's message. Developer tool, not a test dependency:
    /path/to/venv/bin/python tools/hf-fixtures/default_targets.py
"""
import json
import sys
from pathlib import Path

import peft
import torch
import transformers
from peft import AdaLoraConfig, LoraConfig, get_peft_model
from peft.tuners.tuners_utils import BaseTunerLayer
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

HF = Path(__file__).resolve().parent.parent.parent / "runtime" / "src" / "test" / "resources" / "hf"

# model_type -> (fixture, the class peft4j's inspect builds for it, PEFT task type)
CASES = {
    "bert": ("bert-seqcls", AutoModelForSequenceClassification, "SEQ_CLS"),
    "roberta": ("roberta-seqcls", AutoModelForSequenceClassification, "SEQ_CLS"),
    "xlm-roberta": ("xlm-roberta-seqcls", AutoModelForSequenceClassification, "SEQ_CLS"),
    "modernbert": ("modernbert-seqcls", AutoModelForSequenceClassification, "SEQ_CLS"),
    "deberta-v2": ("deberta-v2-seqcls", AutoModelForSequenceClassification, "SEQ_CLS"),
    "llama": ("llama-rope-default", AutoModelForCausalLM, "CAUSAL_LM"),
    "mistral": ("mistral-sliding", AutoModelForCausalLM, "CAUSAL_LM"),
    "qwen2": ("qwen2", AutoModelForCausalLM, "CAUSAL_LM"),
    "gpt2": ("gpt2", AutoModelForCausalLM, "CAUSAL_LM"),
    "qwen3": ("qwen3", AutoModelForCausalLM, "CAUSAL_LM"),
    "gemma3_text": ("gemma3-text", AutoModelForCausalLM, "CAUSAL_LM"),
    "smollm3": ("smollm3", AutoModelForCausalLM, "CAUSAL_LM"),
}


def adapted(model_dir, auto, config):
    """The module paths PEFT wraps in a LoRA layer, relative to the Transformers model; or PEFT's refusal."""
    model = auto.from_pretrained(model_dir)
    try:
        wrapped = get_peft_model(model, config)
    except ValueError as e:
        return None, str(e).splitlines()[0]
    prefix = "base_model.model."
    names = [n[len(prefix):] for n, m in wrapped.named_modules() if isinstance(m, BaseTunerLayer)]
    return sorted(names), None


def main():
    torch.manual_seed(0)
    out = {"written_with": {"transformers": transformers.__version__, "peft": peft.__version__,
                            "torch": torch.__version__}, "model_types": {}}
    for model_type, (fixture, auto, task) in CASES.items():
        model_dir = HF / fixture / "model"
        assert json.loads((model_dir / "config.json").read_text())["model_type"] == model_type, fixture
        row = {"fixture": fixture, "class": auto.__name__}
        for key, config in [("lora", LoraConfig(r=2, task_type=task)),
                            ("adalora", AdaLoraConfig(init_r=2, target_r=1, total_step=10, task_type=task)),
                            ("all_linear", LoraConfig(r=2, target_modules="all-linear", task_type=task))]:
            names, refusal = adapted(model_dir, auto, config)
            row[key] = names
            if refusal is not None:
                row[key + "_refusal"] = refusal
        out["model_types"][model_type] = row
        print(model_type, {k: (len(v) if isinstance(v, list) else v) for k, v in row.items()}, file=sys.stderr)
    (HF / "default-targets.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    main()
