"""A pool of training scenes rendered once: the images, captions and object maps the vision tower and connector
learn from.

Rendering a scene costs a few milliseconds of Python, as much as a training step's share of the cores, so
the recipe renders the pool once (imageset.training_scenes(POOL_STREAM, i, 1): disjoint from the eval seed
and from the LM's streams) and caches it beside the stages: images.npy (uint8 [n, S, S, 3]), captions.json,
objects.npy (uint8 [n, S, S]: the id of the object visible at each pixel, 0 = background; patches.object_map)
and classes.npy (int16 [n, config.max_objects]: each id's class index, -1 past the scene's objects; patches.object_classes). The object maps
give per-patch class targets after an image is shifted (patches.patch_classes). Reopened memory-mapped.
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
from .patches import object_classes, object_map

POOL_STREAM = 5
FORMAT = 2  # 2: object maps and classes beside images and captions (part of the recipe's cache key)


@dataclass
class ScenePool:
    images: np.ndarray  # uint8 [n, S, S, 3]
    captions: list[str]
    objects: np.ndarray  # uint8 [n, S, S], object id per pixel (0 = background)
    classes: np.ndarray  # int16 [n, config.max_objects], class index per object id - 1 (-1 = none)


def render_pool(n: int, config: WorldConfig) -> ScenePool:
    S = config.image_size
    imgs = np.empty((n, S, S, 3), np.uint8)
    objs = np.empty((n, S, S), np.uint8)
    scenes, caps = [], []
    for i in range(n):
        (s,) = training_scenes(POOL_STREAM, i, 1, config)
        imgs[i] = s.render()
        objs[i] = object_map(s)
        scenes.append(s)
        caps.append(caption(s))
    return ScenePool(imgs, caps, objs, object_classes(scenes, config.max_objects))


def _save_npy(path: Path, a: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, a)
    tmp.replace(path)


def cached_pool(directory: Path, n: int, config: WorldConfig, log=print) -> ScenePool:
    d = Path(directory)
    done = d / "done.json"
    if not done.is_file():
        t0 = time.time()
        pool = render_pool(n, config)
        d.mkdir(parents=True, exist_ok=True)
        for name in ("images", "objects", "classes"):
            _save_npy(d / f"{name}.npy", getattr(pool, name))
        write_text_atomic(d / "captions.json", json.dumps(pool.captions) + "\n")
        write_text_atomic(done, json.dumps({"scenes": n, "config": config.to_json(),
                                            "seconds": round(time.time() - t0, 1)}) + "\n")
        log(f"pool: rendered {n} scenes in {time.time() - t0:.0f}s -> {d}")
    pool = ScenePool(np.load(d / "images.npy", mmap_mode="r"),
                     json.loads((d / "captions.json").read_text(encoding="utf-8")),
                     np.load(d / "objects.npy", mmap_mode="r"), np.load(d / "classes.npy", mmap_mode="r"))
    sizes = {"images": len(pool.images), "captions": len(pool.captions), "objects": len(pool.objects),
             "classes": len(pool.classes)}
    if any(v != n for v in sizes.values()):
        raise ValueError(f"{d}: the pool holds {sizes}, expected {n} of each")
    return pool


def shifted(arrays: list[np.ndarray], rng: np.random.Generator, max_shift: int) -> list[np.ndarray]:
    """Each image of each array ([b, S, S, ...]) moved by up to max_shift px in x and y, the border repeated;
    image i of every array moves by the same offset, so an image and its object map stay aligned."""
    if max_shift <= 0:
        return [np.ascontiguousarray(a) for a in arrays]
    b, S = arrays[0].shape[0], arrays[0].shape[1]
    offsets = rng.integers(0, 2 * max_shift + 1, size=(b, 2))
    out = []
    for a in arrays:
        widths = ((0, 0), (max_shift, max_shift), (max_shift, max_shift)) + ((0, 0),) * (a.ndim - 3)
        pad = np.pad(a, widths, mode="edge")
        res = np.empty_like(np.asarray(a))
        for i, (dy, dx) in enumerate(offsets):
            res[i] = pad[i, dy:dy + S, dx:dx + S]
        out.append(res)
    return out
