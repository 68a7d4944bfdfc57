"""The attribution graph: one forward pass exposing what answer attribution needs at the last position.

Answer attribution (Yu & Ananiadou 2024, docs/attribution.md) decomposes the residual stream at a
target position T into the writes of every attention head and every FFN. The plain LLM graph gives
hidden states only; this graph adds, at T = the last position of every row:

- the attention probabilities of T over all positions, per layer and query head;
- the value vectors of every position, per layer and key/value head (grouped-query attention
  included: query head h reads key/value head h // (H / KVH));
- what each block's attention and FFN add to the residual stream at T;
- the logits at T;

and takes a per-row head mask, so that one row can run with chosen heads silenced (their output
zeroed at every position before the output projection) for the causal check.

A head's write at position j is then a_{T,j} · W_O^h v_j, with W_O^h the head's columns of the
output projection (stored per layer in weights.safetensors); the runtime computes it. The hidden
states of every position come out as in the plain graph (last entry before the final norm).

Nothing here is architecture-specific beyond the decoder-block layout shared by LLaVA's Llama,
Qwen2-VL's and Idefics3's text models: block.self_attn with v_proj and o_proj, returning
(output, attention probabilities) under eager attention, and block.mlp.
"""

from __future__ import annotations

import contextlib

import torch

from .errors import ExportError
from .llm_graph import final_norm_set_aside

OUTPUTS = ("hidden_states", "logits_last", "attn_weights_last", "values", "attn_output_last", "mlp_output_last")


def attention_shape(decoder: torch.nn.Module) -> dict:
    """num_heads, num_kv_heads and head_dim of the decoder's self-attention, read from the modules."""
    attn = decoder.layers[0].self_attn
    for name in ("v_proj", "o_proj"):
        if not isinstance(getattr(attn, name, None), torch.nn.Linear):
            raise ExportError(
                f"attribution: {type(attn).__name__} has no linear {name}; the attribution graph needs "
                "separate value and output projections"
            )
    config = decoder.config
    heads, kv_heads = config.num_attention_heads, getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = attn.head_dim
    if attn.o_proj.in_features != heads * head_dim or attn.v_proj.out_features != kv_heads * head_dim:
        raise ExportError(
            f"attribution: o_proj takes {attn.o_proj.in_features} and v_proj gives {attn.v_proj.out_features} "
            f"features, expected {heads} x {head_dim} and {kv_heads} x {head_dim}"
        )
    if heads % kv_heads:
        raise ExportError(f"attribution: {heads} query heads do not split into {kv_heads} key/value groups")
    return {"num_heads": heads, "num_kv_heads": kv_heads, "head_dim": head_dim}


class AttributionGraph(torch.nn.Module):
    """inputs_embeds, attention_mask, position_ids, head_mask [B, N, H] -> the OUTPUTS at the last position.

    Rows must be unpadded (every row's last position is its target); the runtime truncates a
    sequence after T to attribute an earlier position, which a causal model allows.
    """

    def __init__(self, decoder: torch.nn.Module, final_norm: torch.nn.Module, lm_head: torch.nn.Module):
        super().__init__()
        self.decoder, self.final_norm, self.lm_head = decoder, final_norm, lm_head
        shape = attention_shape(decoder)
        self.num_heads, self.num_kv_heads, self.head_dim = shape["num_heads"], shape["num_kv_heads"], shape["head_dim"]
        self._record: dict | None = None

    @contextlib.contextmanager
    def hooks(self):
        """Installs the recording hooks on every block for the duration (export or a run)."""
        handles = []
        for index, block in enumerate(self.decoder.layers):
            attn = block.self_attn
            handles += [
                attn.v_proj.register_forward_hook(self._keep("values")),
                attn.o_proj.register_forward_pre_hook(self._mask_heads(index)),
                attn.register_forward_hook(self._keep_attention),
                block.mlp.register_forward_hook(self._keep("mlp_output")),
            ]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def _keep(self, key: str):
        def hook(module, args, output):
            self._record[key].append(output)

        return hook

    def _keep_attention(self, module, args, output):
        attn_output, attn_weights = output[0], output[1]
        if attn_weights is None:
            raise ExportError("attribution: the attention returned no probabilities; load the model with eager attention")
        self._record["attn_output"].append(attn_output)
        self._record["attn_weights"].append(attn_weights)

    def _mask_heads(self, layer: int):
        def hook(module, args):
            (x,) = args  # [B, S, H * head_dim]: the heads' outputs, concatenated, before W_O
            mask = self._record["head_mask"][:, layer]  # [B, H]
            heads = x.unflatten(-1, (self.num_heads, self.head_dim)) * mask[:, None, :, None]
            return (heads.flatten(-2),)

        return hook

    def forward(self, inputs_embeds, attention_mask, position_ids, head_mask):
        self._record = {"head_mask": head_mask, "values": [], "attn_output": [], "attn_weights": [], "mlp_output": []}
        try:
            out = self.decoder(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                position_ids=position_ids,
                output_hidden_states=True,
                use_cache=False,
            )
            rec = self._record
        finally:
            self._record = None
        hidden_states = torch.stack(out.hidden_states)  # [N+1, B, S, D], the final norm set aside
        logits_last = self.lm_head(self.final_norm(hidden_states[-1][:, -1]))  # [B, V]
        attn_weights_last = torch.stack([a[:, :, -1] for a in rec["attn_weights"]])  # [N, B, H, S]
        values = torch.stack(
            [v.unflatten(-1, (self.num_kv_heads, self.head_dim)).transpose(1, 2) for v in rec["values"]]
        )  # [N, B, KVH, S, head_dim]
        attn_output_last = torch.stack([a[:, -1] for a in rec["attn_output"]])  # [N, B, D]
        mlp_output_last = torch.stack([m[:, -1] for m in rec["mlp_output"]])  # [N, B, D]
        return hidden_states, logits_last, attn_weights_last, values, attn_output_last, mlp_output_last


@contextlib.contextmanager
def attribution_graph(decoder: torch.nn.Module, lm_head: torch.nn.Module):
    """An AttributionGraph with its hooks installed and the decoder's final norm set aside."""
    with final_norm_set_aside(decoder) as norm:
        graph = AttributionGraph(decoder, norm, lm_head)
        with graph.hooks():
            yield graph


def output_projection_tensors(decoder: torch.nn.Module) -> tuple[dict, dict[str, torch.Tensor]]:
    """llm.attention for the manifest (W_O names per layer), and the tensors for weights.safetensors."""
    shape = attention_shape(decoder)
    tensors, weights, biases = {}, [], []
    for index, block in enumerate(decoder.layers):
        o_proj = block.self_attn.o_proj
        weights.append(f"layers.{index}.o_proj.weight")
        tensors[weights[-1]] = o_proj.weight  # [D, H * head_dim]
        if o_proj.bias is not None:
            biases.append(f"layers.{index}.o_proj.bias")
            tensors[biases[-1]] = o_proj.bias
    fields = {**shape, "o_proj": weights, **({"o_proj_bias": biases} if biases else {})}
    return fields, tensors
