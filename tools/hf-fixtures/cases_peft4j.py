"""The peft4j -> Hugging Face half of the interop suite (runtime/src/test/resources/peft4j-hf/<case>/):
what the standard Hugging Face classes compute on the artifacts peft4j writes.

peft4j's spec Peft4jToHfSpec rebuilds each artifact (merged classifiers and decoders, a run's adapter,
an AdaLoRA adapter and its LoRA export, a PiSSA adapter; see Peft4jArtifacts.groovy) and copies it out when
given -Dpeft4j.interop.out=DIR. make_fixtures.py --peft4j DIR loads every artifact in DIR with the classes a
Hugging Face user would (AutoModelForSequenceClassification, pipeline, AutoModelForCausalLM, PeftModel,
SentenceTransformer, AutoTokenizer.apply_chat_template), refuses one that loads with missing or unexpected
weights, and writes expected.json: the inputs, the outputs, and the artifact's files (tensor names and
shapes, directory listings, config fields) that the spec checks its rebuilt artifact against.
"""
import random
import warnings
from pathlib import Path

import peft
import torch
import transformers
from sentence_transformers import SentenceTransformer


from fixture_lib import array, chosen_positions, read_json, row_nll, safetensors_shapes, standard_rows, versions, \
    write_json  # noqa: E402

TOLERANCE = 1e-4
SEQCLS = transformers.AutoModelForSequenceClassification

CONFIG_FIELDS = ["architectures", "model_type", "num_labels", "id2label", "label2id", "pad_token_id"]
ADAPTER_FIELDS = ["peft_type", "task_type", "r", "lora_alpha", "target_modules", "modules_to_save", "rank_pattern",
                  "init_r", "target_r", "use_rslora", "use_dora", "init_lora_weights"]


def words(model_dir):
    vocab = read_json(Path(model_dir) / "tokenizer.json")["model"]["vocab"]
    return [w for w, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if not w.startswith("[")]


def texts_of(model_dir, seed, lengths):
    rnd = random.Random(seed)
    vocab = words(model_dir)
    return [" ".join(rnd.choice(vocab) for _ in range(n)) for n in lengths]


def loaded(cls, path, **kw):
    """The class from disk in fp32 eval mode; refuses weights the file lacks or the class does not use."""
    model, info = cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager",
                                      output_loading_info=True, **kw)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if bad:
        raise SystemExit(f"{path}: {cls.__name__} loads it with {bad}")
    return model.eval()


def described(root, name, dirs, configs):
    """The files the spec compares: tensor shapes of every safetensors file, listings of dirs, config fields."""
    d = root / name
    files = {}
    for sub in dirs:
        for f in sorted((d / sub).rglob("*.safetensors")):
            files[str(f.relative_to(d))] = safetensors_shapes(f)
    listings = {sub: sorted(str(p.relative_to(d / sub)) for p in (d / sub).rglob("*") if p.is_file()) for sub in dirs}
    fields = {}
    for file, keys in configs.items():
        doc = read_json(d / file)
        fields[file] = {k: doc[k] for k in keys if k in doc}
    return {"files": files, "listings": listings, "json": fields}


def enc(tokenizer, texts):
    e = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    return e, {"texts": texts, "input_ids": e["input_ids"].tolist(), "attention_mask": e["attention_mask"].tolist()}


def ids_inputs(ids, mask):
    t = {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}
    return t, {"input_ids": ids, "attention_mask": mask}


@torch.no_grad()
def merged_bert_new_pooler(root):
    d = root / "merged-bert-new-pooler"
    merged = d / "merged"
    model = loaded(SEQCLS, merged)
    tok = transformers.AutoTokenizer.from_pretrained(merged)
    # the last text is longer than the 64 positions: pipeline(truncation=True) cuts it to model_max_length
    texts = texts_of(merged, 1, [5, 12, 3, 20, 100])
    e, inputs = enc(tok, texts)
    logits = model(**e).logits
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tok, truncation=True, top_k=None,
                                 function_to_apply="none")
    label2id = model.config.label2id
    rows = []
    for scores in pipe(texts):
        row = [0.0] * len(label2id)
        for s in scores:
            row[label2id[s["label"]]] = s["score"]
        rows.append(row)
    return {"description": "BERT as the quickstart trains it (a base without pooler; new pooler and classifier as modules"
                           " to save; LoRA on query/value), merged with labels red/green/blue; AutoModelForSequenceClassification"
                           " on the batch, pipeline('text-classification', truncation=True) on the texts (the last is cut"
                           " to model_max_length 64).",
            "reference": "AutoModelForSequenceClassification, pipeline",
            "inputs": inputs, "outputs": {"logits": array(logits), "pipeline_logits": array(torch.tensor(rows))},
            **described(root, "merged-bert-new-pooler", ["merged"],
                        {"merged/config.json": CONFIG_FIELDS, "merged/tokenizer_config.json": ["model_max_length"]})}


@torch.no_grad()
def merged_bert_mean(root):
    d = root / "merged-bert-mean"
    merged = d / "merged"
    st = SentenceTransformer(str(merged), device="cpu")
    texts = texts_of(merged, 2, [5, 12, 3, 100])
    tok = transformers.AutoTokenizer.from_pretrained(merged)
    _, inputs = enc(tok, texts)
    st_logits = torch.tensor(st.encode(texts, batch_size=2, convert_to_numpy=True))
    return {"description": "BERT with a classifier on the mean of the token states (no Transformers class computes it),"
                           " merged into sentence-transformers' layout: Transformer, Pooling (mean), Dense (identity);"
                           " SentenceTransformer(dir).encode(texts) are the logits (max_seq_length 64 cuts the last text).",
            "reference": "SentenceTransformer",
            "inputs": inputs, "outputs": {"st_logits": array(st_logits)},
            **described(root, "merged-bert-mean", ["merged"],
                        {"merged/config.json": CONFIG_FIELDS,
                         "merged/1_Pooling/config.json": ["pooling_mode_mean_tokens", "pooling_mode_cls_token"],
                         "merged/2_Dense/config.json": ["in_features", "out_features", "bias", "activation_function"],
                         "merged/sentence_bert_config.json": ["max_seq_length"]})}


@torch.no_grad()
def merged_bert_embedding(root):
    d = root / "merged-bert-embedding"
    model = loaded(transformers.AutoModel, d / "merged")
    t, inputs = ids_inputs(*standard_rows(32, model.config.vocab_size, 15, cls=2, sep=3, pad=0, low=5))
    out = model(**t)
    return {"description": "LoRA on every linear layer of BertModel (all-linear: the pooler's dense too), merged into the"
                           " encoder under its checkpoint's names; AutoModel's last_hidden_state and pooler_output.",
            "reference": "AutoModel",
            "inputs": inputs,
            "outputs": {"last_hidden_state": array(out.last_hidden_state), "pooler_output": array(out.pooler_output)},
            **described(root, "merged-bert-embedding", ["merged"], {"merged/config.json": ["architectures", "model_type"]})}


@torch.no_grad()
def causal(root, name, seed, description, extra_files=None):
    d = root / name
    model = loaded(transformers.AutoModelForCausalLM, d / "merged")
    ids, mask = standard_rows(40 if "sliding" in name else 24, model.config.vocab_size, seed, pad=0)
    t, inputs = ids_inputs(ids, mask)
    logits = model(**t).logits
    picks = chosen_positions(mask, getattr(model.config, "sliding_window", None))
    return model, t, inputs, logits, {
        "description": description, "reference": "AutoModelForCausalLM",
        "outputs": {"logits_at": {**array(torch.stack([logits[b, p] for b, p in picks])), "positions": picks},
                    "nll": row_nll(logits, ids, mask)}}


def merged_mistral_sliding(root):
    _, _, inputs, _, doc = causal(root, "merged-mistral-sliding", 16,
                                  "Mistral with sliding_window 8 < sequence 40 and LoRA on q_proj/v_proj, merged; the"
                                  " config.json (Transformers 5, rope_parameters) is carried unchanged.")
    return {**doc, "inputs": inputs,
            **described(root, "merged-mistral-sliding", ["merged"],
                        {"merged/config.json": ["architectures", "model_type", "sliding_window", "rope_parameters"]})}


@torch.no_grad()
def pissa_llama(root):
    d = root / "pissa-llama"
    base = loaded(transformers.AutoModelForCausalLM, d / "base")
    # from_pretrained runs init_lora_weights="pissa" again on the original base, rebuilding the residual
    model = peft.PeftModel.from_pretrained(base, d / "adapter").eval()
    ids, mask = standard_rows(24, base.config.vocab_size, 17, pad=0)
    t, inputs = ids_inputs(ids, mask)
    logits = model(**t).logits
    picks = chosen_positions(mask)
    return {"description": "PiSSA (r=2 on q_proj/v_proj) on Llama as peft4j saves it (init_lora_weights 'pissa', trained"
                           " A and B) loaded by PeftModel.from_pretrained on the original base, which runs the PiSSA init"
                           " again. Tolerance 2e-4: PEFT's float32 SVD against peft4j's exact one (hf/lora-init-pissa).",
            "reference": "AutoModelForCausalLM + PeftModel", "tolerance": 2e-4,
            "inputs": inputs,
            "outputs": {"logits_at": {**array(torch.stack([logits[b, p] for b, p in picks])), "positions": picks},
                        "nll": row_nll(logits, ids, mask)},
            **described(root, "pissa-llama", ["adapter"], {"adapter/adapter_config.json": ADAPTER_FIELDS})}


@torch.no_grad()
def merged_roberta_seqcls(root):
    merged = root / "merged-roberta-seqcls" / "merged"
    model = loaded(SEQCLS, merged)
    t, inputs = ids_inputs(*standard_rows(32, model.config.vocab_size, 11, cls=0, sep=2, pad=1, low=4))
    return {"description": "RobertaForSequenceClassification with LoRA on query/value and its whole classification head"
                           " (classifier.dense, classifier.out_proj) as a module to save, merged.",
            "reference": "AutoModelForSequenceClassification",
            "inputs": inputs, "outputs": {"logits": array(model(**t).logits)},
            **described(root, "merged-roberta-seqcls", ["merged"], {"merged/config.json": CONFIG_FIELDS})}


@torch.no_grad()
def merged_llama_causal(root):
    d = root / "merged-llama-causal"
    _, t, inputs, logits, doc = causal(root, "merged-llama-causal", 12,
                                       "Llama (rope default) with LoRA on q_proj/v_proj saved by peft4j and merged from the"
                                       " files; the base's chat_template.jinja (ChatML) is carried into the merged"
                                       " directory, where AutoTokenizer.apply_chat_template renders it.")
    mask = torch.tensor(inputs["attention_mask"]).bool()
    peft_model = peft.PeftModel.from_pretrained(loaded(transformers.AutoModelForCausalLM, d / "base"), d / "adapter")
    adapter_diff = float((peft_model.eval()(**t).logits - logits)[mask].abs().max())
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hello there"},
                {"role": "assistant", "content": "Hi."}, {"role": "user", "content": "Name a colour."}]
    tok = transformers.AutoTokenizer.from_pretrained(d / "merged")
    doc["outputs"]["chat_text"] = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    doc["reference"] += ", AutoTokenizer.apply_chat_template"
    inputs["messages"] = messages
    return {**doc, "inputs": inputs, "facts": {"peft_model_vs_merged_max_abs": adapter_diff},
            **described(root, "merged-llama-causal", ["merged", "adapter"],
                        {"merged/config.json": ["architectures", "model_type", "tie_word_embeddings", "rope_parameters"],
                         "adapter/adapter_config.json": ADAPTER_FIELDS})}


@torch.no_grad()
def merged_qwen2_seqcls(root):
    d = root / "merged-qwen2-seqcls"
    model = loaded(SEQCLS, d / "merged")
    t, inputs = ids_inputs(*standard_rows(24, model.config.vocab_size, 13, pad=0, low=4))
    logits = model(**t).logits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peft_model = peft.PeftModel.from_pretrained(
            SEQCLS.from_pretrained(d / "base", num_labels=2, dtype=torch.float32, attn_implementation="eager"),
            d / "adapter").eval()
    adapter_diff = float((peft_model(**t).logits - logits).abs().max())
    return {"description": "A Qwen2 causal LM fine-tuned into Qwen2ForSequenceClassification (a new score trained as a"
                           " module to save, LoRA on q_proj/v_proj), merged with labels no/yes; the score reads each"
                           " row's last token that is not pad_token_id 0 (rows right- and left-padded).",
            "reference": "AutoModelForSequenceClassification",
            "inputs": inputs, "outputs": {"logits": array(logits)},
            "facts": {"peft_model_vs_merged_max_abs": adapter_diff},
            **described(root, "merged-qwen2-seqcls", ["merged", "adapter"],
                        {"merged/config.json": CONFIG_FIELDS, "adapter/adapter_config.json": ADAPTER_FIELDS})}


@torch.no_grad()
def run_lora_bert(root):
    d = root / "run-lora-bert"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = SEQCLS.from_pretrained(d / "base", num_labels=2, dtype=torch.float32, attn_implementation="eager")
    model = peft.PeftModel.from_pretrained(base, d / "adapter").eval()
    tok = transformers.AutoTokenizer.from_pretrained(d / "base")
    texts = texts_of(d / "base", 3, [4, 9, 6, 11])
    e, inputs = enc(tok, texts)
    return {"description": "The adapter a peft4j run saved (LoRA r=2 on query/value, classifier as a module to save,"
                           " 3 AdamW steps on 24 texts) loaded by PeftModel over AutoModelForSequenceClassification"
                           " (num_labels 2).",
            "reference": "AutoModelForSequenceClassification + PeftModel",
            "inputs": inputs, "outputs": {"logits": array(model(**e).logits)},
            **described(root, "run-lora-bert", ["adapter"], {"adapter/adapter_config.json": ADAPTER_FIELDS})}


@torch.no_grad()
def adalora_bert(root):
    d = root / "adalora-bert"
    t, inputs = ids_inputs(*standard_rows(32, 64, 14, cls=2, sep=3, pad=0, low=5))

    def over(adapter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base = SEQCLS.from_pretrained(d / "base", num_labels=2, dtype=torch.float32, attn_implementation="eager")
        return peft.PeftModel.from_pretrained(base, d / adapter).eval()

    return {"description": "AdaLoRA (init_r 4) on BERT query/key/value saved by peft4j with layer 0's key pruned to"
                           " rank 0 and layer 1's query to rank 2, and its LoRA export (peft4j export --to lora), each"
                           " loaded by PeftModel over AutoModelForSequenceClassification.",
            "reference": "AutoModelForSequenceClassification + PeftModel (AdaLoRA, LoRA)",
            "inputs": inputs,
            "outputs": {"logits": array(over("adapter")(**t).logits), "lora_logits": array(over("lora")(**t).logits)},
            **described(root, "adalora-bert", ["adapter", "lora"],
                        {"adapter/adapter_config.json": ADAPTER_FIELDS, "lora/adapter_config.json": ADAPTER_FIELDS})}


CASES = {
    "merged-bert-new-pooler": merged_bert_new_pooler,
    "merged-bert-mean": merged_bert_mean,
    "merged-bert-embedding": merged_bert_embedding,
    "merged-roberta-seqcls": merged_roberta_seqcls,
    "merged-llama-causal": merged_llama_causal,
    "merged-mistral-sliding": merged_mistral_sliding,
    "merged-qwen2-seqcls": merged_qwen2_seqcls,
    "run-lora-bert": run_lora_bert,
    "adalora-bert": adalora_bert,
    "pissa-llama": pissa_llama,
}


def record(artifacts, out):
    """Records every case of CASES from the artifacts in `artifacts` into `out`/<case>/expected.json."""
    torch.manual_seed(0)
    for name, recorder in CASES.items():
        doc = recorder(Path(artifacts).resolve())
        doc = {"case": name, "tolerance": doc.pop("tolerance", TOLERANCE), "versions": versions(), **doc}
        (Path(out) / name).mkdir(parents=True, exist_ok=True)
        write_json(Path(out) / name / "expected.json", doc)
        print(f"{name}: {', '.join(doc['outputs'])}")
    return list(CASES)
