"""Shared machinery of the fixture generator: seeding, making tiny models sensitive, inputs,
reference forwards and writing a case directory.

Every expectation is computed by the standard Hugging Face class loaded back from the files just
written, so a fixture checks the files as well as the numbers.
"""
import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import peft
import safetensors
import tokenizers
import torch
import transformers

PAD, BOS, EOS, UNK = 0, 1, 2, 3
FIRST_WORD_ID = 4


def versions():
    return {
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "safetensors": safetensors.__version__,
    }


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- making a tiny model sensitive

QK_NAMES = ("q_proj", "k_proj", "query", "key", "query_proj", "key_proj")


def _is_norm(module):
    name = type(module).__name__
    return isinstance(module, torch.nn.LayerNorm) or "RMSNorm" in name or name.endswith("Norm")


def _zero_centred(module):
    # Gemma's RMSNorm multiplies by (1 + w): its neutral weight is 0, not 1.
    return "Gemma" in type(module).__name__


@torch.no_grad()
def sensitize(model, seed, qk_scale=2.0, embed_std=0.3):
    """Re-initialises every weight so that a tiny random model is not near-uniform.

    Linear weights get std 1/sqrt(fan_in) (so activations neither vanish nor explode), query and
    key projections are scaled by qk_scale on top (sharp, position-dependent attention), every
    norm weight is perturbed away from its neutral value and every bias is non-zero. Padding rows
    of embeddings are kept as the class left them.
    """
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std):
        return torch.randn(shape, generator=gen) * std

    for mname, module in sorted(model.named_modules(), key=lambda kv: kv[0]):
        own = dict(module.named_parameters(recurse=False))
        if not own:
            continue
        if _is_norm(module):
            if "weight" in own and own["weight"] is not None:
                w = own["weight"]
                # q_norm / k_norm undo any scaling of the projections: sharpen through their gain
                gain = qk_scale if mname.rsplit(".", 1)[-1] in ("q_norm", "k_norm") else 1.0
                effective = gain * (1.0 + normal(w.shape, 0.25))
                w.copy_(effective - 1.0 if _zero_centred(module) else effective)
            if "bias" in own and own["bias"] is not None:
                own["bias"].copy_(normal(own["bias"].shape, 0.1))
            continue
        if isinstance(module, torch.nn.Embedding):
            w = own["weight"]
            w.copy_(normal(w.shape, embed_std))
            if module.padding_idx is not None:
                w[module.padding_idx].zero_()
            continue
        for pname, p in sorted(own.items()):
            if p is None:
                continue
            if pname == "bias" or pname.endswith("bias"):
                p.copy_(normal(p.shape, 0.1))
            elif p.dim() == 2:
                conv1d = type(module).__name__ == "Conv1D"  # GPT-2 stores weights as (in, out)
                fan_in = p.shape[0] if conv1d else p.shape[1]
                p.copy_(normal(p.shape, 1.0 / math.sqrt(fan_in)))
            else:
                p.copy_(normal(p.shape, 0.5))
    for mname, module in model.named_modules():
        last = mname.rsplit(".", 1)[-1]
        if last in QK_NAMES and hasattr(module, "weight"):
            module.weight.mul_(qk_scale)
        elif last == "Wqkv":  # ModernBERT: rows [0, 2H) are query and key
            h = module.weight.shape[1]
            module.weight[: 2 * h].mul_(qk_scale)
        elif last == "c_attn":  # GPT-2 Conv1D (in, 3H): columns [0, 2H) are query and key
            h = module.weight.shape[0]
            module.weight[:, : 2 * h].mul_(qk_scale)
    return model


@torch.no_grad()
def attention_sharpness(model, inputs):
    """Mean over layers, heads and real query positions of the largest attention probability,
    from an eager forward: near 1/T means uniform attention (insensitive), near 1 one-hot."""
    out = model(**inputs, output_attentions=True)
    mask = inputs["attention_mask"].bool()
    vals = []
    for att in out.attentions:
        if att is None:
            continue
        m = att.max(-1).values  # (B, heads, T)
        vals.append(m.permute(0, 2, 1)[mask].mean().item())
    return float(np.mean(vals)) if vals else None


# ---------------------------------------------------------------- inputs

def padded_rows(lengths, total, sides, vocab, seed, low=FIRST_WORD_ID, cls=None, sep=None, pad=PAD):
    """(input_ids, attention_mask) as lists: row i has lengths[i] real tokens padded on sides[i]
    ('none', 'right' or 'left') to total. Encoder rows start with cls and end with sep when given."""
    gen = torch.Generator().manual_seed(seed)
    ids, mask = [], []
    for n, side in zip(lengths, sides):
        body = torch.randint(low, vocab, (n,), generator=gen).tolist()
        if cls is not None:
            body[0] = cls
        if sep is not None:
            body[-1] = sep
        p = total - n
        if side == "left":
            ids.append([pad] * p + body)
            mask.append([0] * p + [1] * n)
        else:
            ids.append(body + [pad] * p)
            mask.append([1] * n + [0] * p)
    return ids, mask


def standard_rows(total, vocab, seed, **kw):
    """Three rows: full length, right-padded, left-padded."""
    lengths = [total, total - 9 - total // 6, total - 5 - total // 8]
    return padded_rows(lengths, total, ["none", "right", "left"], vocab, seed, **kw)


def tensors(ids, mask):
    return {"input_ids": torch.tensor(ids, dtype=torch.long), "attention_mask": torch.tensor(mask, dtype=torch.long)}


def generate_position_ids(mask):
    """Positions as GenerationMixin gives them: count real tokens, 1 at padding."""
    m = torch.tensor(mask, dtype=torch.long)
    pos = m.cumsum(-1) - 1
    return pos.masked_fill(m == 0, 1)


# ---------------------------------------------------------------- array encoding

def _round(x):
    return None if x is None else float(f"{x:.8g}")


def array(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [_round(v) for v in t.reshape(-1).tolist()]}


def chosen_positions(mask, window=None):
    """Per row: the first, a middle and the last real token, plus one just past `window` real
    tokens when there is a window; as (row, position) pairs in the padded layout."""
    picks = []
    for b, row in enumerate(mask):
        real = [t for t, m in enumerate(row) if m]
        idx = {0, len(real) // 2, len(real) - 1}
        if window is not None and window + 1 < len(real):
            idx.add(window + 1)
        picks += [[b, real[i]] for i in sorted(idx)]
    return picks


def gather_positions(logits, picks):
    return torch.stack([logits[b, t] for b, t in picks])


def row_nll(logits, ids, mask):
    """Per-row mean next-token negative log-likelihood over real tokens (labels -100 at padding),
    the quantity HF's causal-LM loss averages."""
    ids = torch.tensor(ids)
    m = torch.tensor(mask).bool()
    labels = ids.masked_fill(~m, -100)
    out = []
    for b in range(ids.shape[0]):
        lp = torch.nn.functional.cross_entropy(logits[b, :-1].float(), labels[b, 1:], ignore_index=-100)
        out.append(lp.item())
    return out


def real_argmax(logits, mask):
    """Per row, the argmax token of every real position (padding left out)."""
    out = []
    for b, row in enumerate(mask):
        out.append([int(logits[b, t].argmax()) for t, m in enumerate(row) if m])
    return out


# ---------------------------------------------------------------- loading back and writing

BASE_REWRITING_INITS = ("pissa", "olora", "corda", "loftq")


def rewrites_base(adapter_dir):
    """Whether adapter_config.json names an init that rewrites the base weights: PeftModel.from_pretrained
    then runs that init again on the base it is given (PEFT 0.21)."""
    init = read_json(Path(adapter_dir) / "adapter_config.json").get("init_lora_weights")
    return isinstance(init, str) and init.lower().startswith(BASE_REWRITING_INITS)


def load(auto_cls, model_dir, attn="eager", adapter_dir=None, plain=False):
    """The standard class from disk; with an adapter, PeftModel.from_pretrained over it. For an adapter
    whose init rewrites the base, init_lora_weights is set to True in the loaded config (unless plain)
    so that the base stays as saved: the files then mean base + adapter."""
    model = auto_cls.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=attn)
    if adapter_dir is not None:
        config = None
        if rewrites_base(adapter_dir) and not plain:
            config = peft.PeftConfig.from_pretrained(adapter_dir)
            config.init_lora_weights = True
        model = peft.PeftModel.from_pretrained(model, adapter_dir, config=config)
    return model.eval()


def max_diff_on(a, b, mask=None):
    d = (a - b).abs()
    if mask is not None:
        d = d[mask.bool()]
    return float(d.max()) if d.numel() else 0.0


def fresh_dir(path):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=1, sort_keys=False) + "\n")


def file_listing(directory):
    """Relative path -> size for every file under directory: recorded so a reader sees what a
    save_pretrained call wrote."""
    d = Path(directory)
    return {str(p.relative_to(d)): p.stat().st_size for p in sorted(d.rglob("*")) if p.is_file()}


def safetensors_shapes(path):
    from safetensors import safe_open
    with safe_open(str(path), framework="pt") as f:
        return {k: list(f.get_slice(k).get_shape()) for k in sorted(f.keys())}


def read_json(path):
    return json.loads(Path(path).read_text())
