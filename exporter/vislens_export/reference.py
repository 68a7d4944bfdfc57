"""Reference outputs of the HF torch model for one image and prompt, for the runtime's tests.

python -m vislens_export.reference <bundle-dir> --hf <hf-dir> --image <png> --prompt "<text>" --out <dir>

Inputs are built from the bundle's manifest exactly as the runtime builds them (preprocess, prompt
template, BOS); the numbers come from the HF model, not from the ONNX graphs. The ONNX graphs are run
too, and their max abs difference is recorded in meta.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from . import preprocess
from .archs import ARCHS, SUPPORTED, VisionSpec
from .checkpoint import checkpoint_sha256, load_model, read_checkpoint
from .errors import ExportError
from .hf_run import hf_attribution, hf_forward
from .runtime import BundleRunner
from .verify import differences


def _save_f32(path: Path, array: np.ndarray) -> None:
    # np.save writes format version 1.0 for these shapes; '<f4' keeps the byte order explicit.
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def write_reference(bundle: Path, hf_dir: Path, image: Path, prompt: str, out: Path) -> dict:
    runner = BundleRunner(bundle)
    manifest = runner.manifest
    ckpt = read_checkpoint(hf_dir, SUPPORTED)
    if ckpt.architecture != manifest["architecture"]:
        raise ExportError(f"{hf_dir}: is a {ckpt.architecture}, the bundle a {manifest['architecture']}")
    if checkpoint_sha256(ckpt) != manifest.get("source", {}).get("checkpoint_sha256"):
        raise ExportError(f"{hf_dir}: weights differ from those {bundle} was exported from (source.checkpoint_sha256)")
    arch, model = ARCHS[ckpt.architecture], load_model(ckpt)
    v = manifest["vision"]
    spec = VisionSpec.from_manifest(v)

    pixel_values = preprocess.load(image, v["preprocess"])
    ids = runner.input_ids(prompt)
    ref = hf_forward(arch, model, spec, pixel_values, [ids])
    diffs = {k: diff for k, (diff, _) in differences(runner, ref, [ids], pixel_values).items()}

    out.mkdir(parents=True, exist_ok=True)
    if image.resolve() != (out / image.name).resolve():
        shutil.copyfile(image, out / image.name)  # meta.json names it; tests open it from here
    _save_f32(out / "pixel_values.npy", pixel_values)
    _save_f32(out / "visual_tokens.npy", ref.visual_tokens)
    _save_f32(out / "hidden_states.npy", ref.hidden_states[:, 0])
    _save_f32(out / "logits_last.npy", ref.logits[0, -1])
    (out / "input_ids.json").write_text(json.dumps(ids) + "\n")
    attribution = {}
    if runner.attribution is not None:  # what answer attribution reads, at the last position
        att = hf_attribution(arch, model, spec, pixel_values, ids)
        for key in ("head_writes", "attn_weights_last", "attn_output_last", "mlp_output_last"):
            _save_f32(out / f"{key}.npy", getattr(att, key))
            attribution[key] = list(getattr(att, key).shape)
    meta = {
        "bundle": manifest["name"],
        "architecture": manifest["architecture"],
        "checkpoint_sha256": manifest["source"]["checkpoint_sha256"],
        "image": image.name,
        "prompt": prompt,
        "num_tokens": len(ids),
        "image_token_positions": np.flatnonzero(np.asarray(ids) == runner.image_token_id).tolist(),
        "computed_by": "HF torch model (float32, eager attention); hidden_states[N] is the final norm's input; "
        "head_writes [N, H, S, D] = a_{T,j} W_O^h v_j at the last position T from HF's attentions and v_proj outputs",
        "shapes": {
            "pixel_values": list(pixel_values.shape),
            "visual_tokens": list(ref.visual_tokens.shape),
            "hidden_states": list(ref.hidden_states[:, 0].shape),
            "logits_last": [ref.logits.shape[-1]],
            **attribution,
        },
        "max_abs_diff_vs_onnx": diffs,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vislens_export.reference", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--hf", type=Path, required=True, help="the HF checkpoint the bundle was exported from")
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        meta = write_reference(args.bundle, args.hf, args.image, args.prompt, args.out)
    except ExportError as e:
        print(f"vislens_export.reference: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {meta['num_tokens']} tokens, max |ONNX - HF| {meta['max_abs_diff_vs_onnx']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
