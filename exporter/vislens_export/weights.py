"""weights.safetensors: the raw matrices the lenses need outside the graphs."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file

from .errors import ExportError
from .llm_graph import final_norm_manifest

EMBEDDING, UNEMBEDDING = "embed_tokens", "lm_head"


def lens_tensors(decoder: torch.nn.Module, lm_head: torch.nn.Linear, final_norm: torch.nn.Module) -> tuple[dict, dict]:
    """(llm manifest fields embedding/unembedding/final_norm, tensors by name).

    Tied embeddings are stored once and named twice.
    """
    if lm_head.bias is not None:
        raise ExportError("lm_head has a bias; the bundle format's unembedding is a plain [vocab, hidden] matrix")
    embed, unembed = decoder.embed_tokens.weight, lm_head.weight
    tensors = {EMBEDDING: embed}
    tied = embed.data_ptr() == unembed.data_ptr() or torch.equal(embed, unembed)
    if not tied:
        tensors[UNEMBEDDING] = unembed
    norm, norm_tensors = final_norm_manifest(final_norm)
    tensors.update(norm_tensors)
    fields = {"embedding": EMBEDDING, "unembedding": EMBEDDING if tied else UNEMBEDDING, "final_norm": norm}
    # Gemma's embedding layer multiplies each looked-up row by sqrt(hidden), in the weights' dtype.
    scale = getattr(decoder.embed_tokens, "embed_scale", None)
    if scale is not None:
        fields["embedding_scale"] = float(torch.as_tensor(scale).to(torch.float32))
    return fields, tensors


SAFETENSORS_DTYPES = {torch.float32: "F32", torch.float16: "F16"}


def write_weights(tensors: dict[str, torch.Tensor], path: Path, dtype: torch.dtype = torch.float32) -> dict:
    """Write the tensors in `dtype` (that of the graphs: float16 bundles store float16 matrices, which
    the runtime widens exactly); returns the manifest's `weights` table."""
    data = {name: t.detach().to(dtype).contiguous() for name, t in tensors.items()}
    save_file(data, str(path))
    return {name: {"shape": list(t.shape), "dtype": SAFETENSORS_DTYPES[dtype]} for name, t in data.items()}
