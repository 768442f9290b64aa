#!/usr/bin/env python3
"""Hugging Face PEFT on the mail-topics benchmark: the training of recipes/experiments/topics-{lora,adalora}.groovy
(MiniLM, query/value, 4 epochs, batch 32, AdamW with weight decay 0.01, linear schedule with 6 % warm-up, clipping at
1.0, max length 64) with PEFT's LoraModel or AdaLoraModel, for the comparison table of the AdaLoRA benchmark.

A developer tool, not a test dependency. Needs torch, transformers and peft:

    python bench/peft_topics.py --method adalora --lr 5e-4 --seed 42 [--tinit 0 --tfinal 0 --delta-t 1]

Prints one JSON line: method, lr, seed, the AdaLoRA schedule and test accuracy and macro-F1. The model directory
(--model, default ~/.cache/peft4j/models/all-MiniLM-L6-v2) is the one `model { source 'minilm' }` writes.
"""
import argparse
import json
import math
import os
import random

import torch
from peft import AdaLoraConfig, LoraConfig, get_peft_model
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

LABELS = ["fork", "ilug", "irish-social", "rpm", "razor", "spamassassin", "exmh", "feeds"]
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipes", "data", "mail-topics")


def read(split):
    with open(os.path.join(DATA, split + ".jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["text"] for r in rows], [LABELS.index(r["label"]) for r in rows]


def macro_f1(pred, gold):
    f1s = []
    for c in range(len(LABELS)):
        tp = sum(p == c and g == c for p, g in zip(pred, gold))
        fp = sum(p == c and g != c for p, g in zip(pred, gold))
        fn = sum(p != c and g == c for p, g in zip(pred, gold))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["lora", "adalora"], required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--tinit", type=int, default=0)
    ap.add_argument("--tfinal", type=int, default=0)
    ap.add_argument("--delta-t", type=int, default=1)
    ap.add_argument("--orth-reg", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/peft4j/models/all-MiniLM-L6-v2"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    torch.manual_seed(a.seed)

    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model, num_labels=len(LABELS))
    train_x, train_y = read("train")
    test_x, test_y = read("test")
    epochs, batch = 4, 32
    steps = math.ceil(len(train_x) / batch) * epochs
    if a.method == "lora":
        cfg = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["query", "value"],
                         modules_to_save=["classifier"], task_type="SEQ_CLS")
    else:
        cfg = AdaLoraConfig(init_r=12, target_r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["query", "value"],
                            modules_to_save=["classifier"], task_type="SEQ_CLS", tinit=a.tinit, tfinal=a.tfinal,
                            deltaT=a.delta_t, beta1=0.85, beta2=0.85, orth_reg_weight=a.orth_reg, total_step=steps)
    model = get_peft_model(model, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * steps), steps)
    step = 0
    for epoch in range(epochs):
        order = list(range(len(train_x)))
        random.Random(a.seed * 31 + epoch).shuffle(order)
        model.train()
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            enc = tok([train_x[j] for j in idx], truncation=True, max_length=64, padding=True, return_tensors="pt")
            out = model(**enc, labels=torch.tensor([train_y[j] for j in idx]))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            step += 1
            if a.method == "adalora":
                model.base_model.update_and_allocate(step)
            opt.zero_grad()
    model.eval()
    pred = []
    with torch.no_grad():
        for i in range(0, len(test_x), 64):
            enc = tok(test_x[i:i + 64], truncation=True, max_length=64, padding=True, return_tensors="pt")
            pred += model(**enc).logits.argmax(-1).tolist()
    acc = sum(p == g for p, g in zip(pred, test_y)) / len(test_y)
    print(json.dumps({"method": a.method, "lr": a.lr, "seed": a.seed, "steps": steps, "tinit": a.tinit,
                      "tfinal": a.tfinal, "deltaT": a.delta_t, "test_accuracy": round(acc, 4),
                      "test_macro_f1": round(macro_f1(pred, test_y), 4)}))


if __name__ == "__main__":
    main()
