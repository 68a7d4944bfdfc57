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


@dataclass
class HFAttribution:
    """What the attribution graph exposes, computed from the HF model in eager mode (row 0, last position T)."""

    attn_weights_last: np.ndarray  # [N, H, S]: HF's own output_attentions, row T
    values: np.ndarray  # [N, KVH, S, hd]: v_proj outputs
    head_inputs_last: np.ndarray  # [N, H, hd]: the output projection's input at T, split by head
    attn_output_last: np.ndarray  # [N, D]: the attention block's output at T (o_proj applied)
    mlp_output_last: np.ndarray  # [N, D]
    head_writes: np.ndarray  # [N, H, S, D]: a_{T,j} W_O^h v_j, computed in torch
    logits_last: np.ndarray  # [V]


def hf_attribution(
    arch: Arch, model, spec: VisionSpec, pixel_values: np.ndarray, ids: list[int], write_positions=None
) -> HFAttribution:
    """One eager forward of the HF model with output_attentions=True and forward hooks on each block.

    write_positions: the source positions j of head_writes (default all; [N, H, S, D] is 3.5 GB for a
    1 B LLaVA's 600 positions, so the export check takes a sample).
    """
    decoder = arch.text_model(model)
    captured: dict[str, list] = {"values": [], "head_inputs": [], "attn_output": [], "mlp_output": []}
    handles = []
    for block in decoder.layers:
        attn = block.self_attn
        handles += [
            attn.v_proj.register_forward_hook(lambda m, a, o: captured["values"].append(o[0])),
            attn.o_proj.register_forward_pre_hook(lambda m, a: captured["head_inputs"].append(a[0][0, -1])),
            attn.register_forward_hook(lambda m, a, o: captured["attn_output"].append(o[0][0, -1])),
            block.mlp.register_forward_hook(lambda m, a, o: captured["mlp_output"].append(o[0, -1])),
        ]
    input_ids = torch.tensor([ids])
    try:
        with torch.no_grad():
            out = model(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                output_attentions=True,
                use_cache=False,
                **arch.hf_inputs(model, spec, torch.from_numpy(pixel_values), input_ids),
            )
    finally:
        for h in handles:
            h.remove()
    config = decoder.config
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    hd = decoder.layers[0].self_attn.head_dim
    attn = torch.stack([a[0, :, -1] for a in out.attentions])  # [N, H, S]
    values = torch.stack([v.unflatten(-1, (kv_heads, hd)).transpose(0, 1) for v in captured["values"]])
    j = slice(None) if write_positions is None else torch.as_tensor(write_positions)
    with torch.no_grad():
        writes = []
        for layer, block in enumerate(decoder.layers):
            w_o = block.self_attn.o_proj.weight.unflatten(1, (heads, hd))  # [D, H, hd]
            v = values[layer][:, j].repeat_interleave(heads // kv_heads, dim=0)  # [H, S, hd]
            writes.append(attn[layer][:, j, None] * torch.einsum("hsk,dhk->hsd", v, w_o))
    return HFAttribution(
        attn_weights_last=attn.numpy(),
        values=values.numpy(),
        head_inputs_last=torch.stack(captured["head_inputs"]).unflatten(-1, (heads, hd)).numpy(),
        attn_output_last=torch.stack(captured["attn_output"]).numpy(),
        mlp_output_last=torch.stack(captured["mlp_output"]).numpy(),
        head_writes=torch.stack(writes).numpy(),
        logits_last=out.logits[0, -1].numpy(),
    )
