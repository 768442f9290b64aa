"""Writes one case directory: the model (and adapter) files, then expected.json computed by the
standard classes loaded back from those files."""
import json
import zlib
from pathlib import Path

import torch
from transformers import AutoConfig
from transformers.loss.loss_utils import ForCausalLMLoss

import fixture_lib as fl

TOLERANCE = 1e-4


def case_seed(name):
    return zlib.crc32(name.encode()) % (2**31)


def build_and_save(auto_cls, model_type, config_kwargs, model_dir, weights_seed, qk_scale=2.0):
    """Builds a random model of the standard class, makes it sensitive, saves it."""
    fl.seed_all(weights_seed)
    config = AutoConfig.for_model(model_type, **config_kwargs)
    model = auto_cls.from_config(config, dtype=torch.float32)
    fl.sensitize(model, weights_seed, qk_scale=qk_scale)
    fl.fresh_dir(model_dir)
    model.save_pretrained(model_dir)
    return model


def rewrite_config(model_dir, edit):
    """Replaces config.json by edit(old dict) -> new dict, written with the same layout
    save_pretrained uses (2-space indent, sorted keys)."""
    path = Path(model_dir) / "config.json"
    cfg = edit(json.loads(path.read_text()))
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def cross_check(auto_cls, model_dir, adapter_dir, inputs, key, eager_out, mask):
    """Max |eager - sdpa| over real positions: the floating-point noise floor of the case (or the
    sign that the default sdpa path computes something else, e.g. it drops attention softcapping)."""
    try:
        sdpa = fl.load(auto_cls, model_dir, "sdpa", adapter_dir)
    except ValueError:
        return None  # the class has no sdpa path (DeBERTa-v2): eager is its only implementation
    with torch.no_grad():
        out = getattr(sdpa(**inputs), key)
    if out.dim() == 3 and mask is not None:
        return fl.max_diff_on(out, eager_out, mask)
    return fl.max_diff_on(out, eager_out)


def causal_outputs(model, ids, mask, window=None):
    """Reference outputs of a causal LM for the padded batch (plain forward, positions 0..T-1
    as `model(**batch)` uses them), plus the left-padded rows re-run with generate-style positions."""
    inputs = fl.tensors(ids, mask)
    with torch.no_grad():
        labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
        logits = model(**inputs).logits
        # HF's causal-LM loss function itself; not through labels=, which an AdaLoRA PeftModel loaded
        # for inference rejects (its forward adds the orthogonal regulariser of a trainable adapter)
        loss = ForCausalLMLoss(logits, labels, vocab_size=logits.shape[-1])
        picks = fl.chosen_positions(mask, window)
        result = {
            "logits_at": {"positions": picks, **fl.array(fl.gather_positions(logits, picks))},
            "nll": [fl._round(v) for v in fl.row_nll(logits, ids, mask)],
            "loss": fl._round(loss.item()),
            "argmax": fl.real_argmax(logits, mask),
        }
        pos = fl.generate_position_ids(mask)
        with_pos = model(**inputs, position_ids=pos).logits
        left_rows = [b for b, row in enumerate(mask) if row[0] == 0]
        lp = [p for p in picks if p[0] in left_rows]
        result["with_position_ids"] = {
            "position_ids": pos.tolist(),
            "logits_at": {"positions": lp, **fl.array(fl.gather_positions(with_pos, lp))},
            "nll": [fl._round(v) for v in fl.row_nll(with_pos, ids, mask)],
        }
    return result, inputs, logits


def expected_doc(name, description, reference_class, auto_class, model_dir, adapter_dir, inputs_doc, outputs,
                 extra=None, tolerance=TOLERANCE, refusal=False, case_dir=None):
    doc = {
        "case": name,
        "description": description,
        "reference_class": reference_class,
        "auto_class": auto_class,
        "model_dir": model_dir,
        "adapter_dir": adapter_dir,
        "dtype": "float32",
        "mode": "eval",
        "tolerance": tolerance,
        "refusal": refusal,
        "versions": fl.versions(),
        "inputs": inputs_doc,
        "outputs": outputs,
    }
    if extra:
        doc["facts"] = extra
    return doc


def ablation_effects(auto_cls, model_dir, inputs, key, want, ablations):
    """Max change of the outputs when the loaded config is overridden: shows that the feature a case
    is about actually moves its numbers (a fixture that cannot tell a feature apart tests nothing)."""
    mask = inputs["attention_mask"] if want.dim() == 3 else None
    effects = {}
    for label, overrides in ablations.items():
        model = auto_cls.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager",
                                         **overrides).eval()
        with torch.no_grad():
            effects[label] = fl._round(fl.max_diff_on(getattr(model(**inputs), key), want, mask))
    return effects
