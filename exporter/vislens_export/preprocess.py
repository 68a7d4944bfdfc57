"""vision.preprocess of a manifest, applied in Python: image file -> pixel_values [1, 3, H, W] float32.

The steps and their order are those of docs/bundle-format.md; each mirrors the transformers image
processor step it stands for (PIL resize on 8-bit RGB, crop, then float maths).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
}


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; any other mode goes through RGBA composited over white (transformers' convert_to_rgb)."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _pad_to_square(image: Image.Image, fill: list[float]) -> Image.Image:
    w, h = image.size
    side = max(w, h)
    square = Image.new("RGB", (side, side), tuple(int(round(c)) for c in fill))
    square.paste(image, ((side - w) // 2, (side - h) // 2))
    return square


def _resize_target(size: tuple[int, int], resize: dict) -> tuple[int, int]:
    """(width, height) after `resize`; aspect-preserving modes truncate like transformers does."""
    w, h = size
    mode = resize["mode"]
    if mode == "exact":
        return resize["width"], resize["height"]
    short, long = sorted((w, h))
    if mode == "shortest_edge":
        new_short, new_long = resize["size"], int(resize["size"] * long / short)
    else:  # longest_edge
        new_short, new_long = int(resize["size"] * short / long), resize["size"]
    return (new_short, new_long) if w <= h else (new_long, new_short)


def _center_crop(image: Image.Image, hw: list[int]) -> Image.Image:
    # Floor offsets as transformers' center_crop; PIL pads with black outside the image, as it does.
    ch, cw = hw
    w, h = image.size
    top, left = (h - ch) // 2, (w - cw) // 2
    return image.crop((left, top, left + cw, top + ch))


def _normalise(image: Image.Image, pre: dict) -> np.ndarray:
    """[1, 3, H, W]: (v * rescale - mean) / std, channel-major."""
    x = np.asarray(image, dtype=np.float32) * np.float32(pre["rescale_factor"])
    x = (x - np.asarray(pre["mean"], np.float32)) / np.asarray(pre["std"], np.float32)
    return x.transpose(2, 0, 1)[None]


def _tiles(x: np.ndarray, original: Image.Image, pre: dict) -> np.ndarray:
    """`tiles` (anyres): [1 + rows * cols, 3, h, w], the base tile (the original image resized to
    one tile) first, then the tiles of x [1, 3, rows * h, cols * w] in row-major order."""
    (rows, cols), (h, w) = pre["tiles"]["grid"], pre["tiles"]["size"]
    if x.shape[2:] != (rows * h, cols * w):
        raise ValueError(f"preprocess.tiles: {rows}x{cols} tiles of {h}x{w} need a {rows * h}x{cols * w} image, got {x.shape[2:]}")
    tiles = x[0].reshape(3, rows, h, cols, w).transpose(1, 3, 0, 2, 4).reshape(rows * cols, 3, h, w)
    base = _normalise(original.resize((w, h), _RESAMPLE[pre["resample"]]), pre)
    return np.concatenate([base, tiles])


def apply(image: Image.Image, pre: dict) -> np.ndarray:
    """The vision graph's pixel_values for an image: [1, 3, H, W], or [1 + tiles, 3, h, w] with `tiles`."""
    image = original = to_rgb(image)
    if pre.get("pad_to_square"):
        image = _pad_to_square(image, pre["pad_to_square"]["fill"])
    image = image.resize(_resize_target(image.size, pre["resize"]), _RESAMPLE[pre["resample"]])
    if pre.get("center_crop"):
        image = _center_crop(image, pre["center_crop"])
    x = _normalise(image, pre)
    if pre.get("pad_to"):
        ph, pw = pre["pad_to"]
        x = np.pad(x, ((0, 0), (0, 0), (0, ph - x.shape[2]), (0, pw - x.shape[3])))
    if pre.get("tiles"):
        x = _tiles(x, original, pre)
    return np.ascontiguousarray(x, dtype=np.float32)


def load(path: str | Path, pre: dict) -> np.ndarray:
    with Image.open(path) as image:
        return apply(image, pre)
