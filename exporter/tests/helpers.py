"""Small helpers shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from vislens_export.archs import VisionSpec


def spec_of(manifest: dict) -> VisionSpec:
    v = manifest["vision"]
    return VisionSpec.from_manifest(v)


def write_test_image(path: Path, size=(70, 50), seed: int = 0) -> Path:
    """A non-square RGBA PNG: smooth gradients plus noise, partly transparent."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], -1) + rng.integers(0, 60, (h, w, 3))
    alpha = np.where(x < w // 4, 128, 255)[..., None]
    Image.fromarray(np.concatenate([np.clip(rgb, 0, 255), alpha], -1).astype(np.uint8), "RGBA").save(path)
    return path


def bundle_inputs(models, arch: str, image_file: Path, prompt: str):
    """The tiny bundle's runner, the image's pixel values and the prompt's ids, as the runtime builds them."""
    from vislens_export import preprocess
    from vislens_export.runtime import BundleRunner

    runner = BundleRunner(models.bundle(arch))
    pixel_values = preprocess.load(image_file, runner.manifest["vision"]["preprocess"])
    return runner, pixel_values, runner.input_ids(prompt)
