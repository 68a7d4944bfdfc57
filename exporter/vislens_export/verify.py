"""Export-time check: the bundle, run from its files, against the HF model on random inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .archs import Arch, VisionSpec
from .errors import ExportError
from .hf_run import HFAttribution, HFOutputs, hf_attribution, hf_forward
from .runtime import BundleRunner

CHECK_PROMPT = "What is in the image?"
# An export fails its check when |ONNX - HF| exceeds this times max(1, max |HF|) for any output.
# fp32 kernels differ in summation order only, which stays orders of magnitude below it.
RELATIVE_TOLERANCE = 1e-3


def differences(runner: BundleRunner, ref: HFOutputs, rows: list[list[int]], pixel_values: np.ndarray) -> dict:
    """{output: (max |ONNX - HF|, max |HF|)} for visual tokens, all hidden states and logits."""
    hidden, logits = runner.run(rows, pixel_values)
    pairs = {
        "visual_tokens": (runner.visual_tokens(pixel_values), ref.visual_tokens),
        "hidden_states": (hidden, ref.hidden_states),
        "logits": (logits, ref.logits),
    }
    return {k: (float(np.abs(a - b).max()), float(np.abs(b).max())) for k, (a, b) in pairs.items()}


def attribution_differences(runner: BundleRunner, ref: HFAttribution, ids: list[int], pixel_values: np.ndarray) -> dict:
    """{quantity: (max |ONNX - HF|, max |HF|)} for the attribution graph's outputs and the head writes."""
    out = runner.attribute(ids, pixel_values)
    pairs = {
        "attn_weights_last": (out["attn_weights_last"][:, 0], ref.attn_weights_last),
        "values": (out["values"][:, 0], ref.values),
        "attn_output_last": (out["attn_output_last"][:, 0], ref.attn_output_last),
        "mlp_output_last": (out["mlp_output_last"][:, 0], ref.mlp_output_last),
        "logits_last": (out["logits_last"][0], ref.logits_last),
        "head_writes": (runner.head_writes(out), ref.head_writes),
    }
    return {k: (float(np.abs(a - b).max()), float(np.abs(b).max())) for k, (a, b) in pairs.items()}


def check_bundle(bundle: Path, arch: Arch, model, spec: VisionSpec, seed: int = 0) -> dict:
    """The manifest's source.check: what was compared and the max abs differences.

    Raises ExportError when the bundle disagrees with the HF model beyond RELATIVE_TOLERANCE.
    """
    pixel_values = np.random.default_rng(seed).standard_normal((1, 3, *spec.image_size)).astype(np.float32)
    runner = BundleRunner(bundle)
    rows = [runner.input_ids(CHECK_PROMPT)]
    result = differences(runner, hf_forward(arch, model, spec, pixel_values, rows), rows, pixel_values)
    if runner.attribution is not None:
        ref = hf_attribution(arch, model, spec, pixel_values, rows[0])
        attribution = attribution_differences(runner, ref, rows[0], pixel_values)
        result.update({f"attribution.{k}": v for k, v in attribution.items()})
    for key, (diff, scale) in result.items():
        if not diff <= RELATIVE_TOLERANCE * max(1.0, scale):  # also catches NaN
            raise ExportError(
                f"check: {key} of the exported graphs differ from the HF model by {diff:.3g} (scale {scale:.3g})"
            )
    return {
        "inputs": f"standard-normal pixel_values (seed {seed}), prompt {CHECK_PROMPT!r}",
        "max_abs_diff": {k: diff for k, (diff, _) in result.items()},
    }
