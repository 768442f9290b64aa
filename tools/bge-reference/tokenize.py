"""Token ids of sentences.json under the embedded tokenizer.json, with Hugging Face's tokenizers (no peft4j code).

Usage: python tokenize.py TOKENIZER_JSON > ids.json
"""
import json
import sys
from pathlib import Path

from tokenizers import Tokenizer

tok = Tokenizer.from_file(sys.argv[1])
sentences = json.loads((Path(__file__).parent / "sentences.json").read_text())
print(json.dumps([tok.encode(s).ids for s in sentences]))
