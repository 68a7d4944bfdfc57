"""LlavaForConditionalGeneration: CLIP-style tower, feature-layer selection, MLP projector, Llama LM."""

from __future__ import annotations

import torch

from ..checkpoint import Checkpoint
from ..errors import ExportError
from .base import Arch, VisionSpec
from .imageproc import CLIP_MEAN, CLIP_STD, ProcessorFields


def _hw(value, field: str) -> list[int]:
    """A size field that may be an int, {"height", "width"} or {"shortest_edge"} (square)."""
    if isinstance(value, int):
        return [value, value]
    if isinstance(value, dict) and "height" in value and "width" in value:
        return [value["height"], value["width"]]
    raise ExportError(f'preprocessor_config.json: field "{field}" is {value!r}; expected an int or height/width')


class _LlavaVision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # HF's own feature path: tower, config's feature layer(s) and select strategy, projector.
        features = self.model.model.get_image_features(pixel_values=pixel_values, return_dict=True)
        return features.pooler_output[0].unsqueeze(0)


class Llava(Arch):
    architecture = "LlavaForConditionalGeneration"
    # llava-1.5's conversation format; checkpoints with a chat template get theirs instead.
    default_template = "USER: {image}\n{prompt} ASSISTANT:"

    def text_model(self, model):
        return model.model.language_model

    def vision_spec(self, model, ckpt: Checkpoint, image_size):
        if image_size is not None:
            raise ExportError("--image-size: LLaVA's vision tower has a fixed input size; the option is for Qwen2-VL")
        vc = model.config.vision_config
        side, patch = vc.image_size, vc.patch_size
        return VisionSpec(image_size=(side, side), patch_size=patch, merge=1, grid=(side // patch, side // patch))

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        side = spec.image_size[0]
        size = f.get("size", {"shortest_edge": side})
        if isinstance(size, int):  # older CLIP processors: an int size is the shortest edge
            size = {"shortest_edge": size}
        if "shortest_edge" in size:
            resize = {"mode": "shortest_edge", "size": size["shortest_edge"]}
        elif "longest_edge" in size:
            resize = {"mode": "longest_edge", "size": size["longest_edge"]}
        else:
            height, width = _hw(size, "size")
            resize = {"mode": "exact", "height": height, "width": width}
        crop = _hw(f.get("crop_size", side), "crop_size") if f.get("do_center_crop", True) else None
        final = crop or ([resize["height"], resize["width"]] if resize["mode"] == "exact" else None)
        f.require(
            final == list(spec.image_size),
            "crop_size" if crop else "size",
            f.get("crop_size", side) if crop else size,
            f"the vision tower takes {side}x{side} images, so resize/crop must end there",
        )
        norm = f.normalisation(CLIP_MEAN, CLIP_STD)
        pre = {
            # llava-1.5 "expand to square": pad with the mean colour, as LlavaImageProcessor does.
            "pad_to_square": {"fill": [int(m * 255) for m in norm["mean"]]} if f.get("do_pad", False) else None,
            "resize": resize,
            "resample": f.resample(default=3),
            "center_crop": crop,
            "pad_to": None,
            **norm,
        }
        return pre, f.describe()

    def vision_graph(self, model, spec):
        return _LlavaVision(model)
