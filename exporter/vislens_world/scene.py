"""Scenes of the open-vocabulary world: 1-4 drawn objects placed on a background, and their pixels.

sample_scene(rng, config) is a pure function of the Generator: the same seed gives the same scene.
Objects are numbered 1..n left to right (by the centre of their box); that is the order captions use.
Placement keeps every pair of objects apart enough that the left-to-right order and each pair's
relation (left of / right of / above / below) are clear: boxes overlap by at most config.max_overlap of
the smaller box, x centres differ by at least config.min_separation of the image, and so does |dx|
from |dy|. An object that cannot be placed in config.placement_tries draws is left out, so a scene may
hold fewer objects than first drawn (annotations always describe what was drawn).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import catalogue as catmod
from .background import Background, sample_background
from .config import WorldConfig
from .sprites import sprite_alpha, sprite_rgb


@dataclass(frozen=True)
class Obj:
    id: int  # 1..n, left to right
    cls: catmod.ObjectClass
    extent: int  # drawn sprite side, px
    x: int  # top-left corner of the drawn sprite square (may be such that the box is inside the image)
    y: int
    box: tuple[int, int, int, int]  # [x0, y0, x1, y1] of the visible drawing (alpha > 0.5), x1/y1 exclusive
    size: str  # "small" or "big"

    @property
    def name(self) -> str:
        return self.cls.name

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2.0, (y0 + y1) / 2.0

    def to_json(self, cat: catmod.Catalogue) -> dict:
        return {"id": self.id, "name": self.cls.name, "class_index": self.cls.index, "category": self.cls.category,
                "categories": cat.ancestors(self.cls.category), "keywords": list(self.cls.keywords),
                "colour": self.cls.colour, "emoji": self.cls.emoji, "box": list(self.box), "size": self.size,
                "extent": self.extent, "sprite_xy": [self.x, self.y]}


@dataclass
class Scene:
    objects: list[Obj]  # by id (left to right)
    draw_order: list[int]  # ids, first drawn first (later ones cover earlier ones)
    background: Background
    noise_seed: int
    config: WorldConfig
    _masks: np.ndarray | None = field(default=None, repr=False)

    def obj(self, id: int) -> Obj:
        return self.objects[id - 1]

    @property
    def masks(self) -> np.ndarray:
        """bool [n, S, S]: the pixels where each object (by id) is visible (alpha > 0.5, not covered)."""
        if self._masks is None:
            S = self.config.image_size
            m = np.zeros((len(self.objects), S, S), bool)
            for oid in self.draw_order:
                o = self.obj(oid)
                a, _ = sprite_alpha(o.cls.sprite, o.extent)
                win, part = _paste_window(a > 0.5, o.x, o.y, S)
                m[(slice(None),) + win] &= ~part[None]  # what this object covers is no longer anyone else's
                m[(oid - 1,) + win] |= part
            self._masks = m
        return self._masks

    def render(self) -> np.ndarray:
        """uint8 [S, S, 3] RGB."""
        S = self.config.image_size
        img = self.background.render(S)
        for oid in self.draw_order:
            o = self.obj(oid)
            rgb, (a, _) = sprite_rgb(o.cls.sprite, o.extent), sprite_alpha(o.cls.sprite, o.extent)
            x0, y0 = max(o.x, 0), max(o.y, 0)
            x1, y1 = min(o.x + o.extent, S), min(o.y + o.extent, S)
            sr, sa = rgb[y0 - o.y:y1 - o.y, x0 - o.x:x1 - o.x], a[y0 - o.y:y1 - o.y, x0 - o.x:x1 - o.x]
            img[y0:y1, x0:x1] = sr + (1.0 - sa[..., None]) * img[y0:y1, x0:x1]
        if self.config.noise > 0:
            img = img + np.random.default_rng(self.noise_seed).normal(0, self.config.noise, size=img.shape)
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _paste_window(mask: np.ndarray, x: int, y: int, S: int):
    """(slice of the image, the part of `mask` inside it) for a mask whose top-left is at (x, y)."""
    e = mask.shape[0]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + e, S), min(y + e, S)
    return (slice(y0, y1), slice(x0, x1)), mask[y0 - y:y1 - y, x0 - x:x1 - x]


def _area(b) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _fits(box, placed: list[tuple], cfg: WorldConfig) -> bool:
    S = cfg.image_size
    sep = cfg.min_separation * S
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    for other in placed:
        ob = other[3]
        inter = _area((max(box[0], ob[0]), max(box[1], ob[1]), min(box[2], ob[2]), min(box[3], ob[3])))
        if inter > cfg.max_overlap * min(_area(box), _area(ob)):
            return False
        ox, oy = (ob[0] + ob[2]) / 2.0, (ob[1] + ob[3]) / 2.0
        dx, dy = abs(cx - ox), abs(cy - oy)
        if dx < sep or abs(dx - dy) < sep:
            return False
    return True


def sample_scene(rng: np.random.Generator, config: WorldConfig | None = None,
                 cat: catmod.Catalogue | None = None, include: int | None = None) -> Scene:
    """include: a class index the scene must show (placed first, so always placed); the other objects are
    drawn from the remaining classes. Without it, the draws are the same as ever."""
    cfg = config or WorldConfig()
    cat = cat or catmod.load()
    S = cfg.image_size
    n = int(rng.integers(cfg.min_objects, cfg.max_objects + 1))
    if include is None:
        picks = [int(i) for i in rng.choice(len(cat.classes), size=n, replace=False)]
    else:
        others = [i for i in range(len(cat.classes)) if i != include]
        picks = [include] + [others[int(i)] for i in rng.choice(len(others), size=n - 1, replace=False)]
    background = sample_background(rng)
    placed: list[tuple] = []  # (class, extent, (x, y), box), in drawing order
    for ci in picks:
        oc = cat.classes[ci]
        for _ in range(cfg.placement_tries):
            ext = int(round(rng.uniform(cfg.min_extent, cfg.max_extent) * S))
            _, (bx0, by0, bx1, by1) = sprite_alpha(oc.sprite, ext)
            # the drawing (not the sprite square) lies inside the image
            x = int(rng.integers(-bx0, S - bx1 + 1))
            y = int(rng.integers(-by0, S - by1 + 1))
            box = (x + bx0, y + by0, x + bx1, y + by1)
            if _fits(box, placed, cfg):
                placed.append((oc, ext, (x, y), box))
                break
    # ids left to right
    order = sorted(range(len(placed)), key=lambda i: ((placed[i][3][0] + placed[i][3][2]) / 2.0, i))
    id_of = {i: k + 1 for k, i in enumerate(order)}
    objs = []
    for k, i in enumerate(order):
        oc, ext, (x, y), box = placed[i]
        objs.append(Obj(k + 1, oc, ext, x, y, box, "big" if ext >= cfg.big_from * S else "small"))
    return Scene(objs, [id_of[i] for i in range(len(placed))], background, int(rng.integers(2**31)), cfg)
