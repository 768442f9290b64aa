"""PEFT adapter cases: each adapter is saved with PeftModel.save_pretrained and its expectations
come from PeftModel.from_pretrained over the base model loaded from disk."""
import copy
import shutil
import tempfile
from pathlib import Path

import torch
from peft import AdaLoraConfig, LoraConfig, get_peft_model
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

import case_writer as cw
import cases_encoders as ce
import fixture_lib as fl

CAUSAL = AutoModelForCausalLM
# Adapters over Llama sit on the plainest Llama (rope_theta only, 4.x config.json): an adapter case
# then tests adapter math, not a rope variant the base cases cover on their own.
LLAMA_BASE = "llama-v4config-theta"
SEQCLS = AutoModelForSequenceClassification


@torch.no_grad()
def perturb_trainable(model, seed, scale=0.3):
    """Stands in for training: every trainable parameter (lora_A/B, DoRA magnitudes, the copies of
    modules_to_save) moves by N(0, scale * (rms of the parameter, or 1 when it is zero))."""
    gen = torch.Generator().manual_seed(seed)
    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if p.requires_grad and p.numel():
            rms = float(p.pow(2).mean().sqrt()) or 1.0  # a zero lora_B moves by N(0, scale)
            p.add_(torch.randn(p.shape, generator=gen) * scale * rms)


def outputs_of(model, auto_cls, ids, mask, window=None):
    if auto_cls is CAUSAL:
        outputs, inputs, main = cw.causal_outputs(model, ids, mask, window)
        return outputs, inputs, main, "logits"
    inputs = fl.tensors(ids, mask)
    outputs, main, key = ce.encoder_outputs(model, inputs)
    return outputs, inputs, main, key


def base_inputs(root, base_case):
    doc = fl.read_json(root / base_case / "expected.json")
    return doc["inputs"]["input_ids"], doc["inputs"]["attention_mask"]


def adapter_facts(adapter_dir):
    cfg = fl.read_json(adapter_dir / "adapter_config.json")
    return {"adapter_config": cfg, "adapter_files": fl.safetensors_shapes(adapter_dir / "adapter_model.safetensors")}


def record(root, name, description, auto_cls, model_dir, adapter_dir, in_memory=None, facts=None, window=None,
           inputs_from=None):
    """Writes expected.json for model_dir + adapter_dir as PeftModel.from_pretrained loads them."""
    case = root / name
    ids, mask = base_inputs(root, inputs_from)
    peft_model = fl.load(auto_cls, model_dir, "eager", adapter_dir)
    outputs, inputs, main, key = outputs_of(peft_model, auto_cls, ids, mask, window)
    seq_mask = inputs["attention_mask"] if main.dim() == 3 else None
    facts = dict(facts or {})
    base = fl.load(auto_cls, model_dir, "eager")
    with torch.no_grad():
        facts["adapter_effect_max_abs"] = fl._round(fl.max_diff_on(getattr(base(**inputs), key), main, seq_mask))
        if in_memory is not None:
            in_memory.eval()
            facts["in_memory_vs_reloaded_max_abs"] = fl._round(
                fl.max_diff_on(getattr(in_memory(**inputs), key), main, seq_mask))
    if fl.rewrites_base(adapter_dir):
        plain = fl.load(auto_cls, model_dir, "eager", adapter_dir, plain=True)
        with torch.no_grad():
            facts["plain_from_pretrained_max_abs_diff"] = fl._round(
                fl.max_diff_on(getattr(plain(**inputs), key), main, seq_mask))
        facts["loading_note"] = ("PeftModel.from_pretrained runs the init named in adapter_config.json again on the "
                                 "base it is given (PEFT issue 2184), rewriting the residual weights a second time; "
                                 "the expectations load with init_lora_weights=True so the files mean "
                                 "base + adapter, which equals the in-memory model that was saved.")
    facts["eager_vs_sdpa_max_abs_diff"] = fl._round(
        cw.cross_check(auto_cls, model_dir, adapter_dir, inputs, key, main, seq_mask))
    facts.update(adapter_facts(adapter_dir))
    rel = lambda p: str(Path(p).relative_to(case)) if Path(p).is_relative_to(case) else "../" + str(
        Path(p).relative_to(root))
    doc = cw.expected_doc(name, description, type(peft_model.get_base_model()).__name__ + " + PeftModel",
                          auto_cls.__name__, rel(model_dir), rel(adapter_dir),
                          {"input_ids": ids, "attention_mask": mask}, outputs, facts)
    fl.write_json(case / "expected.json", doc)
    return case


def lora_case(root, name, base_case, auto_cls, config, description, perturb=True, window=None):
    case = fl.fresh_dir(root / name)
    model_dir = root / base_case / "model"
    seed = cw.case_seed(name)
    fl.seed_all(seed)
    model = get_peft_model(fl.load(auto_cls, model_dir, "eager"), config)
    if perturb:
        perturb_trainable(model, seed)
    model.save_pretrained(case / "adapter")
    if perturb:
        description += " Every trainable parameter (lora_A/B, magnitudes, modules_to_save copies) was perturbed " \
                       "after get_peft_model, standing in for training."
    return record(root, name, description, auto_cls, model_dir, case / "adapter", in_memory=model, window=window,
                  inputs_from=base_case)


def converted_pair(root, name, init, description):
    """PiSSA / OLoRA: the init rewrites the base weights (W_res = W - scaling * B A); the adapter
    for the residual base, and the plain-LoRA adapter for the original base that PEFT converts it to
    through path_initial_model_for_weight_conversion."""
    base_case = LLAMA_BASE
    orig_dir = root / base_case / "model"
    case = fl.fresh_dir(root / name)
    seed = cw.case_seed(name)
    fl.seed_all(seed)
    cfg = LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                     init_lora_weights=init)
    original = fl.load(CAUSAL, orig_dir, "eager")
    w0 = original.model.layers[0].self_attn.q_proj.weight.detach().clone()
    model = get_peft_model(original, cfg)
    with tempfile.TemporaryDirectory() as tmp:
        initial = Path(tmp) / "initial"
        model.peft_config["default"].init_lora_weights = True
        model.save_pretrained(initial)
        model.peft_config["default"].init_lora_weights = init
        residual = copy.deepcopy(model).unload()
        residual.save_pretrained(case / "model")
        w_res = residual.model.layers[0].self_attn.q_proj.weight.detach()
        perturb_trainable(model, seed)
        model.save_pretrained(case / "adapter")
        conv = fl.fresh_dir(root / (name + "-converted"))
        model.save_pretrained(conv / "adapter", path_initial_model_for_weight_conversion=str(initial))
    facts = {"base_weight_change_max_abs": fl._round(float((w_res - w0).abs().max())),
             "base_weight_change_note": "model/ holds the residual base that the init wrote back into the "
                                        "targeted Linear weights; untargeted weights are unchanged"}
    a = record(root, name, description + " Adapter over the residual base (model/).", CAUSAL, case / "model",
               case / "adapter", in_memory=model, facts=facts, inputs_from=base_case)
    b = record(root, name + "-converted",
               description + " The same trained adapter converted by PEFT (path_initial_model_for_weight_"
               "conversion) to plain LoRA of rank 2r over the original base.", CAUSAL, orig_dir,
               conv / "adapter", in_memory=None, inputs_from=base_case)
    return [a, b]


def init_case(root, init):
    """A LoRA adapter saved right after get_peft_model with one init_lora_weights value, untrained."""
    label = str(init).lower() if not isinstance(init, bool) else ("true" if init else "false")
    name = "lora-init-" + label.replace("_", "-")
    base_case = LLAMA_BASE
    orig_dir = root / base_case / "model"
    case = fl.fresh_dir(root / name)
    fl.seed_all(cw.case_seed(name))
    cfg = LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                     init_lora_weights=init)
    original = fl.load(CAUSAL, orig_dir, "eager")
    w0 = original.model.layers[0].self_attn.q_proj.weight.detach().clone()
    model = get_peft_model(original, cfg)
    model_dir = orig_dir
    facts = {"init_lora_weights": init}
    w_now = model.base_model.model.model.layers[0].self_attn.q_proj.base_layer.weight.detach()
    change = float((w_now - w0).abs().max())
    facts["base_weight_change_max_abs"] = fl._round(change)
    if change > 0:
        copy.deepcopy(model).unload().save_pretrained(case / "model")
        model_dir = case / "model"
        twin = root / ("lora-llama-" + label) / "model"
        if twin.exists() and all((twin / f).read_bytes() == (model_dir / f).read_bytes()
                                 for f in ("config.json", "model.safetensors")):
            # the same deterministic init over the same base: share the trained case's residual base
            shutil.rmtree(model_dir)
            model_dir = twin
    model.save_pretrained(case / "adapter")
    desc = (f"LoRA r=4 alpha=8 on q_proj,v_proj of {LLAMA_BASE} saved untrained with init_lora_weights="
            f"{init!r}" + ("; the init rewrote the base weights, model/ holds the residual base." if change > 0
                           else "; the base is untouched."))
    return record(root, name, desc, CAUSAL, model_dir, case / "adapter", in_memory=model, facts=facts,
                  inputs_from=base_case)


def adalora_case(root, name, base_case, auto_cls, task_type, targets, description, target_r=1):
    """AdaLoRA trained for a few steps with update_and_allocate until the budget is final; the saved
    tensors are cut to the kept ranks (rank_pattern), so a module that kept none has zero-size tensors."""
    case = fl.fresh_dir(root / name)
    model_dir = root / base_case / "model"
    seed = cw.case_seed(name)
    fl.seed_all(seed)
    total = 8
    cfg = AdaLoraConfig(task_type=task_type, init_r=4, target_r=target_r, tinit=1, tfinal=3, deltaT=1,
                        total_step=total, lora_alpha=8, target_modules=targets)
    model = get_peft_model(fl.load(auto_cls, model_dir, "eager"), cfg)
    ids, mask = base_inputs(root, base_case)
    inputs = fl.tensors(ids, mask)
    if auto_cls is CAUSAL:
        labels = inputs["input_ids"].masked_fill(inputs["attention_mask"] == 0, -100)
    else:
        labels = torch.arange(len(ids)) % 3
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.05)
    for step in range(total):
        model(**inputs, labels=labels).loss.backward()
        opt.step()
        model.base_model.update_and_allocate(step)
        opt.zero_grad()
    pattern = model.peft_config["default"].rank_pattern
    ranks = {k: int(sum(v)) for k, v in pattern.items()}
    if 0 not in ranks.values() or len(set(ranks.values())) < 3:
        raise RuntimeError(f"{name}: the allocation did not give a zero-rank module and two other ranks: {ranks}")
    model.save_pretrained(case / "adapter")
    zero = [k for k, r in ranks.items() if r == 0]
    facts = {"ranks_kept": ranks, "zero_rank_modules": zero,
             "training": f"AdamW lr 0.05, {total} steps on the case inputs, update_and_allocate every step"}
    return record(root, name, description, auto_cls, model_dir, case / "adapter", in_memory=model, facts=facts,
                  inputs_from=base_case)


LLAMA_QV = dict(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])


def adapter_cases(root):
    made = []
    made.append(lora_case(root, "lora-llama-causal", LLAMA_BASE, CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", **LLAMA_QV),
                          "LoRA CAUSAL_LM r=4 alpha=8 (scaling 2) on q_proj,v_proj of " + LLAMA_BASE + "."))
    made.append(lora_case(root, "lora-llama-dora", LLAMA_BASE, CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", use_dora=True, **LLAMA_QV),
                          "DoRA (use_dora) r=4 alpha=8 on q_proj,v_proj: W' = m * (W + s*B*A) / ||W + s*B*A||_row, "
                          "the norm over each output row (dim 1), magnitude saved as lora_magnitude_vector."))
    made.append(lora_case(root, "lora-llama-rslora", LLAMA_BASE, CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", use_rslora=True, **LLAMA_QV),
                          "rsLoRA (use_rslora) r=4 alpha=8: scaling alpha/sqrt(r) = 4 instead of alpha/r = 2."))
    made.append(lora_case(root, "lora-bert-seqcls", "bert-seqcls", SEQCLS,
                          LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"]),
                          "LoRA SEQ_CLS on BertForSequenceClassification query,value; PEFT adds classifier and "
                          "score to modules_to_save, the trained classifier copy is saved in the adapter."))
    made.append(lora_case(root, "lora-roberta-seqcls", "roberta-seqcls", SEQCLS,
                          LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"]),
                          "LoRA SEQ_CLS on RobertaForSequenceClassification query,value; the whole "
                          "RobertaClassificationHead (classifier.dense, classifier.out_proj) is a modules_to_save "
                          "copy."))
    made.append(lora_case(root, "lora-bert-embedding", "bert-base", AutoModel,
                          LoraConfig(task_type="FEATURE_EXTRACTION", r=4, lora_alpha=8, target_modules="all-linear"),
                          "LoRA FEATURE_EXTRACTION with target_modules all-linear on BertModel (AutoModel): every "
                          "Linear incl. pooler.dense; expected mean-pooled sentence embeddings, last_hidden_state "
                          "and pooler_output."))
    made.append(lora_case(root, "lora-qwen3", "qwen3", CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8,
                                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
                          "LoRA CAUSAL_LM on qwen3 q/k/v/o_proj (q_proj and o_proj are 32<->64: head_dim*heads != "
                          "hidden)."))
    made.append(lora_case(root, "lora-gemma3", "gemma3-text", CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8,
                                     target_modules=["q_proj", "v_proj", "down_proj"]),
                          "LoRA CAUSAL_LM on gemma3-text q_proj, v_proj, down_proj.", window=8))
    made.append(lora_case(root, "lora-smollm3", "smollm3", CAUSAL,
                          LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8,
                                     target_modules=["q_proj", "v_proj", "gate_proj", "up_proj", "down_proj"]),
                          "LoRA CAUSAL_LM on smollm3 q_proj, v_proj and the MLP (PEFT has no default target_modules "
                          "for smollm3: a recipe must name them)."))
    made.append(lora_case(root, "lora-modernbert-seqcls", "modernbert-seqcls", SEQCLS,
                          LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["Wqkv", "attn.Wo"]),
                          "LoRA SEQ_CLS on ModernBERT fused Wqkv and attn.Wo (not mlp.Wo); modules_to_save gets "
                          "classifier only: the `head` (dense, LayerNorm) stays the frozen base."))
    made.append(lora_case(root, "lora-deberta-v2-seqcls", "deberta-v2-seqcls", SEQCLS,
                          LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query_proj", "value_proj"]),
                          "LoRA SEQ_CLS on DeBERTa-v2 query_proj,value_proj (share_att_key: the LoRA on query_proj "
                          "also acts on the relative-position projections); classifier in modules_to_save, the "
                          "ContextPooler stays frozen."))
    made.append(adalora_case(root, "adalora-llama", LLAMA_BASE, CAUSAL, "CAUSAL_LM",
                             ["q_proj", "k_proj", "v_proj", "o_proj"],
                             "AdaLoRA CAUSAL_LM init_r 4 target_r 1 on q/k/v/o_proj, trained until the final budget; "
                             "modules keep different ranks, at least one keeps none."))
    made.append(adalora_case(root, "adalora-bert-seqcls", "bert-seqcls", SEQCLS, "SEQ_CLS",
                             ["query", "key", "value", "attention.output.dense"],
                             "AdaLoRA SEQ_CLS init_r 4 target_r 1 on BERT query/key/value/attention.output.dense "
                             "with the classifier in modules_to_save; at least one module keeps no rank."))
    made += converted_pair(root, "lora-llama-pissa", "pissa",
                           "PiSSA (init_lora_weights pissa, r=4 alpha=8, q_proj,v_proj) then perturbed as training.")
    made += converted_pair(root, "lora-llama-olora", "olora",
                           "OLoRA (init_lora_weights olora, r=4 alpha=8, q_proj,v_proj) then perturbed as training.")
    for init in [True, False, "gaussian", "pissa", "pissa_niter_4", "olora", "orthogonal", "mica"]:
        made.append(init_case(root, init))
    return made
