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
    return fields, tensors


def write_weights(tensors: dict[str, torch.Tensor], path: Path) -> dict:
    """Write float32 tensors; returns the manifest's `weights` table."""
    data = {name: t.detach().to(torch.float32).contiguous() for name, t in tensors.items()}
    save_file(data, str(path))
    return {name: {"shape": list(t.shape), "dtype": "F32"} for name, t in data.items()}
