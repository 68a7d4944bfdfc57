"""Export-time check: the bundle, run from its files, against the HF model on random inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .archs import Arch, VisionSpec
from .errors import ExportError
from .hf_run import HFAttribution, HFOutputs, hf_attribution, hf_forward
from .runtime import BundleRunner, prompt_ids

CHECK_PROMPT = "What is in the image?"
# An export fails its check when |ONNX - HF| exceeds this times max(1, max |HF|) for any output.
# fp32 kernels differ in summation order only, which stays orders of magnitude below it.
RELATIVE_TOLERANCE = 1e-3
# The same for float16 graphs, checked against the float32 HF model: the difference is then the
# cost of float16 (weights rounded to 11 significant bits, and every activation), measured at
# 1e-3 to 5e-3 of the scale (docs/bundle-format.md); a broken graph is off by the scale itself.
TOLERANCES = {"float32": RELATIVE_TOLERANCE, "float16": 5e-2}
# The source positions whose head writes the check compares ([N, H, S, D] at every position is
# 3.5 GB for a 1 B LLaVA): at most this many, spread evenly, first and last included.
WRITE_POSITIONS = 64


def differences(runner: BundleRunner, ref: HFOutputs, rows: list[list[int]], pixel_values: np.ndarray) -> dict:
    """{output: (max |ONNX - HF|, max |HF|)} for visual tokens, all hidden states and logits."""
    hidden, logits = runner.run(rows, pixel_values)
    pairs = {
        "visual_tokens": (runner.visual_tokens(pixel_values), ref.visual_tokens),
        "hidden_states": (hidden, ref.hidden_states),
        "logits": (logits, ref.logits),
    }
    return {k: (float(np.abs(a - b).max()), float(np.abs(b).max())) for k, (a, b) in pairs.items()}


def attribution_differences(
    runner: BundleRunner, ref: HFAttribution, ids: list[int], pixel_values: np.ndarray, write_positions=None
) -> dict:
    """{quantity: (max |ONNX - HF|, max |HF|)} for the attribution graph's outputs and the head writes
    (from the source positions `write_positions`, those of ref.head_writes; default all)."""
    out = runner.attribute(ids, pixel_values)
    pairs = {
        "attn_weights_last": (out["attn_weights_last"][:, 0], ref.attn_weights_last),
        "values": (out["values"][:, 0], ref.values),
        "attn_output_last": (out["attn_output_last"][:, 0], ref.attn_output_last),
        "mlp_output_last": (out["mlp_output_last"][:, 0], ref.mlp_output_last),
        "logits_last": (out["logits_last"][0], ref.logits_last),
        "head_writes": (runner.head_writes(out, write_positions), ref.head_writes),
    }
    return {k: (float(np.abs(a - b).max()), float(np.abs(b).max())) for k, (a, b) in pairs.items()}


@dataclass
class Reference:
    """What the export check compares the bundle with: the HF model's outputs on its inputs."""

    pixel_values: np.ndarray  # [1, 3, H, W]
    rows: list[list[int]]
    forward: HFOutputs
    attribution: HFAttribution | None
    write_positions: np.ndarray | None
    seed: int


def hf_reference(
    arch: Arch, model, spec: VisionSpec, prompt: dict, tokenizer, attribution: bool, seed: int = 0
) -> Reference:
    """The HF model's outputs for the check, computed before the export (in float32, before a
    float16 export converts the model) so that the model can be freed before the bundle's graphs are
    opened. `prompt` is the manifest's prompt entry."""
    pixel_values = np.random.default_rng(seed).standard_normal(spec.pixel_shape).astype(np.float32)
    rows = [prompt_ids(prompt, spec.num_tokens, tokenizer, CHECK_PROMPT)]
    forward = hf_forward(arch, model, spec, pixel_values, rows)
    positions = None
    if attribution:
        positions = np.unique(np.linspace(0, len(rows[0]) - 1, min(len(rows[0]), WRITE_POSITIONS)).round().astype(int))
    ref = hf_attribution(arch, model, spec, pixel_values, rows[0], positions) if attribution else None
    return Reference(pixel_values, rows, forward, ref, positions, seed)


def check_bundle(bundle: Path, reference: Reference, dtype: str = "float32") -> dict:
    """The manifest's source.check: what was compared and the max abs differences.

    Opens one graph at a time. Raises ExportError when the bundle disagrees with the HF model beyond
    TOLERANCES[dtype] times max(1, max |HF|).
    """
    runner = BundleRunner(bundle, lean=True)
    pixel_values, rows = reference.pixel_values, reference.rows
    result = differences(runner, reference.forward, rows, pixel_values)
    runner.release()
    if reference.attribution is not None:
        attribution = attribution_differences(
            runner, reference.attribution, rows[0], pixel_values, reference.write_positions
        )
        result.update({f"attribution.{k}": v for k, v in attribution.items()})
        runner.release()
    for key, (diff, scale) in result.items():
        if not diff <= TOLERANCES[dtype] * max(1.0, scale):  # also catches NaN
            raise ExportError(
                f"check: {key} of the exported {dtype} graphs differ from the HF model by {diff:.3g} (scale {scale:.3g})"
            )
    return {
        "inputs": f"standard-normal pixel_values (seed {reference.seed}), prompt {CHECK_PROMPT!r}",
        "reference": "the Hugging Face model in float32 (eager attention)",
        "max_abs_diff": {k: diff for k, (diff, _) in result.items()},
        "max_abs_value": {k: scale for k, (_, scale) in result.items()},
    }
