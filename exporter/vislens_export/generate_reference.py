"""Greedy captions of the HF checkpoint itself, stored as reference outputs for the runtime's `generate`.

python -m vislens_export.generate_reference <bundle-dir> --hf <hf-dir> --images <dir|png ...>
    [--prompt ""] [--max-new-tokens 50] --out <greedy.json>

Each image is preprocessed by the bundle's manifest (as the runtime does) and its prompt built by the
bundle's conventions (template, BOS); then the HF model runs its own `generate` with greedy decoding
(do_sample=False, num_beams=1), stopping at the manifest's `prompt.eos_token_ids` (none: only at
--max-new-tokens). The JSON holds, per image, the generated token ids (the EOS id included when
generation ended on it, as HF returns them), the text (the ids decoded without that final EOS, special
tokens kept) and why it stopped. Image paths are stored relative to the JSON file's directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from . import preprocess
from .archs import ARCHS, SUPPORTED, VisionSpec
from .checkpoint import checkpoint_sha256, load_model, read_checkpoint
from .errors import ExportError
from .runtime import BundleRunner

FORMAT = "vislens-greedy-reference"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


def image_files(sources: list[Path]) -> list[Path]:
    """Files as given; a directory contributes its image files in name order."""
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif src.is_file():
            files.append(src)
        else:
            raise ExportError(f"{src}: no such image file or directory")
    if not files:
        raise ExportError(f"{', '.join(map(str, sources))}: no images found")
    return files


@torch.no_grad()
def greedy_generate(arch, model, spec: VisionSpec, pixel_values, ids: list[int], max_new_tokens: int, eos: list[int]) -> list[int]:
    """HF `generate`, greedy, for one image; returns the new ids (padding after an EOS removed)."""
    input_ids = torch.tensor([ids])
    pad = eos[0] if eos else 0  # never emitted for a single row: generation stops at the first EOS
    out = model.generate(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        **arch.hf_inputs(model, spec, torch.from_numpy(pixel_values), input_ids),
        max_new_tokens=max_new_tokens,
        do_sample=False,
        num_beams=1,
        eos_token_id=eos or None,
        pad_token_id=pad,
    )
    new = out[0, len(ids) :].tolist()
    for i, t in enumerate(new):
        if t in eos:
            return new[: i + 1]
    return new


def write_greedy_reference(bundle: Path, hf_dir: Path, images: list[Path], prompt: str, max_new_tokens: int, out: Path) -> dict:
    if max_new_tokens < 1:
        raise ExportError(f"--max-new-tokens must be at least 1, got {max_new_tokens}")
    runner = BundleRunner(bundle)
    manifest = runner.manifest
    ckpt = read_checkpoint(hf_dir, SUPPORTED)
    if ckpt.architecture != manifest["architecture"]:
        raise ExportError(f"{hf_dir}: is a {ckpt.architecture}, the bundle a {manifest['architecture']}")
    sha = checkpoint_sha256(ckpt)
    if sha != manifest.get("source", {}).get("checkpoint_sha256"):
        raise ExportError(f"{hf_dir}: weights differ from those {bundle} was exported from (source.checkpoint_sha256)")
    arch, model = ARCHS[ckpt.architecture], load_model(ckpt)
    v = manifest["vision"]
    spec = VisionSpec.from_manifest(v)
    eos = list(manifest["prompt"].get("eos_token_ids") or [])
    ids = runner.input_ids(prompt)
    out = out.resolve()
    records = []
    for file in images:
        new = greedy_generate(arch, model, spec, preprocess.load(file, v["preprocess"]), ids, max_new_tokens, eos)
        stop = "eos" if new and new[-1] in eos else "max-new-tokens"
        text_ids = new[:-1] if stop == "eos" else new
        records.append(
            {
                "file": Path(os.path.relpath(file.resolve(), out.parent)).as_posix(),
                "ids": new,
                "text": runner.tokenizer.decode(text_ids, skip_special_tokens=False),
                "stop": stop,
            }
        )
    import transformers

    result = {
        "format": FORMAT,
        "version": 1,
        "bundle": manifest["name"],
        "checkpoint_sha256": sha,
        "prompt": prompt,
        "prompt_ids": ids,
        "max_new_tokens": max_new_tokens,
        "eos_token_ids": eos,
        "computed_by": f"HF generate, greedy (do_sample=False, num_beams=1), float32, eager attention; "
        f"transformers {transformers.__version__}, torch {torch.__version__}",
        "images": records,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(_dumps(result), encoding="utf-8")
    os.replace(tmp, out)
    return result


def _dumps(result: dict) -> str:
    """Indented JSON with one line per image (a diff of a re-run shows which captions changed)."""
    head = {k: v for k, v in result.items() if k != "images"}
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    rows = ",\n".join(f"  {json.dumps(r)}" for r in result["images"])
    return "{\n" + "\n".join(lines) + '\n "images": [\n' + rows + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vislens_export.generate_reference", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--hf", type=Path, required=True, help="the HF checkpoint the bundle was exported from")
    parser.add_argument("--images", type=Path, nargs="+", required=True, help="image files, or directories of them")
    parser.add_argument("--prompt", default="", help="text for {prompt} in the bundle's template (default empty)")
    parser.add_argument("--max-new-tokens", type=int, default=50)
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("VISLENS_THREADS", "1")))
    try:
        result = write_greedy_reference(
            args.bundle, args.hf, image_files(args.images), args.prompt, args.max_new_tokens, args.out
        )
    except ExportError as e:
        print(f"vislens_export.generate_reference: error: {e}", file=sys.stderr)
        return 1
    eos = sum(r["stop"] == "eos" for r in result["images"])
    print(f"wrote {args.out}: {len(result['images'])} images, {eos} ended on EOS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
