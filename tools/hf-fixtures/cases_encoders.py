"""Encoder cases: AutoModel (hidden states, pooler) and AutoModelForSequenceClassification."""
import torch
from transformers import AutoModel, AutoModelForSequenceClassification

import case_writer as cw
import fixture_lib as fl
import tiny_tokenizers as tt

VOCAB = 128
T = 32
LABELS = dict(num_labels=3, id2label={0: "red", 1: "green", 2: "blue"}, label2id={"red": 0, "green": 1, "blue": 2})

BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
            max_position_embeddings=64, type_vocab_size=2, pad_token_id=0, hidden_act="gelu",
            layer_norm_eps=1e-12)
ROBERTA = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
               max_position_embeddings=T + 2, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               layer_norm_eps=1e-5)
MODERNBERT = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=2,
                  max_position_embeddings=64, local_attention=8, global_attn_every_n_layers=3, pad_token_id=0,
                  bos_token_id=2, cls_token_id=2, eos_token_id=3, sep_token_id=3)
DEBERTA_V3 = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                  max_position_embeddings=64, relative_attention=True, max_relative_positions=-1, position_buckets=8,
                  share_att_key=True, pos_att_type="p2c|c2p", norm_rel_ebd="layer_norm", position_biased_input=False,
                  type_vocab_size=0, pad_token_id=0, layer_norm_eps=1e-7, hidden_act="gelu")


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def encoder_outputs(model, inputs, pooled=True):
    with torch.no_grad():
        out = model(**inputs)
    if hasattr(out, "logits"):
        return {"logits": fl.array(out.logits)}, out.logits, "logits"
    res = {"last_hidden_state": fl.array(out.last_hidden_state)}
    if getattr(out, "pooler_output", None) is not None:
        res["pooler_output"] = fl.array(out.pooler_output)
    if pooled:
        res["mean_pooled"] = fl.array(mean_pool(out.last_hidden_state, inputs["attention_mask"]))
    return res, out.last_hidden_state, "last_hidden_state"


def encoder_case(root, name, auto_cls, model_type, cfg, description, rows=None, tokenizer=False, facts=None,
                 weights_seed=None, ablations=None):
    case = root / name
    fl.fresh_dir(case)
    model_dir = case / "model"
    inputs_doc = {}
    if tokenizer:
        texts, ids, mask, vocab = tt.bert_inputs(model_dir, T)
        cfg = dict(cfg, vocab_size=vocab)
        inputs_doc.update({"texts": texts, "padding_side": "right"})
        # the tokenizer files written above survive: build_and_save only clears a fresh directory
        saved = {p.name: p.read_bytes() for p in model_dir.iterdir()}
    seed = weights_seed if weights_seed is not None else cw.case_seed(name)
    cw.build_and_save(auto_cls, model_type, cfg, model_dir, seed)
    if tokenizer:
        for fname, data in saved.items():
            (model_dir / fname).write_bytes(data)
    else:
        ids, mask = rows
    inputs_doc.update({"input_ids": ids, "attention_mask": mask})
    model = fl.load(auto_cls, model_dir, "eager")
    inputs = fl.tensors(ids, mask)
    outputs, main, key = encoder_outputs(model, inputs)
    facts = dict(facts or {})
    facts["eager_vs_sdpa_max_abs_diff"] = fl._round(
        cw.cross_check(auto_cls, model_dir, None, inputs, key, main, inputs["attention_mask"] if key != "logits"
                       else None))
    if ablations:
        facts["ablation_max_abs_change"] = cw.ablation_effects(auto_cls, model_dir, inputs, key, main, ablations)
    facts["model_files"] = fl.safetensors_shapes(model_dir / "model.safetensors")
    doc = cw.expected_doc(name, description, type(model).__name__, auto_cls.__name__, "model", None, inputs_doc,
                          outputs, facts)
    fl.write_json(case / "expected.json", doc)
    return case


def bert_rows(seed):
    return fl.standard_rows(T, 80, seed, low=5, cls=2, sep=3)


def roberta_rows(seed):
    return fl.standard_rows(T, VOCAB, seed, low=3, cls=0, sep=2, pad=1)


def encoder_cases(root):
    made = []
    made.append(encoder_case(
        root, "bert-base", AutoModel, "bert", BERT,
        "BertModel (AutoModel): last_hidden_state, pooler_output (tanh(dense(h[CLS]))) and the attention-mask "
        "mean pool; WordLevel tokenizer [CLS] $A [SEP], right padding.", tokenizer=True, weights_seed=4321))
    made.append(encoder_case(
        root, "bert-seqcls", AutoModelForSequenceClassification, "bert", dict(BERT, vocab_size=80, **LABELS),
        "BertForSequenceClassification: CLS -> pooler dense+tanh -> classifier, labels red/green/blue. Row 2 is "
        "left-padded: BERT's positions are 0..T-1 whatever the padding, so its real tokens sit at positions 7..31.",
        rows=bert_rows(11)))
    made.append(encoder_case(
        root, "roberta-seqcls", AutoModelForSequenceClassification, "roberta", dict(ROBERTA, **LABELS),
        "RobertaForSequenceClassification: RobertaClassificationHead (h[<s>] -> dense -> tanh -> out_proj). "
        "Position ids are padding_idx+1+cumsum(input_ids != pad_token_id), so padding (id 1) on either side does "
        "not move positions; max_position_embeddings = T + 2.", rows=roberta_rows(12)))
    made.append(encoder_case(
        root, "xlm-roberta-seqcls", AutoModelForSequenceClassification, "xlm-roberta", dict(ROBERTA, **LABELS),
        "XLMRobertaForSequenceClassification: the RoBERTa architecture under model_type xlm-roberta.",
        rows=roberta_rows(13)))
    mb_rows = fl.standard_rows(T, VOCAB, 14, low=4, cls=2, sep=3)
    made.append(encoder_case(
        root, "modernbert-base", AutoModel, "modernbert", MODERNBERT,
        "ModernBertModel: layer_types [full, sliding, sliding] (global every 3rd layer from 0), local_attention 8 "
        "(bidirectional window |q-k| <= 4), rope theta 160000 global / 10000 local, LayerNorms without bias, "
        "GeGLU MLP (Wi -> input, gate), final_norm, no pooler.", rows=mb_rows,
        ablations={"local_window_covers_sequence": {"local_attention": 128},
                   "local_theta_160000": {"rope_parameters": {
                       "full_attention": {"rope_type": "default", "rope_theta": 160000.0},
                       "sliding_attention": {"rope_type": "default", "rope_theta": 160000.0}}}}))
    made.append(encoder_case(
        root, "modernbert-seqcls", AutoModelForSequenceClassification, "modernbert",
        dict(MODERNBERT, classifier_pooling="mean", **LABELS),
        "ModernBertForSequenceClassification with classifier_pooling mean (masked mean of the last hidden state) "
        "-> head (dense, gelu, LayerNorm) -> classifier.", rows=mb_rows))
    made.append(encoder_case(
        root, "modernbert-seqcls-cls", AutoModelForSequenceClassification, "modernbert",
        dict(MODERNBERT, classifier_pooling="cls", **LABELS),
        "ModernBertForSequenceClassification with classifier_pooling cls (Transformers' default): the first "
        "token's last hidden state -> head (dense, gelu, LayerNorm) -> classifier. Layer 0 is global, so [CLS] sees "
        "every real token there; the local layers give it only the tokens within local_attention // 2.",
        rows=mb_rows))
    db_rows = fl.standard_rows(T, VOCAB, 15, low=4, cls=1, sep=2)
    made.append(encoder_case(
        root, "deberta-v2-base", AutoModel, "deberta-v2", DEBERTA_V3,
        "DebertaV2Model with a DeBERTa-v3 style config: relative_attention, position_buckets 8, "
        "max_relative_positions -1 (= max_position_embeddings 64), share_att_key, pos_att_type p2c|c2p, "
        "norm_rel_ebd layer_norm, no absolute position input, type_vocab_size 0.", rows=db_rows,
        ablations={"max_relative_positions_128": {"max_relative_positions": 128},
                   "pos_att_type_c2p_only": {"pos_att_type": "c2p"}}))
    made.append(encoder_case(
        root, "deberta-v2-seqcls", AutoModelForSequenceClassification, "deberta-v2", dict(DEBERTA_V3, **LABELS),
        "DebertaV2ForSequenceClassification: ContextPooler (dense on h[0], then pooler_hidden_act gelu) -> "
        "classifier.", rows=db_rows))
    return made
