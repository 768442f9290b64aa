#!/usr/bin/env python3
"""Derives the spam-retrieval task from ../spam/{train,valid,test}.jsonl (see README.md beside this file).

Query = a message's subject line, document = its body. Deterministic: the same inputs give
byte-identical output. Python 3 standard library only.

    python3 recipes/data/spam-retrieval/make_pairs.py
"""
import json
import re
from pathlib import Path

MIN_SUBJECT_CHARS = 8      # "Re: hi" says nothing about its body
MIN_SUBJECT_WORDS = 2
MIN_BODY_CHARS = 40
MAX_BODY_CHARS = 400       # about 100 tokens: more than the maxLength 64 the measured runs use
TRAIN_PAIRS = 1000
HELD_OUT = 400            # queries = documents; keeps an evaluation to seconds on 2 cores
SENTENCES = 1000
DEV = 180                 # the usable training messages left after TRAIN_PAIRS: a tuning split

HERE = Path(__file__).resolve().parent
SPAM = HERE.parent / "spam"


def read(split):
    with open(SPAM / f"{split}.jsonl", encoding="utf-8", errors="strict") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_message(row):
    """(subject, body) with whitespace collapsed, or None for a message too short to be a fair query."""
    subject, _, body = row["text"].partition("\n")
    subject = " ".join(subject.split())
    body = " ".join(body.split())
    if len(subject) < MIN_SUBJECT_CHARS or len(subject.split()) < MIN_SUBJECT_WORDS or len(body) < MIN_BODY_CHARS:
        return None
    return subject, body[:MAX_BODY_CHARS]


def key(text):
    """Subjects are compared without reply/forward prefixes and case, so one thread is one key."""
    return re.sub(r"^((re|fw|fwd)\s*:\s*)+", "", text.lower()).strip()


def usable(rows, taken_subjects, taken_bodies):
    """Messages whose subject and body are both new: each query then has exactly one right answer."""
    out = []
    for row in rows:
        m = split_message(row)
        if m is None:
            continue
        subject, body = m
        if key(subject) in taken_subjects or body in taken_bodies:
            continue
        taken_subjects.add(key(subject))
        taken_bodies.add(body)
        out.append((row["source"], subject, body))
    return out


def write(name, rows):
    with open(HERE / name, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    subjects, bodies = set(), set()
    # held-out messages first, so that a training pair never repeats an evaluation subject or body
    held_out = usable(read("valid") + read("test"), subjects, bodies)[:HELD_OUT]
    usable_train = usable(read("train"), subjects, bodies)
    train = usable_train[:TRAIN_PAIRS]
    # hyper-parameters are chosen on messages that are neither trained on nor held out for evaluation
    dev = usable_train[TRAIN_PAIRS:TRAIN_PAIRS + DEV]

    write("eval-corpus.jsonl", [{"id": f"d:{src}", "text": body} for src, _, body in held_out])
    write("eval-queries.jsonl", [{"id": f"q:{src}", "text": subj, "relevant": [f"d:{src}"]}
                                 for src, subj, _ in held_out])
    write("dev-corpus.jsonl", [{"id": f"d:{src}", "text": body} for src, _, body in dev])
    write("dev-queries.jsonl", [{"id": f"q:{src}", "text": subj, "relevant": [f"d:{src}"]} for src, subj, _ in dev])
    write("train-pairs.jsonl", [{"anchor": subj, "positive": body} for _, subj, body in train])
    # unsupervised SimCSE sees the same kind of text it will embed: subjects and bodies, interleaved
    sentences = []
    for _, subj, body in train:
        sentences += [subj, body]
    write("sentences.jsonl", [{"text": t} for t in sentences[:SENTENCES]])
    print(f"held-out queries/documents: {len(held_out)}, training pairs: {len(train)}, dev: {len(dev)},"
          f" sentences: {min(SENTENCES, len(sentences))}")


if __name__ == "__main__":
    main()
