"""InternVLForConditionalGeneration (InternVL 3 in transformers' own class) as one 448-px tile.

InternVL's processor can cut a large image into up to 12 tiles plus a thumbnail; vislens exports
the single-tile form (`crop_to_patches` off): the whole image resized to the tower's input size,
the ViT's patch features (CLS dropped) pixel-shuffled by `downsample_ratio` (2 x 2 patches -> one
token, a merged grid like Idefics3's), and the MLP projector, giving image_seq_length tokens between
<img> and </img>.
"""

from __future__ import annotations

import torch

from ..errors import ExportError
from .base import Arch, VisionSpec
from .imageproc import CLIP_MEAN, CLIP_STD, ProcessorFields

_IMAGE = "<img>{image}</img>"


class _InternVLVision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        cfg = self.model.config
        # HF's own feature path: tower, feature layer, CLS dropped, pixel shuffle, projector.
        features = self.model.model.get_image_features(
            pixel_values=pixel_values,
            vision_feature_layer=cfg.vision_feature_layer,
            vision_feature_select_strategy=cfg.vision_feature_select_strategy,
            return_dict=True,
        )
        return features.pooler_output


def _side(value, field: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ExportError(f"config.json: vision_config.{field} is {value!r}; expected an int or [height, width]")


class InternVL(Arch):
    architecture = "InternVLForConditionalGeneration"
    default_template = _IMAGE + "\n{prompt}"
    image_expansion = _IMAGE

    def text_model(self, model):
        return model.model.language_model

    def vision_spec(self, model, ckpt, image_size):
        if image_size is not None:
            raise ExportError("--image-size: InternVL is exported as one tile at its vision tower's size; the option is for Qwen2-VL")
        vc, ratio = model.config.vision_config, model.config.downsample_ratio
        (h, w), (ph, pw) = _side(vc.image_size, "image_size"), _side(vc.patch_size, "patch_size")
        merge = round(1 / ratio)
        if abs(merge * ratio - 1) > 1e-9 or (h // ph) % merge or (w // pw) % merge or ph != pw:
            raise ExportError(
                f"config.json: a {h // ph}x{w // pw} patch grid (patch {ph}x{pw}) cannot be pixel-shuffled by downsample_ratio {ratio}"
            )
        return VisionSpec(image_size=(h, w), patch_size=ph, merge=merge, grid=(h // ph // merge, w // pw // merge))

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        f.require(not f.get("crop_to_patches", False), "crop_to_patches", True, "vislens exports InternVL as one tile (crop_to_patches false)")
        f.notes.append(f"one tile: every image is resized to {spec.image_size[0]}x{spec.image_size[1]}")
        return f.exact_resize(spec.image_size, 3, CLIP_MEAN, CLIP_STD), f.describe()

    def vision_graph(self, model, spec):
        return _InternVLVision(model)
