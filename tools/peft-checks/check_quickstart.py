"""Checks the quickstart's merged directory with the standard classes: it must load in
AutoModelForSequenceClassification without missing or unexpected weights, and on every text of the test set
AutoModelForSequenceClassification, pipeline("text-classification", truncation=True) and, over the base model,
PeftModel with the run's adapter must give the logits peft4j's predict wrote.

Usage (from the repository root, after `./peft4j run recipes/quickstart.groovy`):
    ./peft4j merge --model minilm --adapter runs/quickstart-X/adapter --out /tmp/qs-merged
    ./peft4j predict --model minilm --adapter runs/quickstart-X/adapter --input recipes/data/spam/test.jsonl \
        --out /tmp/qs-pred.jsonl --max-length 0
    /path/to/venv/bin/python tools/peft-checks/check_quickstart.py /tmp/qs-merged /tmp/qs-pred.jsonl \
        recipes/data/spam/test.jsonl [~/.cache/peft4j/models/all-MiniLM-L6-v2 runs/quickstart-X/adapter]

--max-length 0 cuts each text at the model's limit (512 tokens), as pipeline(truncation=True) cuts at the
tokenizer's model_max_length. Prints max |Δ| per check and the accuracy and F1 of the pipeline's labels;
exits 1 when a check is off by more than 1e-4.
"""
import json
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

TOLERANCE = 1e-4


def lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


@torch.no_grad()
def logits_of(model, tok, texts, batch=16):
    out = []
    for i in range(0, len(texts), batch):
        enc = tok(texts[i:i + batch], padding=True, truncation=True, return_tensors="pt")
        out.append(model(**enc).logits)
    return torch.cat(out)


def main(merged, predictions, test, base=None, adapter=None):
    torch.set_num_threads(2)
    model, info = AutoModelForSequenceClassification.from_pretrained(merged, dtype=torch.float32,
                                                                     output_loading_info=True)
    model.eval()
    print(f"AutoModelForSequenceClassification: {type(model).__name__}, missing {info['missing_keys']},"
          f" unexpected {info['unexpected_keys']}, labels {model.config.id2label}")
    tok = AutoTokenizer.from_pretrained(merged)
    print(f"tokenizer: model_max_length {tok.model_max_length}")
    data = lines(test)
    texts = [d["text"] for d in data]
    ours = torch.tensor([p["logits"] for p in lines(predictions)])
    assert len(ours) == len(texts), f"{predictions} has {len(ours)} rows for {len(texts)} texts"
    long = sum(len(tok(t)["input_ids"]) > tok.model_max_length for t in texts)
    print(f"test texts: {len(texts)}, longer than {tok.model_max_length} tokens: {long}")

    worst = {}
    worst["AutoModelForSequenceClassification"] = (logits_of(model, tok, texts) - ours).abs().max().item()
    pipe = pipeline("text-classification", model=model, tokenizer=tok, truncation=True, top_k=None,
                    function_to_apply="none")
    label2id = model.config.label2id
    rows, predicted = [], []
    for scores in pipe(texts, batch_size=1):
        row = [0.0] * len(label2id)
        for s in scores:
            row[label2id[s["label"]]] = s["score"]
        rows.append(row)
        predicted.append(max(scores, key=lambda s: s["score"])["label"])
    worst["pipeline(truncation=True)"] = (torch.tensor(rows) - ours).abs().max().item()
    if base and adapter:
        from peft import PeftModel
        b = AutoModelForSequenceClassification.from_pretrained(base, num_labels=len(label2id), dtype=torch.float32)
        peft_model = PeftModel.from_pretrained(b, adapter).eval()
        worst["PeftModel(base + adapter)"] = (logits_of(peft_model, tok, texts) - ours).abs().max().item()
    for k, v in worst.items():
        print(f"{k}: max |Δ| against peft4j predict = {v:.3g}")

    gold = [d["label"] for d in data]
    acc = sum(p == g for p, g in zip(predicted, gold)) / len(gold)
    tp = sum(p == g == "spam" for p, g in zip(predicted, gold))
    fp = sum(p == "spam" and g != "spam" for p, g in zip(predicted, gold))
    fn = sum(p != "spam" and g == "spam" for p, g in zip(predicted, gold))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    print(f"pipeline labels on the test set: accuracy {acc:.4f}, spam F1 {f1:.4f}")
    ok = not info["missing_keys"] and not info["unexpected_keys"] and all(v <= TOLERANCE for v in worst.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
