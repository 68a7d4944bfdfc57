"""Idefics3ForConditionalGeneration (SmolVLM) without image splitting: one global image per prompt."""

from __future__ import annotations

import torch

from ..errors import ExportError
from .base import Arch, VisionSpec
from .imageproc import HALF, ProcessorFields

# Idefics3Processor's expansion of one <image> for an unsplit image.
_GLOBAL_IMAGE = "<fake_token_around_image><global-img>{image}<fake_token_around_image>"


class _Idefics3Vision(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.vision_model = model.model.vision_model
        self.connector = model.model.connector

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        # Not get_image_features: it drops all-zero images by boolean indexing (a data-dependent
        # shape). One real image needs neither that nor a pixel mask.
        hidden = self.vision_model(pixel_values=pixel_values).last_hidden_state
        return self.connector(hidden)  # pixel shuffle (merge) + projection


class Idefics3(Arch):
    architecture = "Idefics3ForConditionalGeneration"
    default_template = _GLOBAL_IMAGE + "{prompt}"
    image_expansion = _GLOBAL_IMAGE

    def text_model(self, model):
        return model.model.text_model

    def vision_spec(self, model, ckpt, image_size):
        if image_size is not None:
            raise ExportError(
                "--image-size: Idefics3 is exported at its vision tower's size; the option is for Qwen2-VL"
            )
        vc, scale = model.config.vision_config, model.config.scale_factor
        side, patch = vc.image_size, vc.patch_size
        if (side // patch) % scale:
            raise ExportError(
                f"config.json: vision_config.image_size / patch_size = {side // patch} patches per side is not "
                f"divisible by scale_factor {scale}"
            )
        n = side // patch // scale
        return VisionSpec(image_size=(side, side), patch_size=patch, merge=scale, grid=(n, n))

    def preprocess(self, ckpt, spec):
        f = ProcessorFields(ckpt.preprocessor)
        side = spec.image_size[0]
        f.notes.append(f"no image splitting: the whole image is resized to {side}x{side} (the global image)")
        # Idefics3ImageProcessor resamples with LANCZOS (1)
        return f.exact_resize((side, side), 1, HALF, HALF), f.describe()

    def vision_graph(self, model, spec):
        return _Idefics3Vision(model)

    def hf_inputs(self, model, spec, pixel_values, input_ids):
        # Idefics3 takes [batch, images per row, 3, H, W].
        return {"pixel_values": pixel_values.unsqueeze(1).expand(input_ids.shape[0], -1, -1, -1, -1)}
