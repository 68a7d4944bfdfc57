"""The Hugging Face peer of the generation benchmark.

Runs the HF checkpoint's own greedy `generate` (KV cache, eager attention, float32, batch 1) on the
same images with the same prompt ids and EOS ids as vislens, and prints JSON: images, tokens,
seconds, tokens_per_s, ids (per image, to check both sides generated the same tokens).
Usage: hf_generate.py <bundle-dir> <hf-dir> <images.json> <threads> <max-new-tokens>
"""

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exporter"))

from vislens_export import preprocess  # noqa: E402
from vislens_export.archs import ARCHS, SUPPORTED, VisionSpec  # noqa: E402
from vislens_export.checkpoint import load_model, read_checkpoint  # noqa: E402
from vislens_export.generate_reference import greedy_generate  # noqa: E402
from vislens_export.runtime import BundleRunner  # noqa: E402


def main() -> None:
    bundle, hf_dir, images_file, threads, max_new = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    runner = BundleRunner(bundle)
    manifest = runner.manifest
    ckpt = read_checkpoint(hf_dir, SUPPORTED)
    arch, model = ARCHS[ckpt.architecture], load_model(ckpt)
    v = manifest["vision"]
    spec = VisionSpec(tuple(v["image_size"]), v["patch_size"], v["merge"], tuple(v["grid"]))
    eos = list(manifest["prompt"].get("eos_token_ids") or [])
    ids = runner.input_ids("")
    images = json.load(open(images_file))
    pixels = [preprocess.load(f, v["preprocess"]) for f in images]  # decoding is not timed on either side

    def run_all():
        return [greedy_generate(arch, model, spec, p, ids, max_new, eos) for p in pixels]

    run_all()  # warm-up
    start = time.perf_counter()
    out = run_all()
    seconds = time.perf_counter() - start
    tokens = sum(len(o) for o in out)
    print(json.dumps({"images": len(images), "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds, "ids": out}))


if __name__ == "__main__":
    main()
