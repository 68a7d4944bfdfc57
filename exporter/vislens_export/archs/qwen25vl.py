"""Qwen2_5_VLForConditionalGeneration at one fixed resolution: Qwen2-VL's layout with windowed vision attention.

Everything outside the vision tower is Qwen2-VL's (qwen2vl.py): a fixed image size, the patchify
step inside the graph, a merged grid, M-RoPE position ids computed by the runtime. The vision
tower differs: most blocks attend only within windows of `window_size` pixels (the rest,
`fullatt_block_indexes`, attend over the whole image), and HF reorders the patches window by window
before the blocks and restores the order after the merger. For a fixed grid the window layout is a
constant, so the graph splits attention into static slices instead of HF's data-dependent
`cu_seqlens.tolist()`.
"""

from __future__ import annotations

import torch
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import apply_rotary_pos_emb_vision, eager_attention_forward
from transformers.vision_utils import get_vision_position_ids, get_vision_window_index

from .base import VisionSpec
from .qwen2vl import Qwen2VL, _Qwen2VLVision


def _chunked_attention(attn, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, chunks: list[tuple[int, int]]) -> torch.Tensor:
    """Qwen2_5_VLVisionAttention.forward with its chunks as static (start, length) slices."""
    n = x.shape[0]
    q, k, v = attn.qkv(x).reshape(n, 3, attn.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    q, k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    q, k, v = (t.transpose(0, 1).unsqueeze(0) for t in (q, k, v))
    outs = []
    for start, length in chunks:
        part = slice(start, start + length)
        out, _ = eager_attention_forward(attn, q[:, :, part], k[:, :, part], v[:, :, part], attention_mask=None, scaling=attn.scaling)
        outs.append(out)
    return attn.proj(torch.cat(outs, dim=1).reshape(n, -1))


class _Qwen25VLVision(_Qwen2VLVision):
    def __init__(self, visual, spec: VisionSpec):
        super().__init__(visual, spec)
        cfg = visual.config
        grid_thw = torch.tensor([[1, *self.patch_grid]])
        window_index, cu_window = get_vision_window_index(grid_thw, cfg.spatial_merge_size, cfg.window_size, cfg.patch_size)
        bounds = [int(b) for b in torch.unique_consecutive(cu_window).tolist()]
        self.window_chunks = [(a, b - a) for a, b in zip(bounds, bounds[1:])]
        self.full_chunks = [(0, self.patch_grid[0] * self.patch_grid[1])]
        self.fullatt = set(cfg.fullatt_block_indexes)
        self.unit = cfg.spatial_merge_size**2
        self.register_buffer("window_index", window_index, persistent=False)
        self.register_buffer("reverse_index", torch.argsort(window_index), persistent=False)
        self.register_buffer("rotary_ids", get_vision_position_ids(grid_thw, self.merge), persistent=False)

    def _by_window(self, t: torch.Tensor) -> torch.Tensor:
        """Reorders patches window by window, keeping each merge block's patches together."""
        n = t.shape[0]
        return t.reshape(n // self.unit, self.unit, -1)[self.window_index].reshape(n, -1)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        v = self.visual
        h = self._by_window(v.patch_embed(self.patchify(pixel_values)))
        cos, sin = (self._by_window(t) for t in v.rotary_pos_emb(h, self.rotary_ids))
        for i, blk in enumerate(v.blocks):
            chunks = self.full_chunks if i in self.fullatt else self.window_chunks
            h = h + _chunked_attention(blk.attn, blk.norm1(h), cos, sin, chunks)
            h = h + blk.mlp(blk.norm2(h))
        return v.merger(h)[self.reverse_index].unsqueeze(0)


class Qwen25VL(Qwen2VL):
    architecture = "Qwen2_5_VLForConditionalGeneration"

    def vision_graph(self, model, spec):
        return _Qwen25VLVision(model.model.visual, spec)
