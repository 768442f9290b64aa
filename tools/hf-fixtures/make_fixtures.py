"""Writes the Hugging Face interop fixtures of peft4j: tiny seeded checkpoints and adapters saved by
the standard Transformers / PEFT classes, with the outputs those classes compute (expected.json).

Developer tool, not a test dependency: run with the reference environment, see README.md.
    /path/to/venv/bin/python tools/hf-fixtures/make_fixtures.py [--out DIR] [--check-reproducible]
    /path/to/venv/bin/python tools/hf-fixtures/make_fixtures.py --peft4j ARTIFACTS   # the peft4j -> HF half
"""
import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import torch
import transformers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases_decoders  # noqa: E402
import cases_encoders  # noqa: E402
import cases_peft  # noqa: E402
import cases_peft4j  # noqa: E402
import cases_refusals  # noqa: E402
import manifest  # noqa: E402

DEFAULT_OUT = HERE.parent.parent / "runtime" / "src" / "test" / "resources" / "hf"
# the peft4j -> Hugging Face cases: artifacts peft4j writes, loaded by the standard classes
PEFT4J_OUT = DEFAULT_OUT.parent / "peft4j-hf"


def generate(out):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cwd = os.getcwd()
    # relative paths: adapter_config.json records base_model_name_or_path as given to from_pretrained
    os.chdir(out)
    try:
        root = Path(".")
        made = []
        made += cases_decoders.llama_cases(root)
        made += cases_decoders.family_cases(root)
        made += cases_decoders.decoder_seqcls_cases(root)
        made += cases_encoders.encoder_cases(root)
        made += cases_peft.adapter_cases(root)
        made += cases_refusals.refusal_cases(root)
        manifest.write(root, [str(c) for c in made], PEFT4J_OUT)
        return [str(c) for c in made]
    finally:
        os.chdir(cwd)


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    diffs = [str(Path(a) / f) for f in cmp.diff_files + cmp.left_only + cmp.right_only]
    for sub in cmp.common_dirs:
        diffs += same_tree(Path(a) / sub, Path(b) / sub)
    return diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output directory (default: %(default)s)")
    parser.add_argument("--check-reproducible", action="store_true",
                        help="generate twice, in two processes, into temporary directories and compare byte for byte")
    parser.add_argument("--peft4j", metavar="ARTIFACTS",
                        help="instead: record the peft4j -> Hugging Face cases from the artifacts Peft4jToHfSpec copied"
                             " to ARTIFACTS (-Dpeft4j.interop.out) into " + str(PEFT4J_OUT) + ", and rewrite CASES.md")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        # PEFT keeps target_modules in a set: its order in adapter_config.json follows string hashing
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    torch.set_num_threads(1)  # one thread: the same reduction order on every run
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    if args.peft4j:
        cases_peft4j.record(args.peft4j, PEFT4J_OUT)
        hf = sorted(p.parent.name for p in DEFAULT_OUT.glob("*/expected.json"))
        manifest.write(DEFAULT_OUT, manifest.ordered(DEFAULT_OUT, hf), PEFT4J_OUT)
        return 0
    if args.check_reproducible:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            for out in (a, b):  # separate processes: nothing carried over in memory
                subprocess.run([sys.executable, __file__, "--out", out], check=True)
            diffs = same_tree(a, b)
            print("reproducible: identical" if not diffs else "NOT reproducible:\n" + "\n".join(diffs))
            return 1 if diffs else 0
    made = generate(args.out)
    print(f"wrote {len(made)} cases to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
