"""Writes CASES.md, the manifest of the suite, from the expected.json files just written."""
from pathlib import Path

import fixture_lib as fl

HEADER = """# Hugging Face interop fixtures

Written by `tools/hf-fixtures/make_fixtures.py` (do not edit by hand; re-run the tool). Each case
directory holds `expected.json`: the inputs, the outputs of the standard Transformers / PEFT class
(fp32, eval mode, eager attention) loaded back from the files, the library versions and facts about
the files. `model_dir` and `adapter_dir` in it are relative to the case directory; adapter cases
over an unchanged base point at that base case's `model/`.

Outputs: `logits` (classifiers, full), `logits_at` (causal LMs: chosen `[row, position]` pairs),
`nll` (causal LMs: per-row mean next-token NLL over real tokens), `loss` (the batch loss HF returns
for labels = input_ids with -100 at padding), `argmax` (per row, over real positions),
`with_position_ids` (causal LMs: the same batch run with generate-style position_ids, counting
real tokens), `last_hidden_state`, `pooler_output`, `mean_pooled` (encoders). Arrays are
`{"shape": [...], "data": [row-major floats]}`. Values at padded positions of a causal LM are not
given; for encoders they are (they are what the class computes), but only real positions carry
meaning.

Tolerance: max absolute difference 1e-4 on every given value (`facts.eager_vs_sdpa_max_abs*`
shows the float noise floor of each case, ~1e-6). A refusal case passes when the implementation
refuses with an error that names the cause (the reference's own error is in `outputs.error`).

Not generated (PEFT 0.21 on CPU without extra packages or data): `init_lora_weights="corda"`
(needs `preprocess_corda` with calibration data), `"eva"` (needs `initialize_lora_eva_weights` with a
data loader; without it B stays zero), `"loftq"` (needs bitsandbytes), `"lora_ga"` (needs the
gradient-estimation step with data; without it B stays zero).

| case | what it covers | class | model / adapter | tolerance | refusal |
|---|---|---|---|---|---|
"""


PEFT4J_HEADER = """
## peft4j → Hugging Face (`../peft4j-hf/`)

The other direction: artifacts peft4j writes (merged directories, adapters a run saves, an AdaLoRA
adapter and its LoRA export, a PiSSA adapter), rebuilt the same on every machine by
`Peft4jArtifacts.groovy` over the tiny models above, loaded by the standard classes a Hugging Face
user would. Recorded with `make_fixtures.py --peft4j DIR` from the artifacts that
`Peft4jToHfSpec` copies to DIR under `-Dpeft4j.interop.out=DIR`; the spec rebuilds each artifact,
checks its files (tensor names and shapes, listings, config fields) against `expected.json`, and
compares peft4j's own outputs with the recorded ones.

| case | what it covers | loaded by | tolerance |
|---|---|---|---|
"""


def ordered(root, names):
    """`names` in the order of the table in root/CASES.md (the order the generator made them), new ones last."""
    listed = []
    manifest = Path(root) / "CASES.md"
    if manifest.is_file():
        for line in manifest.read_text().splitlines():
            if line.startswith("| `") and "`" in line[3:]:
                listed.append(line[3:line.index("`", 3)])
    return [n for n in listed if n in names] + sorted(n for n in names if n not in listed)


def write(root, cases, peft4j_root=None):
    rows = []
    for c in cases:
        doc = fl.read_json(Path(root) / c / "expected.json")
        where = doc["model_dir"] + (" + " + doc["adapter_dir"] if doc["adapter_dir"] else "")
        desc = doc["description"].replace("|", "/")
        rows.append(f"| `{doc['case']}` | {desc} | {doc['reference_class']} | `{where}` | {doc['tolerance']:g} | "
                    f"{'yes' if doc['refusal'] else 'no'} |")
    text = HEADER + "\n".join(rows) + "\n"
    peft4j = sorted(Path(peft4j_root).glob("*/expected.json")) if peft4j_root else []
    if peft4j:
        lines = []
        for f in peft4j:
            doc = fl.read_json(f)
            lines.append(f"| `{doc['case']}` | {doc['description'].replace('|', '/')} | {doc['reference']} | "
                         f"{doc['tolerance']:g} |")
        text += PEFT4J_HEADER + "\n".join(lines) + "\n"
    (Path(root) / "CASES.md").write_text(text)
