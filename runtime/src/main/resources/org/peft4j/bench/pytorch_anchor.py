#!/usr/bin/env python3
"""The PyTorch anchor for `peft4j bench`: Hugging Face Transformers + PEFT on the same model, batch and step.

What a PyTorch user would run: `AutoModelForSequenceClassification` (BERT with Transformers' default
attention, SDPA) over the MiniLM directory peft4j imports, PEFT's `LoraConfig` / `AdaLoraConfig` on
query/value with the classifier in `modules_to_save`, `torch.optim.AdamW`, gradient clipping at 1.0.
Each mode is timed in fp32 eager and under `torch.autocast("cpu", dtype=torch.bfloat16)`; the anchor
for a ratio is the faster of the two.

A developer tool, never a test dependency: `peft4j bench --anchor PYTHON` copies it out of the runtime jar
and runs it with PYTHON (an interpreter with torch, transformers and peft) before each of its --pairs
rounds, in the environment the `peft4j` launcher gives itself (OpenMP threads sleep at barriers; glibc
keeps activation-sized blocks), so that both sides run alike. By hand:

    python pytorch_anchor.py --threads 2 --modes lora,adalora --json anchor.json
    ./peft4j bench --threads 2 --reference anchor.json
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch


def build(model_dir, mode, r, steps):
    from transformers import AutoModelForSequenceClassification
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2)
    if mode in ("lora", "adalora"):
        from peft import AdaLoraConfig, LoraConfig, get_peft_model
        if mode == "lora":
            cfg = LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules=["query", "value"],
                             modules_to_save=["classifier"], task_type="SEQ_CLS")
        else:
            # peft4j bench's AdaLoRA case: the same final budget, regularizer, importance and masking every step
            cfg = AdaLoraConfig(init_r=r + r // 2, target_r=r, tinit=0, tfinal=0, deltaT=1, beta1=0.85, beta2=0.85,
                                orth_reg_weight=0.1, total_step=steps + 1, lora_alpha=2 * r, lora_dropout=0.0,
                                target_modules=["query", "value"], modules_to_save=["classifier"], task_type="SEQ_CLS")
        model = get_peft_model(model, cfg)
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
    ap.add_argument("--modes", default="lora", help="comma-separated: lora, adalora, full, inference")
    ap.add_argument("--precisions", default="fp32,bf16", help="fp32 (eager) and/or bf16 (autocast)")
    ap.add_argument("--json", help="also write the results here, for `peft4j bench --reference FILE`")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    ids = torch.randint(1000, cfg["vocab_size"], (a.batch, a.seq), generator=g)
    attn = torch.ones_like(ids)
    labels = torch.arange(a.batch) % 2
    tokens = a.batch * a.seq
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    results = {}
    for mode in a.modes.split(","):
        for precision in a.precisions.split(","):
            model = build(a.model, mode, a.r, a.warmup + a.repeats)
            autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
            if mode == "inference":
                model.eval()

                def step():
                    with torch.inference_mode(), autocast:
                        model(input_ids=ids, attention_mask=attn).logits[0, 0].item()
            else:
                model.train()
                params = [p for p in model.parameters() if p.requires_grad]
                opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
                count = [0]

                def step():
                    count[0] += 1
                    with autocast:
                        # the model's own loss: AdaLoRA's forward adds its orthogonal regularizer to it
                        loss = model(input_ids=ids, attention_mask=attn, labels=labels).loss
                    loss.backward()
                    loss.item()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    opt.step()
                    if mode == "adalora":
                        model.base_model.update_and_allocate(count[0])
                    opt.zero_grad(set_to_none=False)

            s = timed(step, a.warmup, a.repeats)
            med = statistics.median(s)
            key = mode if precision == "fp32" else f"{mode}_{precision}"
            results[key] = {"median_seconds": med, "tokens_per_second": tokens / med, "seconds": s,
                            "precision": precision, "mode": mode,
                            "peak_rss_bytes_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
            print(f"  {key:16s} {1000 * med:8.1f} ms  {tokens / med:8.0f} tokens/s", flush=True)
            del model
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": a.batch, "seq": a.seq,
           "warmup": a.warmup, "repeats": a.repeats, "anchor": "transformers+peft", "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
