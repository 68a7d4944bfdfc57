"""The shapes world: procedural scenes of coloured shapes, their captions, markup and annotations.

Everything is a pure function of a numpy Generator, so a seed fixes every image and sentence.

Scene layout: a 64x64 RGB image split into a 2x2 layout of 32x32 cells; 1-3 objects sit in distinct
cells (with jitter inside the cell). Reading order is row-major over the cells. Visual patches are
8x8 px, so the patch grid is 8x8 = 64 tokens.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IMAGE_SIZE = 64
PATCH = 8
GRID = IMAGE_SIZE // PATCH  # 8
CELLS = 2  # 2x2 layout cells
CELL = IMAGE_SIZE // CELLS  # 32 px

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 45, 45),
    "green": (45, 175, 65),
    "blue": (55, 90, 235),
    "yellow": (235, 215, 45),
    "purple": (160, 65, 205),
    "orange": (245, 140, 30),
}
SHAPES = ["circle", "square", "triangle", "cross"]
SIZES = {"small": 16, "big": 26}  # extent of the object's bounding box in px
RELATIONS = ["above", "left of"]  # relations used in captions (between consecutive objects)

# Every word of the world's language (captions, corpus, markup). Each is one token.
EXTRA_WORDS = [
    "a", "the", "is", "are", "there", "of", "above", "below", "left", "right", "and",
    "one", "two", "three", "object", "objects", "in", "top", "bottom", "picture", "shows",
    "nothing", "else", "also", "on", "it", ".", ",", ":",
]
WORDS = sorted(set(list(COLOURS) + SHAPES + list(SIZES) + EXTRA_WORDS))
BACKGROUND_WORD = "."  # markup word for a background patch
NUMBER_WORDS = {1: "one", 2: "two", 3: "three"}


@dataclass
class Obj:
    colour: str
    shape: str
    size: str
    cell: int  # 0..3, row-major over the 2x2 layout
    cx: float
    cy: float
    bbox: list[int] = field(default_factory=list)  # [x0, y0, x1, y1] px, x1/y1 exclusive

    @property
    def row(self) -> int:
        return self.cell // CELLS

    @property
    def col(self) -> int:
        return self.cell % CELLS

    def phrase(self) -> str:
        return f"a {self.size} {self.colour} {self.shape}"

    def to_json(self) -> dict:
        return {"colour": self.colour, "shape": self.shape, "size": self.size, "cell": self.cell,
                "bbox": self.bbox}


@dataclass
class Scene:
    objects: list[Obj]  # in reading order
    masks: np.ndarray  # [n, 64, 64] bool
    labels: np.ndarray  # [8, 8] int: 0 background, k = objects[k-1]
    bg: tuple[int, int, int]
    noise_seed: int

    def caption(self) -> str:
        return caption_of(self.objects)

    def relations(self) -> list[str]:
        return [relation(a, b) for a, b in zip(self.objects, self.objects[1:])]

    def markup(self) -> str:
        return markup_of(self.objects, self.labels)

    def render(self) -> np.ndarray:
        return render(self)


def relation(a: Obj, b: Obj) -> str:
    """Relation between consecutive objects (a before b in reading order)."""
    return "left of" if a.row == b.row else "above"


def caption_of(objects: list[Obj]) -> str:
    parts = [objects[0].phrase()]
    for a, b in zip(objects, objects[1:]):
        parts.append(relation(a, b))
        parts.append(b.phrase())
    return " ".join(parts)


def markup_of(objects: list[Obj], labels: np.ndarray) -> str:
    """The patch grid as words in reading order: '.' for background; on an object's patches
    the colour word and the shape word alternate in a checkerboard."""
    words = []
    for r in range(GRID):
        for c in range(GRID):
            k = int(labels[r, c])
            if k == 0:
                words.append(BACKGROUND_WORD)
            else:
                o = objects[k - 1]
                words.append(o.colour if (r + c) % 2 == 0 else o.shape)
    return " ".join(words)


_YY, _XX = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32) + 0.5


def shape_mask(shape: str, cx: float, cy: float, ext: float) -> np.ndarray:
    h = ext / 2.0
    dx, dy = _XX - cx, _YY - cy
    if shape == "circle":
        return dx * dx + dy * dy <= h * h
    if shape == "square":
        s = h * 0.88
        return (np.abs(dx) <= s) & (np.abs(dy) <= s)
    if shape == "triangle":  # apex up
        t = (dy + h) / (2 * h)  # 0 at apex, 1 at base
        return (t >= 0) & (t <= 1) & (np.abs(dx) <= t * h)
    if shape == "cross":
        w = ext / 6.0
        return ((np.abs(dx) <= w) & (np.abs(dy) <= h)) | ((np.abs(dy) <= w) & (np.abs(dx) <= h))
    raise ValueError(shape)


def sample_scene(rng: np.random.Generator, min_objects: int = 1, max_objects: int = 3) -> Scene:
    n = int(rng.integers(min_objects, max_objects + 1))
    cells = sorted(rng.choice(CELLS * CELLS, size=n, replace=False).tolist())
    objs: list[Obj] = []
    masks = []
    for cell in cells:
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        size = list(SIZES)[int(rng.integers(len(SIZES)))]
        ext = SIZES[size]
        slack = (CELL - ext) / 2.0 - 1.0
        r, c = divmod(cell, CELLS)
        cx = c * CELL + CELL / 2.0 + float(rng.uniform(-slack, slack))
        cy = r * CELL + CELL / 2.0 + float(rng.uniform(-slack, slack))
        m = shape_mask(shape, cx, cy, ext)
        ys, xs = np.nonzero(m)
        o = Obj(colour, shape, size, cell, cx, cy,
                [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
        objs.append(o)
        masks.append(m)
    masks_a = np.stack(masks)
    # patch coverage per object: [n, 8, 8]
    cov = masks_a.reshape(n, GRID, PATCH, GRID, PATCH).mean(axis=(2, 4))
    best = cov.argmax(0)
    labels = np.where(cov.max(0) >= 0.25, best + 1, 0).astype(np.int64)
    g = float(rng.uniform(25, 85))
    tint = rng.uniform(-8, 8, size=3)
    bg = tuple(int(np.clip(g + t, 0, 255)) for t in tint)
    return Scene(objs, masks_a, labels, bg, int(rng.integers(2**31)))


def render(scene: Scene) -> np.ndarray:
    """uint8 [64, 64, 3] RGB image."""
    rng = np.random.default_rng(scene.noise_seed)
    img = np.empty((IMAGE_SIZE, IMAGE_SIZE, 3), np.float32)
    img[:] = np.array(scene.bg, np.float32)
    for o, m in zip(scene.objects, scene.masks):
        col = np.array(COLOURS[o.colour], np.float32) + rng.uniform(-15, 15, size=3)
        img[m] = col
    img += rng.normal(0, 6.0, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- sentences (corpus, LM text)

def _pos_words(o: Obj) -> str:
    return ("top" if o.row == 0 else "bottom") + " " + ("left" if o.col == 0 else "right")


def _pair_relation(a: Obj, b: Obj, rng: np.random.Generator) -> str:
    """A true relation of a to b (any pair, any order)."""
    opts = []
    if a.row < b.row:
        opts.append("above")
    if a.row > b.row:
        opts.append("below")
    if a.col < b.col:
        opts.append("left of")
    if a.col > b.col:
        opts.append("right of")
    return opts[int(rng.integers(len(opts)))]


def sentence(rng: np.random.Generator, scene: Scene | None = None) -> str:
    """One sentence about a (random) scene, drawn from a mix of templates."""
    if scene is None:
        scene = sample_scene(rng)
    objs = scene.objects
    o = objs[int(rng.integers(len(objs)))]
    k = int(rng.integers(9))
    if k <= 2:
        return scene.caption()
    if k == 3:
        return f"there is {o.phrase()}"
    if k == 4:
        return f"the {o.shape} is {o.colour}" if rng.random() < 0.5 else f"the {o.colour} {o.shape} is {o.size}"
    if k == 5 and len(objs) >= 2:
        i, j = rng.choice(len(objs), size=2, replace=False)
        a, b = objs[int(i)], objs[int(j)]
        return f"the {a.colour} {a.shape} is {_pair_relation(a, b, rng)} the {b.colour} {b.shape}"
    if k == 6:
        n = len(objs)
        head = "there is one object" if n == 1 else f"there are {NUMBER_WORDS[n]} objects"
        return head + " : " + " and ".join(x.phrase() for x in objs)
    if k == 7:
        return f"the {o.size} {o.colour} {o.shape} is in the {_pos_words(o)}"
    return f"the picture shows {scene.caption()}"


def corpus(rng: np.random.Generator, n: int) -> list[str]:
    """n distinct sentences, in the order first drawn."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        seen.setdefault(sentence(rng), None)
    return list(seen)


def parse_caption(text: str) -> tuple[list[tuple[str, str, str]], list[str]] | None:
    """Parse 'a big red circle above a small blue square ...' into objects and relations.
    Returns None if the text does not follow the caption grammar."""
    w = text.strip().split()
    objs: list[tuple[str, str, str]] = []
    rels: list[str] = []
    i = 0
    while True:
        if i + 4 > len(w) or w[i] != "a" or w[i + 1] not in SIZES or w[i + 2] not in COLOURS \
                or w[i + 3] not in SHAPES:
            return None
        objs.append((w[i + 1], w[i + 2], w[i + 3]))
        i += 4
        if i == len(w):
            return objs, rels
        if w[i] == "above":
            rels.append("above")
            i += 1
        elif w[i:i + 2] == ["left", "of"]:
            rels.append("left of")
            i += 2
        else:
            return None
