"""A pool of training scenes rendered once: the images and captions the vision tower and connector learn from.

Rendering a scene costs a few milliseconds of Python, as much as a training step's share of the cores, so
the recipe renders the pool once (imageset.training_scenes(POOL_STREAM, i, 1): disjoint from the eval seed
and from the LM's streams) and caches it beside the stages: images.npy (uint8 [n, S, S, 3]) and
captions.json. Reopened memory-mapped.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .caption import caption
from .config import WorldConfig
from .files import write_text_atomic
from .imageset import training_scenes

POOL_STREAM = 5


@dataclass
class ScenePool:
    images: np.ndarray  # uint8 [n, S, S, 3]
    captions: list[str]


def render_pool(n: int, config: WorldConfig) -> ScenePool:
    imgs = np.empty((n, config.image_size, config.image_size, 3), np.uint8)
    caps = []
    for i in range(n):
        (s,) = training_scenes(POOL_STREAM, i, 1, config)
        imgs[i] = s.render()
        caps.append(caption(s))
    return ScenePool(imgs, caps)


def cached_pool(directory: Path, n: int, config: WorldConfig, log=print) -> ScenePool:
    d = Path(directory)
    done = d / "done.json"
    if not done.is_file():
        t0 = time.time()
        pool = render_pool(n, config)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / ".images.npy.tmp"
        with open(tmp, "wb") as f:
            np.save(f, pool.images)
        tmp.replace(d / "images.npy")
        write_text_atomic(d / "captions.json", json.dumps(pool.captions) + "\n")
        write_text_atomic(done, json.dumps({"scenes": n, "config": config.to_json(),
                                            "seconds": round(time.time() - t0, 1)}) + "\n")
        log(f"pool: rendered {n} scenes in {time.time() - t0:.0f}s -> {d}")
    images = np.load(d / "images.npy", mmap_mode="r")
    captions = json.loads((d / "captions.json").read_text(encoding="utf-8"))
    if len(images) != n or len(captions) != n:
        raise ValueError(f"{d}: the pool holds {len(images)} images and {len(captions)} captions, expected {n}")
    return ScenePool(images, captions)


def shifted(images: np.ndarray, rng: np.random.Generator, max_shift: int) -> np.ndarray:
    """Each image moved by up to max_shift px in x and y, the border repeated (uint8 [b, S, S, 3])."""
    if max_shift <= 0:
        return np.ascontiguousarray(images)
    b, S = images.shape[0], images.shape[1]
    pad = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)), mode="edge")
    out = np.empty_like(np.asarray(images))
    for i, (dy, dx) in enumerate(rng.integers(0, 2 * max_shift + 1, size=(b, 2))):
        out[i] = pad[i, dy:dy + S, dx:dx + S]
    return out
