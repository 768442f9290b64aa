"""Derives the decoder recipes' data and character tokenizer from the spam subset (../spam).

Python 3, standard library only; running it again gives identical files:

    python3 recipes/data/mail/make_mail.py
"""
import json
import pathlib
import re
import unicodedata

HERE = pathlib.Path(__file__).resolve().parent
SPAM = HERE.parent / "spam"
MODEL = HERE.parent.parent / "models" / "mail-llama"

SPECIALS = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<|endoftext|>"]
# printable ASCII and the newline: every character of the normalised mail is one of these
CHARS = [chr(c) for c in range(32, 127)] + ["\n"]


def normalise(text):
    """ASCII only (accents folded, other characters dropped), no tabs, at most one blank line, no trailing spaces."""
    text = unicodedata.normalize("NFKD", text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"'))
    text = "".join(c for c in text.replace("\t", " ").replace("\r", "") if c in CHARS or c == "\n")
    text = re.sub(r"[ ]{3,}", "  ", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def read(split):
    with open(SPAM / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write(name, rows):
    with open(HERE / name, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True) + "\n")


def instructions(mails):
    """Two tasks per mail: spam or ham from subject and the start of the body; the subject from the body."""
    rows = []
    for m in mails:
        text = normalise(m["text"])
        subject, _, body = text.partition("\n")
        body = body.strip()[:200].rstrip()
        if not body:
            continue
        rows.append({"instruction": "Is this message spam or ham?", "input": (subject + "\n" + body).strip(),
                     "output": m["label"]})
        if 3 <= len(subject) <= 80:
            rows.append({"instruction": "Write a subject line for this mail.", "input": body, "output": subject})
    return rows


def chats(rows):
    """The instruction rows as chats, as a chat dataset of one's own would read."""
    return [{"messages": [{"role": "system", "content": "You are a mail assistant. Answer briefly."},
                          {"role": "user", "content": r["instruction"] + "\n\n" + r["input"]},
                          {"role": "assistant", "content": r["output"]}]} for r in rows]


def tokenizer():
    vocab = {t: i for i, t in enumerate(SPECIALS + CHARS)}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": True} for i, t in enumerate(SPECIALS)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
            "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated",
                              "invert": False},
            "post_processor": None, "decoder": {"type": "Fuse"},
            "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}


def main():
    train, valid = read("train"), read("valid")
    write("train.jsonl", [{"text": normalise(m["text"])} for m in train])
    write("valid.jsonl", [{"text": normalise(m["text"])} for m in valid[:60]])
    write("instructions-train.jsonl", instructions(train[:400]))
    write("instructions-valid.jsonl", instructions(valid[:40]))
    write("chats-train.jsonl", chats(instructions(train[400:700])))
    write("chats-valid.jsonl", chats(instructions(valid[40:80])))
    MODEL.mkdir(parents=True, exist_ok=True)
    with open(MODEL / "tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer(), f, ensure_ascii=True, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
