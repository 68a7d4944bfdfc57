"""Qwen2VLForConditionalGeneration at one fixed resolution.

HF's processor keeps each image's aspect ratio, so its patch grid varies per image; a bundle has a
single grid fixed at export time (`--image-size`, else a square near 448 px within the checkpoint's
pixel budget). The vision graph takes plain [1, 3, H, W] pixels and does the processor's patchify
step itself; the LLM graph takes M-RoPE position ids that the runtime computes.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil, smart_resize
from transformers.models.qwen2_vl.modeling_qwen2_vl import apply_rotary_pos_emb_vision, eager_attention_forward
from transformers.vision_utils import get_vision_position_ids

from ..errors import ExportError
from .base import Arch, VisionSpec
from .imageproc import CLIP_MEAN, CLIP_STD, ProcessorFields

# Side of the default square image, in pixels, before snapping to the checkpoint's pixel budget.
DEFAULT_SIDE = 448
# Qwen2VLImageProcessor's pixel budget when preprocessor_config.json does not give one.
DEFAULT_MIN_PIXELS, DEFAULT_MAX_PIXELS = 56 * 56, 28 * 28 * 1280


def _single_image_attention(attn, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """VisionAttention.forward for one image.

    HF splits attention into per-image chunks with a data-dependent `cu_seqlens.tolist()`, which
    does not export; with one image there is one chunk, so plain full attention is exact.
    """
    n = x.shape[0]
    q, k, v = attn.qkv(x).reshape(n, 3, attn.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    q, k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
    out, _ = eager_attention_forward(attn, q, k, v, attention_mask=None, scaling=attn.scaling)
    return attn.proj(out.reshape(n, -1))


class _Qwen2VLVision(torch.nn.Module):
    def __init__(self, visual, spec: VisionSpec):
        super().__init__()
        self.visual = visual
        cfg = visual.config
        self.patch, self.merge, self.temporal = cfg.patch_size, cfg.spatial_merge_size, cfg.temporal_patch_size
        self.patch_grid = (spec.image_size[0] // self.patch, spec.image_size[1] // self.patch)
        grid_thw = torch.tensor([[1, *self.patch_grid]])
        # Rotary (row, col) ids of the encoder patches: constant for a fixed grid.
        self.register_buffer("rotary_ids", get_vision_position_ids(grid_thw, self.merge), persistent=False)

    def patchify(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[1, 3, H, W] -> [patches, 3 * temporal * patch²] in Qwen2VLImageProcessor's order.

        Patches of one merge block are contiguous (the merger concatenates them), and a still image
        fills every temporal slot with the same frame.
        """
        gh, gw, p, m = *self.patch_grid, self.patch, self.merge
        x = pixel_values.reshape(3, gh // m, m, p, gw // m, m, p).permute(1, 4, 2, 5, 0, 3, 6)
        x = x.unsqueeze(5).expand(-1, -1, -1, -1, -1, self.temporal, -1, -1)
        return x.reshape(gh * gw, 3 * self.temporal * p * p)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        v = self.visual
        h = v.patch_embed(self.patchify(pixel_values))
        cos, sin = v.rotary_pos_emb(h, self.rotary_ids)
        for blk in v.blocks:
            h = h + _single_image_attention(blk.attn, blk.norm1(h), cos, sin)
            h = h + blk.mlp(blk.norm2(h))
        return v.merger(h).unsqueeze(0)


def _pixel_budget(pre: dict | None) -> tuple[int, int]:
    pre = pre or {}
    size = pre.get("size") or {}
    return (
        pre.get("min_pixels", size.get("shortest_edge", DEFAULT_MIN_PIXELS)),
        pre.get("max_pixels", size.get("longest_edge", DEFAULT_MAX_PIXELS)),
    )


class Qwen2VL(Arch):
    architecture = "Qwen2VLForConditionalGeneration"
    default_template = "<|vision_start|>{image}<|vision_end|>{prompt}"

    def text_model(self, model):
        return model.model.language_model

    def rope(self, model):
        section = model.config.text_config.rope_parameters.get("mrope_section")
        if not section:
            raise ExportError('config.json: text_config.rope_parameters has no "mrope_section"')
        return {"type": "mrope", "mrope_section": list(section)}

    def vision_spec(self, model, ckpt, image_size):
        vc = model.config.vision_config
        factor = vc.patch_size * vc.spatial_merge_size
        if image_size is None:
            min_pixels, max_pixels = _pixel_budget(ckpt.preprocessor)
            image_size = smart_resize(DEFAULT_SIDE, DEFAULT_SIDE, factor, min_pixels, max_pixels)
        height, width = image_size
        if height % factor or width % factor:
            raise ExportError(
                f"--image-size {height}x{width}: both sides must be multiples of patch_size x spatial_merge_size "
                f"= {vc.patch_size} x {vc.spatial_merge_size} = {factor}"
            )
        return VisionSpec(
            image_size=(height, width),
            patch_size=vc.patch_size,
            merge=vc.spatial_merge_size,
            grid=(height // factor, width // factor),
        )

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        f.notes.append(f"fixed resolution: every image is resized to {spec.image_size[0]}x{spec.image_size[1]}")
        return f.exact_resize(spec.image_size, 3, CLIP_MEAN, CLIP_STD), f.describe()

    def vision_graph(self, model, spec):
        return _Qwen2VLVision(model.model.visual, spec)

    def hf_inputs(self, model, spec, pixel_values, input_ids):
        vc = model.config.vision_config
        patches, gh, gw = Qwen2VLImageProcessorPil().patchify(
            pixel_values[0].numpy(), vc.patch_size, vc.spatial_merge_size, vc.temporal_patch_size
        )
        rows = input_ids.shape[0]
        return {
            "pixel_values": torch.from_numpy(np.concatenate([patches] * rows)),
            "image_grid_thw": torch.tensor([[1, gh, gw]] * rows),
            # Tells HF's get_rope_index which positions are image tokens (1) and which are text (0).
            "mm_token_type_ids": (input_ids == model.config.image_token_id).int(),
        }
