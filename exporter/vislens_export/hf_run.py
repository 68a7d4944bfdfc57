"""The same quantities as a bundle, computed by the Hugging Face torch model itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .archs import Arch, VisionSpec


@dataclass
class HFOutputs:
    hidden_states: np.ndarray  # [N+1, B, S, D], last entry before the final norm
    logits: np.ndarray  # [B, S, V]
    visual_tokens: np.ndarray  # [T, D] of row 0: the LLM input embeddings at its image positions


def hf_forward(arch: Arch, model, spec: VisionSpec, pixel_values: np.ndarray, rows: list[list[int]]) -> HFOutputs:
    """One forward of the HF model on right-padded rows, each holding the image once.

    Layers 0..N-1 come from HF's output_hidden_states. HF reports the post-norm state as layer N, so
    layer N is instead taken from the final norm's input with a forward pre-hook: an independent
    route to what the exported graph computes by setting the norm aside.
    """
    seq = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), seq, dtype=torch.long)
    mask = torch.zeros(len(rows), seq, dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)], mask[b, : len(r)] = torch.tensor(r), 1

    captured = {}
    norm = arch.text_model(model).norm
    hook = norm.register_forward_pre_hook(lambda module, args: captured.update(pre_norm=args[0]))
    try:
        with torch.no_grad():
            out = model(
                input_ids=ids,
                attention_mask=mask,
                output_hidden_states=True,
                use_cache=False,
                **arch.hf_inputs(model, spec, torch.from_numpy(pixel_values), ids),
            )
    finally:
        hook.remove()
    hidden = torch.stack([*out.hidden_states[:-1], captured["pre_norm"]]).numpy()
    image_positions = np.flatnonzero(np.asarray(rows[0]) == arch.image_token_id(model))
    return HFOutputs(hidden, out.logits.numpy(), hidden[0, 0, image_positions])
