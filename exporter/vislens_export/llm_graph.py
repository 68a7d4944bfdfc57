"""The language-model graph: inputs_embeds -> hidden states of every layer (pre-norm last) and logits."""

from __future__ import annotations

import contextlib

import torch

from .errors import ExportError


class LLMGraph(torch.nn.Module):
    """Wraps an HF decoder stack whose final norm has been set aside (see `final_norm_set_aside`).

    transformers v5 reports the *post*-norm state as the last hidden state; with the norm replaced
    by identity, `hidden_states[N]` is block N's raw output, as the bundle format requires. The real
    norm is applied here, on the way to the logits only.
    """

    # Inputs beyond inputs_embeds, attention_mask and position_ids: name -> ONNX dtype; each is
    # [batch, seq] (Gemma 3's token_type_ids).
    extra_inputs: dict[str, str] = {}

    def __init__(self, decoder: torch.nn.Module, final_norm: torch.nn.Module, lm_head: torch.nn.Module):
        super().__init__()
        self.decoder, self.final_norm, self.lm_head = decoder, final_norm, lm_head

    def forward(self, inputs_embeds, attention_mask, position_ids):
        return self.decode(inputs_embeds, attention_mask, position_ids)

    def decode(self, inputs_embeds, attention_mask, position_ids):
        """(hidden_states [N + 1, B, S, D], logits); attention_mask as the decoder takes it (a subclass
        may build its own masks from extra inputs and pass them here)."""
        out = self.decoder(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            output_hidden_states=True,
            use_cache=False,
        )
        hidden_states = torch.stack(out.hidden_states)
        return hidden_states, self.lm_head(self.final_norm(hidden_states[-1]))


@contextlib.contextmanager
def final_norm_set_aside(decoder: torch.nn.Module):
    """Temporarily replace decoder.norm by identity; yields the real norm. Restored on exit."""
    norm = decoder.norm
    decoder.norm = torch.nn.Identity()
    try:
        yield norm
    finally:
        decoder.norm = norm


def final_norm_manifest(norm: torch.nn.Module) -> tuple[dict, dict[str, torch.Tensor]]:
    """llm.final_norm for the manifest, and the tensors it names (for weights.safetensors)."""
    if isinstance(norm, torch.nn.LayerNorm):
        tensors = {"final_norm.weight": norm.weight, "final_norm.bias": norm.bias}
        return {"type": "layernorm", "eps": norm.eps, "weight": "final_norm.weight", "bias": "final_norm.bias"}, tensors
    # Llama/Qwen2 RMSNorm: x * rsqrt(mean(x^2) + eps) * weight.
    if type(norm).__name__.endswith("RMSNorm") and hasattr(norm, "variance_epsilon"):
        return {"type": "rmsnorm", "eps": float(norm.variance_epsilon), "weight": "final_norm.weight"}, {
            "final_norm.weight": norm.weight
        }
    # Gemma's RMSNorm scales by (1 + weight), computed in float32: storing 1 + weight makes it the
    # manifest's plain rmsnorm (exact: 1 + w is what the float32 forward multiplies by).
    if type(norm).__name__ in ("GemmaRMSNorm", "Gemma2RMSNorm", "Gemma3RMSNorm") and hasattr(norm, "eps"):
        return {"type": "rmsnorm", "eps": float(norm.eps), "weight": "final_norm.weight"}, {
            "final_norm.weight": 1.0 + norm.weight.float()
        }
    raise ExportError(f"final norm {type(norm).__name__} is neither LayerNorm nor a Llama-style RMSNorm")
