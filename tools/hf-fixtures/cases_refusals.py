"""Cases whose reference behaviour is a refusal: the standard class raises, and so should a
faithful implementation (with a message that names the cause)."""
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

import case_writer as cw
import cases_decoders as cd
import fixture_lib as fl


def _error_of(thunk):
    try:
        thunk()
    except Exception as e:  # the reference's own exception is the expectation
        return f"{type(e).__name__}: {str(e).splitlines()[0]}"
    raise RuntimeError("expected the standard class to refuse, it did not")


def refusal_cases(root):
    made = []
    name = "refuse-seqcls-no-pad-token"
    case = fl.fresh_dir(root / name)
    cfg = dict(cd.LLAMA, pad_token_id=None, num_labels=3, rope_parameters={"rope_type": "default",
                                                                           "rope_theta": 10000.0})
    cw.build_and_save(AutoModelForSequenceClassification, "llama", cfg, case / "model", cw.case_seed(name))
    ids, mask = fl.standard_rows(cd.T, cd.VOCAB, cw.case_seed(name) + 1)
    model = fl.load(AutoModelForSequenceClassification, case / "model")
    inputs = fl.tensors(ids, mask)
    error = _error_of(lambda: model(**inputs))
    with torch.no_grad():
        single = model(input_ids=inputs["input_ids"][:1]).logits
    doc = cw.expected_doc(
        name, "LlamaForSequenceClassification with pad_token_id null: a padded batch of 3 cannot say which token "
              "to score, Transformers refuses; a single unpadded row is scored at its last position (given as "
              "outputs.single_row_logits for row 0).",
        "LlamaForSequenceClassification", "AutoModelForSequenceClassification", "model", None,
        {"input_ids": ids, "attention_mask": mask},
        {"error": error, "single_row_logits": fl.array(single)}, refusal=True)
    fl.write_json(case / "expected.json", doc)
    made.append(case)

    name = "refuse-adapter-wrong-base"
    case = fl.fresh_dir(root / name)
    base = root / "qwen3" / "model"
    adapter = root / "lora-llama-causal" / "adapter"
    error = _error_of(lambda: PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter))
    doc = cw.expected_doc(
        name, "The lora-llama-causal adapter (q_proj lora_B 32x4, v_proj lora_B 16x4) over the qwen3 base "
              "(q_proj 32->64, v_proj 32->32): the module names match, the shapes do not; PEFT refuses.",
        "Qwen3ForCausalLM + PeftModel", "AutoModelForCausalLM", "../qwen3/model", "../lora-llama-causal/adapter",
        fl.read_json(root / "qwen3" / "expected.json")["inputs"], {"error": error}, refusal=True)
    fl.write_json(case / "expected.json", doc)
    made.append(case)
    return made
