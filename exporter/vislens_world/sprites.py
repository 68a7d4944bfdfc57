"""Sprites at a drawing size: alpha (with its box) and premultiplied RGB, resized once per (sprite, size).

Each channel is resized on its own in float (Lanczos) after premultiplying, so edges keep no halo.
Placement needs only the alpha and its box; rendering adds the colour channels.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .catalogue import sprite_rgba


def _resize(channel: np.ndarray, extent: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(channel, mode="F").resize((extent, extent), Image.Resampling.LANCZOS))


@lru_cache(maxsize=16384)
def sprite_alpha(sprite: str, extent: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(alpha float32 [e, e] in 0..1, box (x0, y0, x1, y1) of alpha > 0.5 in sprite pixels, x1/y1 exclusive)."""
    if extent < 1:
        raise ValueError(f"sprite_alpha({sprite!r}, extent={extent}): extent must be >= 1 px")
    a = np.clip(_resize(sprite_rgba(sprite)[..., 3].astype(np.float32) / 255.0, extent), 0.0, 1.0)
    ys, xs = np.nonzero(a > 0.5)
    if len(xs) == 0:
        raise ValueError(f"sprite {sprite!r} at {extent} px has no opaque pixel")
    a.setflags(write=False)
    return a, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


@lru_cache(maxsize=4096)
def sprite_rgb(sprite: str, extent: int) -> np.ndarray:
    """Premultiplied RGB float32 [e, e, 3] in 0..255 (at most alpha * 255 per channel)."""
    rgba = sprite_rgba(sprite).astype(np.float32)
    alpha = rgba[..., 3] / 255.0
    rgb = np.stack([_resize(rgba[..., c] * alpha, extent) for c in range(3)], axis=-1)
    a, _ = sprite_alpha(sprite, extent)
    rgb = np.minimum(np.clip(rgb, 0.0, 255.0), a[..., None] * 255.0)
    rgb.setflags(write=False)
    return rgb
