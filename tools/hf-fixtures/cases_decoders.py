"""Decoder cases: AutoModelForCausalLM and decoder AutoModelForSequenceClassification."""
import torch
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

import case_writer as cw
import fixture_lib as fl
import tiny_tokenizers as tt

VOCAB = 128
T = 40

LLAMA = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
             num_key_value_heads=1, max_position_embeddings=64, pad_token_id=fl.PAD, bos_token_id=fl.BOS,
             eos_token_id=fl.EOS, rms_norm_eps=1e-6)


def causal_case(root, name, model_type, cfg, description, t=T, window=None, weights_seed=None, post_save=None,
                tokenizer=None, facts=None, ablations=None):
    case = root / name
    fl.fresh_dir(case)
    model_dir = case / "model"
    seed = weights_seed if weights_seed is not None else cw.case_seed(name)
    cw.build_and_save(AutoModelForCausalLM, model_type, cfg, model_dir, seed)
    if post_save:
        post_save(model_dir)
    inputs_doc = {}
    if tokenizer:
        texts, ids, mask = tokenizer(model_dir, t)
        inputs_doc["texts"] = texts
        inputs_doc["padding_side"] = "right"
    else:
        ids, mask = fl.standard_rows(t, cfg["vocab_size"], cw.case_seed(name) + 1, low=fl.FIRST_WORD_ID)
    inputs_doc.update({"input_ids": ids, "attention_mask": mask})
    model = fl.load(AutoModelForCausalLM, model_dir, "eager")
    outputs, inputs, logits = cw.causal_outputs(model, ids, mask, window)
    facts = dict(facts or {})
    facts["eager_vs_sdpa_max_abs_logit_diff"] = fl._round(
        cw.cross_check(AutoModelForCausalLM, model_dir, None, inputs, "logits", logits, inputs["attention_mask"]))
    facts["attention_sharpness"] = fl._round(fl.attention_sharpness(model, inputs))
    if ablations:
        facts["ablation_max_abs_logit_change"] = cw.ablation_effects(AutoModelForCausalLM, model_dir, inputs,
                                                                     "logits", logits, ablations)
    facts["reference_attn_implementation"] = "eager"
    facts["model_files"] = fl.safetensors_shapes(model_dir / "model.safetensors")
    doc = cw.expected_doc(name, description, type(model).__name__, "AutoModelForCausalLM", "model", None,
                          inputs_doc, outputs, facts)
    fl.write_json(case / "expected.json", doc)
    return case


def seqcls_case(root, name, model_type, cfg, description, t=T, rows=None, facts=None):
    """A decoder with the `score` head: logits of the last token that is not pad_token_id."""
    case = root / name
    fl.fresh_dir(case)
    model_dir = case / "model"
    cfg = dict(cfg, num_labels=3, id2label={0: "red", 1: "green", 2: "blue"},
               label2id={"red": 0, "green": 1, "blue": 2})
    cw.build_and_save(AutoModelForSequenceClassification, model_type, cfg, model_dir, cw.case_seed(name))
    ids, mask = rows if rows else fl.standard_rows(t, cfg["vocab_size"], cw.case_seed(name) + 1)
    model = fl.load(AutoModelForSequenceClassification, model_dir, "eager")
    inputs = fl.tensors(ids, mask)
    with torch.no_grad():
        logits = model(**inputs).logits
    facts = dict(facts or {})
    facts["eager_vs_sdpa_max_abs_logit_diff"] = fl._round(
        cw.cross_check(AutoModelForSequenceClassification, model_dir, None, inputs, "logits", logits, None))
    pad = model.config.pad_token_id
    facts["scored_token_index"] = [max(i for i, tok in enumerate(r) if tok != pad) for r in ids]
    facts["model_files"] = fl.safetensors_shapes(model_dir / "model.safetensors")
    doc = cw.expected_doc(name, description, type(model).__name__, "AutoModelForSequenceClassification", "model",
                          None, {"input_ids": ids, "attention_mask": mask}, {"logits": fl.array(logits)}, facts)
    fl.write_json(case / "expected.json", doc)
    return case


def record_softcap_effects(case):
    """Max logit change when each softcap is switched off in the loaded config."""
    doc = fl.read_json(case / "expected.json")
    inputs = fl.tensors(doc["inputs"]["input_ids"], doc["inputs"]["attention_mask"])
    ref = fl.load(AutoModelForCausalLM, case / "model")
    effects = {}
    with torch.no_grad():
        want = ref(**inputs).logits
        for field in ("attn_logit_softcapping", "final_logit_softcapping"):
            off = AutoModelForCausalLM.from_pretrained(case / "model", dtype=torch.float32,
                                                       attn_implementation="eager", **{field: None}).eval()
            effects[field] = fl._round(fl.max_diff_on(off(**inputs).logits, want, inputs["attention_mask"]))
    doc["facts"]["softcap_effects"] = effects
    fl.write_json(case / "expected.json", doc)


def _v4_llama_config(rope_theta, rope_scaling):
    """config.json as Transformers 4.4x wrote it for Llama: rope_theta and rope_scaling at top level."""
    def edit(cfg):
        cfg.pop("rope_parameters")
        cfg.pop("dtype", None)
        cfg["rope_theta"] = rope_theta
        cfg["rope_scaling"] = rope_scaling
        cfg["torch_dtype"] = "float32"
        cfg["transformers_version"] = "4.46.3"
        return cfg
    return lambda model_dir: cw.rewrite_config(model_dir, edit)


def _v4_gemma3_config(model_dir):
    """config.json as Transformers 4.5x wrote it for Gemma 3: rope fields at top level, sliding_window_pattern."""
    def edit(cfg):
        per_type = cfg.pop("rope_parameters")
        full = per_type["full_attention"]
        cfg.pop("dtype", None)
        cfg.pop("layer_types")
        cfg.pop("_sliding_window_pattern", None)
        cfg["sliding_window_pattern"] = 2
        cfg["rope_theta"] = full["rope_theta"]
        cfg["rope_local_base_freq"] = per_type["sliding_attention"]["rope_theta"]
        cfg["rope_scaling"] = {"factor": full["factor"], "rope_type": full["rope_type"]}
        cfg["torch_dtype"] = "float32"
        cfg["transformers_version"] = "4.53.0"
        return cfg
    cw.rewrite_config(model_dir, edit)


LLAMA_WEIGHTS = 1234  # all Llama rope cases share weights: they differ only in config.json


def llama_cases(root):
    made = []

    def rope(name, params, desc, cfg_over=None, t=T, **kw):
        cfg = dict(LLAMA, rope_parameters=params, **(cfg_over or {}))
        plain = {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}}
        if name.startswith("llama-v4config"):
            plain = {"rope_scaling": {"rope_type": "default", "rope_theta": 10000.0}}
        made.append(causal_case(root, name, "llama", cfg, desc, t=t, weights_seed=LLAMA_WEIGHTS,
                                ablations={"rope_default_theta_10000": plain}, **kw))

    rope("llama-rope-default", {"rope_type": "default", "rope_theta": 1000.0},
         "Llama, Transformers-5 rope_parameters, rope_type default with rope_theta 1000 (not 10000); "
         "GQA 2 query heads over 1 KV head; untied lm_head; tiny BPE tokenizer with BOS.",
         tokenizer=tt.llama_bpe_inputs)
    rope("llama-rope-linear", {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
         "Llama, rope_type linear factor 2: every inverse frequency divided by 2.")
    rope("llama-rope-dynamic", {"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0},
         "Llama, rope_type dynamic (NTK) factor 2 with max_position_embeddings 32 < sequence 40: the base is "
         "recomputed from seq_len = max(position_ids)+1 = 40 as theta*((factor*seq_len/max_pos)-(factor-1))^(d/(d-2)).",
         cfg_over={"max_position_embeddings": 32})
    rope("llama-rope-llama3", {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
         "Llama, rope_type llama3 (factor 8, low 1, high 4, original_max_position_embeddings 32): with head_dim 16 "
         "frequency 0 is kept, 1 is smoothed, 2..7 are divided by 8.")
    rope("llama-rope-yarn", {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                             "original_max_position_embeddings": 64},
         "Llama, rope_type yarn factor 4, original_max_position_embeddings 64 (max_position_embeddings 256): "
         "ramp between dims 0..3, attention_factor 0.1*ln(4)+1 multiplies cos and sin.",
         cfg_over={"max_position_embeddings": 256})
    rope("llama-v4config-theta", {"rope_type": "default", "rope_theta": 500000.0},
         "Llama with a Transformers 4.x config.json written by hand: top-level rope_theta 500000, rope_scaling null, "
         "torch_dtype; Transformers 5.17 converts it to rope_parameters when loading.",
         post_save=_v4_llama_config(500000.0, None))
    rope("llama-v4config-llama3", {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                   "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                   "original_max_position_embeddings": 16},
         "Llama with a Transformers 4.x config.json (as Llama 3.2 ships): rope_theta 500000 and "
         "rope_scaling {rope_type: llama3, factor 8, low 1, high 4, original_max_position_embeddings 16}.",
         post_save=_v4_llama_config(500000.0, {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                               "original_max_position_embeddings": 16, "rope_type": "llama3"}))
    rope("llama-v4config-linear-type", {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
         "Llama with a pre-4.45 config.json: rope_scaling uses the old key 'type' ({type: linear, factor: 2}).",
         post_save=_v4_llama_config(10000.0, {"type": "linear", "factor": 2.0}))
    made.append(causal_case(
        root, "llama-tied-eos-list", "llama",
        dict(LLAMA, tie_word_embeddings=True, eos_token_id=[2, 3], rope_parameters={"rope_type": "default",
                                                                                    "rope_theta": 10000.0}),
        "Llama with tie_word_embeddings true (save_pretrained writes no lm_head.weight: the output matrix is "
        "model.embed_tokens.weight) and eos_token_id a list [2, 3]."))
    return made


def family_cases(root):
    made = []
    qwen2 = dict(LLAMA, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, max_position_embeddings=64)
    made.append(causal_case(root, "qwen2", "qwen2", qwen2,
                            "Qwen2: q/k/v projections with bias, o_proj without; rope_theta 1e6; untied."))
    made.append(causal_case(
        root, "qwen2-sliding", "qwen2",
        dict(qwen2, num_hidden_layers=3, use_sliding_window=True, sliding_window=8, max_window_layers=1),
        "Qwen2 with use_sliding_window true, sliding_window 8, max_window_layers 1, 3 layers: Transformers 5.17 "
        "honours it; layer_types = [full, sliding, sliding] (layers i >= max_window_layers slide). A query at "
        "position q sees keys k with q-8 < k <= q.", window=8,
        ablations={"all_layers_full_attention": {"layer_types": ["full_attention"] * 3}}))
    made.append(causal_case(
        root, "mistral-sliding", "mistral",
        dict(LLAMA, sliding_window=8, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        "Mistral with sliding_window 8 < sequence 40 on every layer: keys k with q-8 < k <= q.", window=8,
        ablations={"sliding_window_null": {"sliding_window": None}}))
    gpt2 = dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=64, bos_token_id=fl.BOS,
                eos_token_id=fl.EOS, pad_token_id=fl.PAD)
    made.append(causal_case(root, "gpt2", "gpt2", gpt2,
                            "GPT-2: learned positions, Conv1D weights stored (in, out), fused c_attn, "
                            "tied lm_head (no lm_head.weight in the file)."))
    qwen3 = dict(LLAMA, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0})
    made.append(causal_case(root, "qwen3", "qwen3", qwen3,
                            "Qwen3: per-head RMSNorm q_norm/k_norm on head_dim before rotary; head_dim 16 with 4 "
                            "heads over hidden 32 (q_proj 32->64); no qkv bias; rope_theta 1e6."))
    gemma3 = dict(LLAMA, num_hidden_layers=3, head_dim=16, query_pre_attn_scalar=24, sliding_window=8,
                  layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                  hidden_activation="gelu_pytorch_tanh",
                  rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                   "full_attention": {"rope_type": "linear", "factor": 8.0,
                                                      "rope_theta": 1000000.0}})
    made.append(causal_case(
        root, "gemma3-text", "gemma3_text", gemma3,
        "Gemma3ForCausalLM (gemma3_text): layer_types [sliding, full, sliding], sliding_window 8, rope per layer "
        "type (sliding: default theta 1e4; full: linear factor 8 theta 1e6), query_pre_attn_scalar 24 "
        "(scores * 24^-0.5), (1+w) RMSNorm incl. q_norm/k_norm, 4 norms per layer, embeddings * sqrt(hidden), "
        "tied lm_head, no softcapping.", window=8,
        ablations={"all_layers_full_attention": {"layer_types": ["full_attention"] * 3},
                   "query_pre_attn_scalar_16": {"query_pre_attn_scalar": 16}}))
    softcap = causal_case(
        root, "gemma3-softcap", "gemma3_text",
        dict(gemma3, attn_logit_softcapping=5.0, final_logit_softcapping=3.0),
        "Gemma3 text with attn_logit_softcapping 5 and final_logit_softcapping 3. The final softcap applies "
        "(logits -> 3*tanh(logits/3)); the attention softcap has no effect in Transformers 5.17: Gemma3Attention "
        "never passes it to the attention function, eager or sdpa (facts.softcap_effects measures both).", window=8)
    record_softcap_effects(softcap)
    made.append(softcap)
    made.append(causal_case(
        root, "gemma3-v4config", "gemma3_text", gemma3,
        "Gemma3 text with a Transformers 4.x config.json (as Gemma 3 checkpoints ship): top-level rope_theta 1e6, "
        "rope_local_base_freq 1e4 and rope_scaling {rope_type: linear, factor 8} (for full_attention layers only), "
        "no layer_types but sliding_window_pattern 2, so layers (i+1) % 2 != 0 slide: [sliding, full, sliding]; "
        "the same weights as gemma3-text.", window=8, weights_seed=cw.case_seed("gemma3-text"),
        post_save=_v4_gemma3_config))
    smol = dict(LLAMA, num_hidden_layers=3, no_rope_layers=[1, 0, 1],
                rope_parameters={"rope_type": "default", "rope_theta": 2000000.0})
    made.append(causal_case(root, "smollm3", "smollm3", smol,
                            "SmolLM3: no_rope_layers [1, 0, 1] (1 = the layer uses rotary; layer 1 has none, "
                            "NoPE), rope_theta 2e6, tied lm_head by default.",
                            ablations={"rope_on_every_layer": {"no_rope_layers": [1, 1, 1]}}))
    return made


def decoder_seqcls_cases(root):
    made = []
    rows_ids, rows_mask = fl.standard_rows(T, VOCAB, 77)
    rows_ids[0][-1] = fl.EOS  # a real EOS at the end of row 0, with pad_token_id = EOS
    made.append(seqcls_case(
        root, "llama-seqcls", "llama",
        dict(LLAMA, pad_token_id=fl.EOS, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
        "LlamaForSequenceClassification, 3 labels red/green/blue, pad_token_id = eos (2). The score head reads the "
        "rightmost token whose id != pad_token_id (not the attention mask): row 0 ends with a real EOS "
        "(attention_mask 1), so its logits come from the token before it.",
        rows=(rows_ids, rows_mask)))
    made.append(seqcls_case(root, "qwen2-seqcls", "qwen2",
                            dict(LLAMA, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
                            "Qwen2ForSequenceClassification, pad_token_id 0, left- and right-padded rows."))
    made.append(seqcls_case(root, "gpt2-seqcls", "gpt2",
                            dict(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=2, n_positions=64,
                                 bos_token_id=fl.BOS, eos_token_id=fl.EOS, pad_token_id=fl.PAD),
                            "GPT2ForSequenceClassification (score head, no bias), pad_token_id 0."))
    made.append(seqcls_case(root, "qwen3-seqcls", "qwen3",
                            dict(LLAMA, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                 rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
                            "Qwen3ForSequenceClassification, pad_token_id 0."))
    made.append(seqcls_case(root, "gemma3-seqcls", "gemma3_text",
                            dict(LLAMA, num_hidden_layers=3, head_dim=16, query_pre_attn_scalar=24, sliding_window=8,
                                 layer_types=["sliding_attention", "full_attention", "sliding_attention"]),
                            "Gemma3TextForSequenceClassification (the class AutoModelForSequenceClassification "
                            "maps gemma3_text to), default per-type rope (theta 1e4 sliding / 1e6 full), "
                            "sliding_window 8."))
    made.append(seqcls_case(root, "smollm3-seqcls", "smollm3", dict(LLAMA, num_hidden_layers=3,
                                                                  no_rope_layers=[1, 0, 1]),
                            "SmolLM3ForSequenceClassification, no_rope_layers [1, 0, 1], pad_token_id 0."))
    return made
