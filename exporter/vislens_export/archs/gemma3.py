"""Gemma3ForConditionalGeneration: SigLIP tower, average-pooled to mm_tokens_per_image, and a Gemma 3 LM.

What differs from the Llama-style families, and how the bundle says it:
- Token embeddings are multiplied by sqrt(hidden) inside the embedding layer, visual tokens are
  not: `llm.embedding_scale` tells the runtime to scale the rows it looks up.
- RMSNorm multiplies by (1 + w): the final norm's stored weight is 1 + w, so the manifest's plain
  "rmsnorm" reads it exactly.
- The image's tokens attend to each other in both directions (a causal LM otherwise), and local
  layers see a sliding window: the LLM graph takes `token_type_ids` (1 at visual positions) and
  builds both masks itself, as HF's Gemma3Model does from the processor's token_type_ids.
- Sandwich norms (a norm on each block's attention and FFN output before the residual add) make a
  head's write a non-linear function of all heads': no attribution graph yet.
"""

from __future__ import annotations

import torch

from ..errors import ExportError
from ..llm_graph import LLMGraph
from .base import Arch, VisionSpec
from .imageproc import HALF, ProcessorFields

_IMAGE = "\n\n<start_of_image>{image}<end_of_image>\n\n"


class _Gemma3Vision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.model.get_image_features(pixel_values=pixel_values, return_dict=True).pooler_output


def additive_masks(attention_mask: torch.Tensor, token_type_ids: torch.Tensor, sliding_window: int | None, dtype) -> dict:
    """Gemma 3's two 4-D additive masks [B, 1, S, S] for right-padded rows.

    Full layers: a key is visible when it is not padding and (causal, or both positions lie in the
    same image). Sliding layers: the same, and within `sliding_window` positions (kv > q - window).
    """
    seq = attention_mask.shape[1]
    q = torch.arange(seq, device=attention_mask.device)[:, None]
    k = torch.arange(seq, device=attention_mask.device)[None, :]
    is_image = token_type_ids == 1
    starts = is_image & ~torch.nn.functional.pad(is_image, (1, 0), value=False)[:, :-1]
    block = torch.where(is_image, torch.cumsum(starts.int(), dim=1) - 1, -1)  # image index, -1 for text
    same_image = (block[:, :, None] == block[:, None, :]) & (block[:, :, None] >= 0)
    allowed = ((k <= q)[None] | same_image) & (attention_mask[:, None, :] == 1)
    sliding = allowed & (k > q - sliding_window)[None] if sliding_window else allowed
    low = torch.finfo(dtype).min

    def to_additive(m):
        return torch.zeros(m.shape, dtype=dtype).masked_fill(~m, low)[:, None]

    return {"full_attention": to_additive(allowed), "sliding_attention": to_additive(sliding)}


class Gemma3LLMGraph(LLMGraph):
    """LLMGraph with a fourth input, token_type_ids [B, S], from which the masks are built."""

    extra_inputs = {"token_type_ids": "int64"}

    def forward(self, inputs_embeds, attention_mask, position_ids, token_type_ids):
        masks = additive_masks(attention_mask, token_type_ids, self.decoder.config.sliding_window, inputs_embeds.dtype)
        return self.decode(inputs_embeds, masks, position_ids)


class Gemma3(Arch):
    architecture = "Gemma3ForConditionalGeneration"
    default_template = _IMAGE + "{prompt}"
    image_expansion = _IMAGE
    llm_graph_class = Gemma3LLMGraph
    attribution_note = "Gemma 3's sandwich norms make a head's write non-linear in the heads' outputs: no attribution graph"

    def text_model(self, model):
        decoder = model.model.language_model
        if decoder.config.final_logit_softcapping:
            raise ExportError(
                f"config.json: text_config.final_logit_softcapping is {decoder.config.final_logit_softcapping}; "
                "the bundle format's unembedding has no soft-capping"
            )
        return decoder

    def vision_spec(self, model, ckpt, image_size):
        if image_size is not None:
            raise ExportError("--image-size: Gemma 3's SigLIP tower has a fixed input size; the option is for Qwen2-VL")
        vc = model.config.vision_config
        side, patch = vc.image_size, vc.patch_size
        per_side = int(model.config.mm_tokens_per_image**0.5)
        if per_side * per_side != model.config.mm_tokens_per_image or (side // patch) % per_side:
            raise ExportError(
                f"config.json: mm_tokens_per_image {model.config.mm_tokens_per_image} is not a square that divides "
                f"the {side // patch}x{side // patch} patch grid"
            )
        return VisionSpec(image_size=(side, side), patch_size=patch, merge=side // patch // per_side, grid=(per_side, per_side))

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        f.require(not f.get("do_pan_and_scan", False), "do_pan_and_scan", True, "vislens exports Gemma 3 without pan-and-scan crops")
        # Gemma3ImageProcessor resizes bilinearly (2)
        return f.exact_resize(spec.image_size, 2, HALF, HALF), f.describe()

    def vision_graph(self, model, spec):
        return _Gemma3Vision(model)

    def hf_inputs(self, model, spec, pixel_values, input_ids):
        # The processor's token_type_ids: 1 at image tokens, so that HF applies the image's
        # bidirectional mask exactly as the bundle's graph does.
        return {
            "pixel_values": pixel_values.expand(input_ids.shape[0], -1, -1, -1),
            "token_type_ids": (input_ids == model.config.image_token_id).long(),
        }
