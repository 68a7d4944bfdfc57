"""torch -> ONNX for the two bundle graphs, with the input/output names and shapes of the bundle format."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from .archs import VisionSpec
from .attribution_graph import OUTPUTS

OPSET = 18
# The exporter logs one warning per torchvision op it cannot register; vislens uses none of them.
logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)

# Weights above this go to an external-data file beside the graph (ONNX protobufs stop at 2 GiB).
EXTERNAL_DATA_BYTES = 1536 * 2**20


def _export(module, args: tuple, path: Path, input_names, output_names, dynamic_shapes=None) -> None:
    size = sum(p.numel() * p.element_size() for p in module.parameters())
    with torch.no_grad(), warnings.catch_warnings():
        # Known noise of torch 2.13's exporter (pytree deprecations, axis renaming); the export is
        # checked numerically afterwards.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", message=".*axis name.*", category=UserWarning)
        torch.onnx.export(
            module.eval(),
            args,
            str(path),
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=dynamic_shapes,
            dynamo=True,
            opset_version=OPSET,
            external_data=size > EXTERNAL_DATA_BYTES,
            verbose=False,
        )


def export_vision(module: torch.nn.Module, spec: VisionSpec, hidden_size: int, path: Path) -> dict:
    """vision.onnx: pixel_values [1, 3, H, W] -> visual_tokens [1, T, D]; returns its onnx.vision entry."""
    pixels = torch.randn(1, 3, *spec.image_size)
    _export(module, (pixels,), path, ["pixel_values"], ["visual_tokens"])
    return {
        "file": path.name,
        "inputs": {"pixel_values": [1, 3, *spec.image_size]},
        "outputs": {"visual_tokens": [1, spec.num_tokens, hidden_size]},
    }


def _llm_example(hidden_size: int, mrope: bool):
    """Example inputs and dynamic shapes shared by the LLM graphs: batch and sequence are dynamic."""
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    # Example sizes > 1 so that the exporter cannot specialise either dimension to a constant.
    b, s = 2, 8
    positions = torch.arange(s).expand(b, s)
    if mrope:
        positions, pos_shape, pos_dims = positions.expand(3, b, s), [3, "batch", "seq"], {1: batch, 2: seq}
    else:
        pos_shape, pos_dims = ["batch", "seq"], {0: batch, 1: seq}
    args = (torch.randn(b, s, hidden_size), torch.ones(b, s, dtype=torch.long), positions.contiguous())
    dynamic = {"inputs_embeds": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}, "position_ids": pos_dims}
    inputs = {
        "inputs_embeds": ["batch", "seq", hidden_size],
        "attention_mask": ["batch", "seq"],
        "position_ids": pos_shape,
    }
    return args, dynamic, inputs, batch


def export_llm(
    module: torch.nn.Module, num_layers: int, hidden_size: int, vocab_size: int, mrope: bool, path: Path
) -> dict:
    """llm.onnx with dynamic batch and sequence; returns its onnx.llm entry."""
    args, dynamic, inputs, _ = _llm_example(hidden_size, mrope)
    _export(
        module, args, path, ["inputs_embeds", "attention_mask", "position_ids"], ["hidden_states", "logits"], dynamic
    )
    return {
        "file": path.name,
        "inputs": inputs,
        "outputs": {
            "hidden_states": [num_layers + 1, "batch", "seq", hidden_size],
            "logits": ["batch", "seq", vocab_size],
        },
    }


def export_attribution(module: torch.nn.Module, shape: dict, hidden_size: int, vocab_size: int, mrope: bool, path: Path) -> dict:
    """attribution.onnx (see attribution_graph.py): the LLM inputs plus head_mask; returns its onnx.attribution entry."""
    args, dynamic, inputs, batch = _llm_example(hidden_size, mrope)
    n, heads, kv, hd = len(module.decoder.layers), shape["num_heads"], shape["num_kv_heads"], shape["head_dim"]
    args = (*args, torch.ones(args[0].shape[0], n, heads))
    dynamic = {**dynamic, "head_mask": {0: batch}}
    names = ["inputs_embeds", "attention_mask", "position_ids", "head_mask"]
    _export(module, args, path, names, list(OUTPUTS), dynamic)
    return {
        "file": path.name,
        "inputs": {**inputs, "head_mask": ["batch", n, heads]},
        "outputs": {
            "hidden_states": [n + 1, "batch", "seq", hidden_size],
            "logits_last": ["batch", vocab_size],
            "attn_weights_last": [n, "batch", heads, "seq"],
            "values": [n, "batch", kv, "seq", hd],
            "attn_output_last": [n, "batch", hidden_size],
            "mlp_output_last": [n, "batch", hidden_size],
        },
    }
