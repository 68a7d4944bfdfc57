"""A contact sheet of seeded scenes with their captions, for docs and for eyeballing the world."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .caption import caption
from .config import WorldConfig
from .files import write_bytes_atomic
from .imageset import image_set, png_bytes


def contact_sheet(seed: int, n: int = 12, cols: int = 4,
                  config: WorldConfig | None = None) -> tuple[np.ndarray, list[str]]:
    """(uint8 RGB sheet of n scenes, cols per row, 2 px white gaps; their captions in reading order)."""
    scenes = image_set(seed, n, config)
    S = scenes[0].config.image_size
    rows = (n + cols - 1) // cols
    sheet = np.full((rows * (S + 2), cols * (S + 2), 3), 255, np.uint8)
    for i, s in enumerate(scenes):
        r, c = divmod(i, cols)
        sheet[r * (S + 2):r * (S + 2) + S, c * (S + 2):c * (S + 2) + S] = s.render()
    return sheet, [caption(s) for s in scenes]


def write_preview(out: Path, seed: int, n: int = 12, cols: int = 4) -> list[str]:
    sheet, caps = contact_sheet(seed, n, cols)
    write_bytes_atomic(Path(out), png_bytes(sheet))
    return caps
