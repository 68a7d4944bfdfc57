"""What the exporter needs to know about one architecture, and the parts they share."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checkpoint import Checkpoint
from ..llm_graph import LLMGraph


@dataclass(frozen=True)
class Tiles:
    """An "anyres" image (LLaVA-NeXT / OneVision): `grid` tiles of `size` pixels cut from the image
    resized to image_size, after a base tile (the whole image at `size`) whose tokens come first
    (`base_grid` of them per side); `newline`: a learned token closes every row of the tiled grid."""

    grid: tuple[int, int]  # [rows, cols] of tiles
    size: tuple[int, int]  # [H, W] of one tile, the tower's input
    base_grid: tuple[int, int]  # [rows, cols] of the base tile's visual tokens
    newline: bool


@dataclass(frozen=True)
class VisionSpec:
    """The fixed image geometry a vision graph is exported for."""

    image_size: tuple[int, int]  # [H, W] of the preprocessed image
    patch_size: int  # encoder patch, pixels
    merge: int  # encoder patches per side per visual token
    grid: tuple[int, int]  # [rows, cols] of visual tokens over image_size (the patch grid)
    tiles: Tiles | None = None

    @property
    def num_tokens(self) -> int:
        """Visual tokens fed to the LLM: the grid, and for tiled images the base tile's and the newlines."""
        if self.tiles is None:
            return self.grid[0] * self.grid[1]
        base = self.tiles.base_grid[0] * self.tiles.base_grid[1]
        return base + self.grid[0] * (self.grid[1] + int(self.tiles.newline))

    @property
    def pixel_shape(self) -> tuple[int, ...]:
        """pixel_values as vision.onnx takes them: [1, 3, H, W], or [1 + tiles, 3, h, w] for tiled images."""
        if self.tiles is None:
            return (1, 3, *self.image_size)
        return (1 + self.tiles.grid[0] * self.tiles.grid[1], 3, *self.tiles.size)

    def patch_token_indices(self) -> list[int]:
        """For each grid patch (row-major), the index of its visual token (src/model/layout.ts's rule)."""
        rows, cols = self.grid
        if self.tiles is None:
            return list(range(rows * cols))
        base, width = self.tiles.base_grid[0] * self.tiles.base_grid[1], cols + int(self.tiles.newline)
        return [base + r * width + c for r in range(rows) for c in range(cols)]

    def manifest(self) -> dict:
        out = {
            "image_size": list(self.image_size),
            "patch_size": self.patch_size,
            "merge": self.merge,
            "grid": list(self.grid),
            "num_tokens": self.num_tokens,
            "token_order": "row-major",
        }
        if self.tiles is not None:
            out["layout"] = {"base_grid": list(self.tiles.base_grid), "newline": self.tiles.newline}
        return out

    @classmethod
    def from_manifest(cls, vision: dict) -> "VisionSpec":
        """The spec a bundle's `vision` entry records (tiles from its preprocess and layout)."""
        tiles = None
        if "layout" in vision:
            t, layout = vision["preprocess"]["tiles"], vision["layout"]
            tiles = Tiles(tuple(t["grid"]), tuple(t["size"]), tuple(layout["base_grid"]), layout["newline"])
        return cls(tuple(vision["image_size"]), vision["patch_size"], vision["merge"], tuple(vision["grid"]), tiles)


class Arch:
    """One supported Hugging Face class. Subclasses fill in the architecture-specific parts."""

    architecture: str
    # The prompt when the checkpoint brings neither vislens.json nor a chat template.
    default_template: str
    # What one image placeholder of chat-template text becomes (the processor's expansion).
    image_expansion: str = "{image}"
    # The module exported as llm.onnx (a subclass may take extra inputs, named in its extra_inputs).
    llm_graph_class = LLMGraph
    # Why this family gets no attribution graph; None when it gets one.
    attribution_note: str | None = None

    def text_model(self, model) -> torch.nn.Module:
        """The decoder stack: has .embed_tokens, .layers and .norm (the final norm)."""
        raise NotImplementedError

    def image_token_id(self, model) -> int:
        return model.config.image_token_id

    def rope(self, model) -> dict:
        return {"type": "default"}

    def vision_spec(self, model, ckpt: Checkpoint, image_size: tuple[int, int] | None) -> VisionSpec:
        raise NotImplementedError

    def preprocess(self, ckpt: Checkpoint, spec: VisionSpec) -> tuple[dict, str]:
        """The manifest's vision.preprocess, and where it came from (for source.preprocess_from)."""
        raise NotImplementedError

    def vision_graph(self, model, spec: VisionSpec) -> torch.nn.Module:
        """A module mapping pixel_values [1, 3, H, W] to the LLM's visual tokens [1, T, D]."""
        raise NotImplementedError

    def hf_inputs(self, model, spec: VisionSpec, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> dict:
        """Image keyword arguments for the HF model's forward, one copy of the image per row of input_ids.

        pixel_values is the [1, 3, H, W] tensor vision.onnx takes; this converts it to the layout the
        HF model itself expects, the way the HF image processor would.
        """
        return {"pixel_values": pixel_values.expand(input_ids.shape[0], -1, -1, -1)}
