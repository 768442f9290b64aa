#!/usr/bin/env python3
"""Eager-PyTorch reference for `peft4j bench`: the same MiniLM classifier, LoRA and step, timed the same way.

A developer tool, not a test dependency. On Debian: apt-get install python3-torch python3-numpy
(and libopenblas0-pthread: with the reference BLAS torch's CPU matmul is ~20x slower). Run:

    env OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 \
        MALLOC_TOP_PAD_=268435456 /usr/bin/python3 bench/pytorch_reference.py --threads 2 --json ref.json
    ./peft4j bench --threads 2 --reference ref.json     # prints our tokens/s over these

The environment is the one the `peft4j` launcher sets for itself (OpenMP threads sleep at barriers;
glibc keeps activation-sized blocks instead of returning them), so both sides run alike. The model
directory (--model, default ~/.cache/peft4j/models/all-MiniLM-L6-v2) is the one
`peft4j import-onnx` / `model { source 'minilm' }` writes.
"""
import argparse
import json
import math
import os
import resource
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).copy())
    return out


class LoraLinear(nn.Module):
    """h = W0 x + (alpha/r) B A x, as peft4j's LoraLinear (B random here so the path does real work)."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x) * self.scaling)


class Layer(nn.Module):
    def __init__(self, h, heads, inter, eps):
        super().__init__()
        self.heads, self.hs = heads, h // heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out, self.ln1 = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
        self.inter, self.out, self.ln2 = nn.Linear(h, inter), nn.Linear(inter, h), nn.LayerNorm(h, eps=eps)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, mask):
        B, T, H = x.shape
        q = (self.query(x) / math.sqrt(self.hs)).view(B, T, self.heads, self.hs).transpose(1, 2)
        k = self.key(x).view(B, T, self.heads, self.hs).permute(0, 2, 3, 1)
        v = self.value(x).view(B, T, self.heads, self.hs).transpose(1, 2)
        p = self.drop(torch.softmax(q @ k + mask, dim=-1))
        a = (p @ v).transpose(1, 2).reshape(B, T, H)
        x = self.ln1(x + self.drop(self.attn_out(a)))
        return self.ln2(x + self.drop(self.out(F.gelu(self.inter(x)))))


class Classifier(nn.Module):
    def __init__(self, cfg, labels=2):
        super().__init__()
        h = cfg["hidden_size"]
        eps = cfg.get("layer_norm_eps", 1e-12)
        self.word = nn.Embedding(cfg["vocab_size"], h)
        self.pos = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type = nn.Embedding(cfg["type_vocab_size"], h)
        self.ln = nn.LayerNorm(h, eps=eps)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(Layer(h, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
                                    for _ in range(cfg["num_hidden_layers"]))
        self.classifier = nn.Linear(h, labels)

    def load(self, w):
        g = lambda n: w[n]
        with torch.no_grad():
            self.word.weight.copy_(g("embeddings.word_embeddings.weight"))
            self.pos.weight.copy_(g("embeddings.position_embeddings.weight"))
            self.token_type.weight.copy_(g("embeddings.token_type_embeddings.weight"))
            self.ln.weight.copy_(g("embeddings.LayerNorm.weight")); self.ln.bias.copy_(g("embeddings.LayerNorm.bias"))
            for i, L in enumerate(self.layers):
                p = f"encoder.layer.{i}."
                pairs = [(L.query, "attention.self.query"), (L.key, "attention.self.key"),
                         (L.value, "attention.self.value"), (L.attn_out, "attention.output.dense"),
                         (L.ln1, "attention.output.LayerNorm"), (L.inter, "intermediate.dense"),
                         (L.out, "output.dense"), (L.ln2, "output.LayerNorm")]
                for mod, name in pairs:
                    mod.weight.copy_(g(p + name + ".weight")); mod.bias.copy_(g(p + name + ".bias"))

    def forward(self, ids, attn):
        B, T = ids.shape
        x = self.word(ids) + self.pos(torch.arange(T)) + self.token_type(torch.zeros_like(ids))
        x = self.drop(self.ln(x))
        mask = (1.0 - attn[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for L in self.layers:
            x = L(x, mask)
        m = attn[:, :, None].float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return self.classifier(self.drop(pooled))


def build(cfg, weights, mode, r):
    model = Classifier(cfg)
    model.load(weights)
    if mode == "lora":
        for p in model.parameters():
            p.requires_grad_(False)
        for L in model.layers:
            L.query = LoraLinear(L.query, r, 2 * r)
            L.value = LoraLinear(L.value, r, 2 * r)
        for p in model.classifier.parameters():
            p.requires_grad_(True)
    return model


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/peft4j/models/all-MiniLM-L6-v2"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--modes", default="lora,full,inference")
    ap.add_argument("--json", help="also write the results here, for `peft4j bench --reference FILE`")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    weights = read_safetensors(os.path.join(a.model, "model.safetensors"))
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(1000, cfg["vocab_size"], (a.batch, a.seq), generator=g)
    attn = torch.ones_like(ids)
    labels = torch.arange(a.batch) % 2
    tokens = a.batch * a.seq
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: "
          f"{'openblas' if 'openblas' in torch.__config__.show().lower() else 'see torch.__config__.show()'}")
    results = {}
    for mode in a.modes.split(","):
        if mode in ("lora", "full"):
            model = build(cfg, weights, mode, a.r)
            model.train()
            params = [p for p in model.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

            def step():
                loss = F.cross_entropy(model(ids, attn), labels)
                loss.backward()
                loss.item()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                opt.zero_grad(set_to_none=False)

            s = timed(step, a.warmup, a.repeats)
        else:
            model = build(cfg, weights, "base", a.r)
            model.eval()

            def fwd():
                with torch.inference_mode():
                    model(ids, attn)[0, 0].item()

            s = timed(fwd, a.warmup, a.repeats)
        med = statistics.median(s)
        results[mode] = {"median_seconds": med, "tokens_per_second": tokens / med, "seconds": s,
                         "peak_rss_bytes_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
        print(f"  {mode:10s} {1000 * med:8.1f} ms  {tokens / med:8.0f} tokens/s")
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": a.batch, "seq": a.seq,
           "warmup": a.warmup, "repeats": a.repeats, "results": results}
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
