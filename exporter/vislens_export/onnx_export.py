"""torch -> ONNX for the two bundle graphs, with the input/output names and shapes of the bundle format."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from .archs import VisionSpec
from .attribution_graph import OUTPUTS
from .errors import ExportError

OPSET = 18
# The exporter logs one warning per torchvision op it cannot register; vislens uses none of them.
logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)

# Weights above this go to an external-data file beside the graph (ONNX protobufs stop at 2 GiB).
EXTERNAL_DATA_BYTES = 1536 * 2**20
# --dtype: the precision the graphs compute in. Their inputs and outputs stay float32 either way.
DTYPES = {"float32": torch.float32, "float16": torch.float16}


@dataclass(frozen=True)
class GraphOptions:
    """How every graph of one export is written.

    dtype: the weights' and the computation's precision. For float16 the module must already hold
    float16 parameters; the graph casts its float32 inputs to float16 and its outputs back to float32,
    so a bundle's graph signatures do not depend on it. external_data: True writes the weights of
    every graph to `<graph>.data` beside it; None (default) does so only above EXTERNAL_DATA_BYTES.
    """

    dtype: str = "float32"
    external_data: bool | None = None


class CastIO(torch.nn.Module):
    """Runs `inner` in `dtype`: float inputs are cast to it, float outputs back to float32."""

    def __init__(self, inner: torch.nn.Module, dtype: torch.dtype):
        super().__init__()
        self.inner, self.dtype = inner, dtype

    def forward(self, *args):
        out = self.inner(*(a.to(self.dtype) if a.is_floating_point() else a for a in args))
        cast = lambda t: t.to(torch.float32) if t.is_floating_point() else t  # noqa: E731
        return tuple(cast(t) for t in out) if isinstance(out, tuple) else cast(out)


def external_data_files(path: Path) -> list[str]:
    """The external-data files a saved graph refers to (names relative to its directory), sorted."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    tensors = [*model.graph.initializer, *(t for n in model.graph.node for a in n.attribute for t in [a.t] if a.HasField("t"))]
    return sorted(
        {e.value for t in tensors if t.data_location == onnx.TensorProto.EXTERNAL for e in t.external_data if e.key == "location"}
    )


def _export(
    module, args: tuple, path: Path, input_names, output_names, dynamic_shapes=None, options: GraphOptions = GraphOptions()
) -> list[str]:
    """Writes the graph; returns its external-data files (empty when the weights are inside it)."""
    size = sum(p.numel() * p.element_size() for p in module.parameters())
    external = size > EXTERNAL_DATA_BYTES if options.external_data is None else options.external_data
    if options.dtype != "float32":
        module = CastIO(module, DTYPES[options.dtype])
        # CastIO takes *args: torch.export then wants the dynamic shapes in the same form.
        dynamic_shapes = None if dynamic_shapes is None else {"args": tuple(dynamic_shapes.values())}
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
            external_data=external,
            verbose=False,
        )
    return external_data_files(path) if external else []


def _entry(path: Path, inputs: dict, outputs: dict, external: list[str]) -> dict:
    """A graph's onnx.* manifest entry; external_data only when the weights live beside the graph."""
    return {"file": path.name, "inputs": inputs, "outputs": outputs, **({"external_data": external} if external else {})}


def export_vision(
    module: torch.nn.Module, spec: VisionSpec, hidden_size: int, path: Path, options: GraphOptions = GraphOptions()
) -> dict:
    """vision.onnx: pixel_values [1, 3, H, W] -> visual_tokens [1, T, D]; returns its onnx.vision entry."""
    pixels = torch.randn(*spec.pixel_shape)
    external = _export(module, (pixels,), path, ["pixel_values"], ["visual_tokens"], options=options)
    return _entry(
        path, {"pixel_values": list(spec.pixel_shape)}, {"visual_tokens": [1, spec.num_tokens, hidden_size]}, external
    )


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
    module: torch.nn.Module,
    num_layers: int,
    hidden_size: int,
    vocab_size: int,
    mrope: bool,
    path: Path,
    options: GraphOptions = GraphOptions(),
) -> dict:
    """llm.onnx with dynamic batch and sequence; returns its onnx.llm entry."""
    args, dynamic, inputs, _ = _llm_example(hidden_size, mrope)
    names = ["inputs_embeds", "attention_mask", "position_ids"]
    for name, dtype in module.extra_inputs.items():
        # [batch, seq], e.g. Gemma 3's token_type_ids (1 at visual tokens): the example marks a block.
        if dtype != "int64":
            raise ExportError(f"LLM graph input {name}: dtype {dtype} is not supported (int64 only)")
        example = torch.zeros_like(args[1])
        example[:, 2:5] = 1
        args, names = (*args, example), [*names, name]
        dynamic = {**dynamic, name: dynamic["attention_mask"]}
        inputs = {**inputs, name: ["batch", "seq"]}
    external = _export(module, args, path, names, ["hidden_states", "logits"], dynamic, options)
    outputs = {"hidden_states": [num_layers + 1, "batch", "seq", hidden_size], "logits": ["batch", "seq", vocab_size]}
    return _entry(path, inputs, outputs, external)


def export_attribution(
    module: torch.nn.Module,
    shape: dict,
    hidden_size: int,
    vocab_size: int,
    mrope: bool,
    path: Path,
    options: GraphOptions = GraphOptions(),
) -> dict:
    """attribution.onnx (see attribution_graph.py): the LLM inputs plus head_mask; returns its onnx.attribution entry."""
    args, dynamic, inputs, batch = _llm_example(hidden_size, mrope)
    n, heads, kv, hd = len(module.decoder.layers), shape["num_heads"], shape["num_kv_heads"], shape["head_dim"]
    args = (*args, torch.ones(args[0].shape[0], n, heads))
    dynamic = {**dynamic, "head_mask": {0: batch}}
    names = ["inputs_embeds", "attention_mask", "position_ids", "head_mask"]
    external = _export(module, args, path, names, list(OUTPUTS), dynamic, options)
    outputs = {
        "hidden_states": [n + 1, "batch", "seq", hidden_size],
        "logits_last": ["batch", vocab_size],
        "attn_weights_last": [n, "batch", heads, "seq"],
        "values": [n, "batch", kv, "seq", hd],
        "attn_output_last": [n, "batch", hidden_size],
        "mlp_output_last": [n, "batch", hidden_size],
    }
    return _entry(path, {**inputs, "head_mask": ["batch", n, heads]}, outputs, external)
