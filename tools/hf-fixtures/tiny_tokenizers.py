"""Tiny tokenizers built with the `tokenizers` library and saved through PreTrainedTokenizerFast,
so a case can check text -> ids as well as ids -> numbers."""
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

WORDS = ("the a red green blue cat dog bird sees likes runs to from over under small big old new tree house "
         "river stone light dark sings walks quickly slowly and or not very one two three four five six seven "
         "eight nine ten sky sea sun moon star wind rain snow day night morning evening good bad happy sad").split()

TEXTS = [
    "the small red cat quickly runs over the old stone house and the big blue dog slowly walks under "
    "the dark tree to the river one two three four five six seven eight nine ten",
    "a happy bird sings in the morning light and the green sea is very calm",
    "the moon and the stars over the sky at night",
]


def _corpus():
    lines = list(TEXTS)
    for i in range(len(WORDS)):
        lines.append(" ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(12)))
    return lines


def llama_bpe(vocab_size=128):
    """A BPE over lowercase letters with <pad>=0, <s>=1, </s>=2, <unk>=3 and a BOS template."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
                                  show_progress=False, min_frequency=1)
    tok.train_from_iterator(_corpus(), trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>")


def bert_wordlevel():
    """A WordLevel vocabulary with [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, lower-casing, BERT
    pre-tokenization and the [CLS] $A [SEP] template."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {w: i for i, w in enumerate(specials + sorted(set(WORDS)))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")


def _encode(tok, texts, t, sides):
    ids, mask = [], []
    for text, side in zip(texts, sides):
        tok.padding_side = side
        enc = tok(text, padding="max_length", truncation=True, max_length=t)
        ids.append(enc["input_ids"])
        mask.append(enc["attention_mask"])
    tok.padding_side = "right"
    return ids, mask


def llama_bpe_inputs(model_dir, t):
    tok = llama_bpe()
    tok.save_pretrained(model_dir)
    tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
    ids, mask = _encode(tok, TEXTS, t, ["right", "right", "left"])
    return TEXTS, ids, mask


def bert_inputs(model_dir, t, texts=TEXTS):
    tok = bert_wordlevel()
    tok.save_pretrained(model_dir)
    tok = PreTrainedTokenizerFast.from_pretrained(model_dir)
    ids, mask = _encode(tok, texts, t, ["right"] * len(texts))
    return list(texts), ids, mask, len(tok)
