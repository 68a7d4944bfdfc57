"""LlavaOnevisionForConditionalGeneration: anyres tiles, a base tile and newline tokens.

The HF processor picks, per image, the grid pinpoint that fits it best, resizes the image into it
(keeping the aspect ratio, padding the rest) and cuts it into tiles of the tower's size; it also
resizes the whole image to one tile (the base). The model encodes every tile, and lays out the
visual tokens as: the base tile's grid, then the tiled grid row by row, each row closed by the
learned `image_newline` token (after unpadding, and a bilinear shrink above `anyres_max_N` tiles).

vislens exports one pinpoint per bundle (`--image-size HxW`, default the 2 x 2 square): the image
is resized exactly to it, so no padding is added and unpadding removes nothing, and the token
layout is a constant that the manifest records (`vision.layout`, `vision.preprocess.tiles`).
"""

from __future__ import annotations

import math

import torch

from ..errors import ExportError
from .base import Arch, Tiles, VisionSpec
from .imageproc import HALF, ProcessorFields


class _OnevisionVision(torch.nn.Module):
    def __init__(self, model, spec: VisionSpec):
        super().__init__()
        self.model, self.image_sizes = model, [list(spec.image_size)]

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        cfg = self.model.config
        # HF's own path: tower, feature layer, projector, then pack_image_features (base tile,
        # tiled grid, newline per row). image_sizes is a Python constant: the export's pinpoint.
        features = self.model.model.get_image_features(
            pixel_values=pixel_values,
            image_sizes=self.image_sizes,
            vision_feature_layer=cfg.vision_feature_layer,
            vision_feature_select_strategy=cfg.vision_feature_select_strategy,
            vision_aspect_ratio=cfg.vision_aspect_ratio,
            return_dict=True,
        )
        return features.pooler_output[0][None]


class LlavaOnevision(Arch):
    architecture = "LlavaOnevisionForConditionalGeneration"
    default_template = "{image}\n{prompt}"

    def text_model(self, model):
        return model.model.language_model

    def vision_spec(self, model, ckpt, image_size):
        cfg, vc = model.config, model.config.vision_config
        tile, patch = vc.image_size, vc.patch_size
        side = tile // patch
        pinpoints = [tuple(p) for p in cfg.image_grid_pinpoints]
        if image_size is None:
            image_size = (2 * tile, 2 * tile) if (2 * tile, 2 * tile) in pinpoints else min(pinpoints, key=lambda p: p[0] * p[1])
        elif tuple(image_size) not in pinpoints:
            allowed = ", ".join(f"{h}x{w}" for h, w in pinpoints)
            raise ExportError(f"--image-size {image_size[0]}x{image_size[1]} is not one of config.json's image_grid_pinpoints: {allowed}")
        rows, cols = image_size[0] // tile, image_size[1] // tile
        limit = int(cfg.vision_aspect_ratio.removeprefix("anyres_max_"))
        if math.sqrt(rows * cols / limit) > 1.1:
            raise ExportError(
                f"--image-size {image_size[0]}x{image_size[1]}: {rows}x{cols} tiles exceed vision_aspect_ratio "
                f"{cfg.vision_aspect_ratio}, where the model shrinks its token grid; choose a smaller pinpoint"
            )
        tiles = Tiles(grid=(rows, cols), size=(tile, tile), base_grid=(side, side), newline=True)
        return VisionSpec(tuple(image_size), patch, 1, (rows * side, cols * side), tiles)

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        (h, w), (rows, cols) = spec.image_size, spec.tiles.grid
        f.notes.append(
            f"anyres at one pinpoint: every image is resized to {h}x{w} ({rows}x{cols} tiles; the HF processor "
            "keeps the aspect ratio and pads), the base tile to one tile, as HF does"
        )
        pre = {**f.exact_resize(spec.image_size, 3, HALF, HALF), "tiles": {"grid": [rows, cols], "size": list(spec.tiles.size)}}
        return pre, f.describe()

    def vision_graph(self, model, spec):
        return _OnevisionVision(model, spec)

    def hf_inputs(self, model, spec, pixel_values, input_ids):
        batch = input_ids.shape[0]
        return {
            "pixel_values": pixel_values[None].expand(batch, *pixel_values.shape),
            "image_sizes": torch.tensor([list(spec.image_size)] * batch),
        }
