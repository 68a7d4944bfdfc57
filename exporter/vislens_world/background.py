"""Scene backgrounds: a named colour drawn plain, as a gradient, or with a simple texture.

The colour name is what captions say ("on a blue background"); striped, checked, dotted and speckled
backgrounds also name their pattern ("on a striped blue background"). Every choice comes from the
scene's Generator; the pattern's own parameters from the background's seed, so a Background value
renders the same pixels on every call.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalogue import COLOURS

BASE_RGB: dict[str, tuple[int, int, int]] = {
    "red": (205, 60, 55),
    "orange": (240, 150, 60),
    "yellow": (240, 220, 90),
    "green": (80, 165, 85),
    "blue": (70, 110, 215),
    "purple": (140, 80, 190),
    "pink": (240, 160, 195),
    "brown": (135, 90, 55),
    "grey": (135, 135, 135),
    "white": (238, 238, 238),
    "black": (30, 30, 30),
}
assert tuple(BASE_RGB) == COLOURS

PATTERNS = ("plain", "gradient", "striped", "checked", "dotted", "speckled")
# the word a caption uses for a pattern (plain and gradient backgrounds are named by colour alone)
PATTERN_WORD = {"plain": None, "gradient": None, "striped": "striped", "checked": "checked",
                "dotted": "dotted", "speckled": "speckled"}


@dataclass(frozen=True)
class Background:
    colour: str  # one of COLOURS
    pattern: str  # one of PATTERNS
    rgb: tuple[int, int, int]  # the main colour, jittered
    shade: tuple[int, int, int]  # the second tone of gradients and textures
    seed: int  # the pattern's own parameters (stripe width, angle, ...)

    def phrase(self) -> str:
        """'a blue background', 'a striped blue background', 'an orange background'."""
        word = PATTERN_WORD[self.pattern]
        words = f"{word} {self.colour} background" if word else f"{self.colour} background"
        return ("an " if words[0] in "aeiou" else "a ") + words

    def to_json(self) -> dict:
        return {"colour": self.colour, "pattern": self.pattern, "rgb": list(self.rgb), "shade": list(self.shade),
                "seed": self.seed}

    def render(self, size: int) -> np.ndarray:
        """float32 [size, size, 3] RGB in 0..255."""
        rng = np.random.default_rng(self.seed)
        a = np.array(self.rgb, np.float32)
        b = np.array(self.shade, np.float32)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
        if self.pattern == "plain":
            t = np.zeros((size, size), np.float32)
        elif self.pattern == "gradient":
            ang = rng.uniform(0, 2 * np.pi)
            p = (xx - size / 2) * np.cos(ang) + (yy - size / 2) * np.sin(ang)
            t = (p - p.min()) / max(float(p.max() - p.min()), 1e-6)
        elif self.pattern == "striped":
            width = rng.uniform(0.06, 0.14) * size
            orient = int(rng.integers(3))
            p = xx if orient == 0 else yy if orient == 1 else (xx + yy) / np.sqrt(2)
            t = (np.floor(p / width) % 2).astype(np.float32)
        elif self.pattern == "checked":
            cell = rng.uniform(0.08, 0.16) * size
            t = ((np.floor(xx / cell) + np.floor(yy / cell)) % 2).astype(np.float32)
        elif self.pattern == "dotted":
            step = rng.uniform(0.08, 0.14) * size
            r = rng.uniform(0.16, 0.3) * step
            dx = (xx % step) - step / 2
            dy = (yy % step) - step / 2
            t = (dx * dx + dy * dy <= r * r).astype(np.float32)
        elif self.pattern == "speckled":
            t = np.clip(rng.normal(0.5, 0.35, size=(size, size)), 0, 1).astype(np.float32)
        else:
            raise ValueError(f"Background.pattern: unknown pattern {self.pattern!r} (expected one of {PATTERNS})")
        return a * (1 - t[..., None]) + b * t[..., None]


def sample_background(rng: np.random.Generator) -> Background:
    colour = COLOURS[int(rng.integers(len(COLOURS)))]
    pattern = PATTERNS[int(rng.integers(len(PATTERNS)))]
    base = np.array(BASE_RGB[colour], np.float32) + rng.uniform(-18, 18, size=3)
    # the second tone: the same colour, lighter or darker (white only darker, black only lighter)
    sign = -1.0 if colour == "white" else 1.0 if colour == "black" else (1.0 if rng.random() < 0.5 else -1.0)
    shade = base + sign * rng.uniform(28, 50)
    rgb = tuple(int(v) for v in np.clip(np.rint(base), 0, 255))
    sh = tuple(int(v) for v in np.clip(np.rint(shade), 0, 255))
    return Background(colour, pattern, rgb, sh, int(rng.integers(2**31)))  # type: ignore[arg-type]
