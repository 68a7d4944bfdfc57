"""Per-patch annotation: which object (if any) each patch of a grid shows.

A patch belongs to the object whose visible pixels cover the most of it, if that is at least
config.patch_threshold of the patch (ties go to the lower id); otherwise it is background (0). Any grid
up to the image size works: patch i of g spans pixels floor(i*S/g) .. floor((i+1)*S/g).
"""
from __future__ import annotations

import numpy as np

from . import catalogue as catmod
from .scene import Scene


def _edges(size: int, n: int) -> np.ndarray:
    return (np.arange(n + 1) * size) // n


def _fractions(masks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """float [..., rows, cols]: the fraction of each patch that each mask ([..., S, S] bool) covers."""
    S = masks.shape[-1]
    ey, ex = _edges(S, rows), _edges(S, cols)
    # sums over each patch through cumulative sums (works for patches of unequal size)
    c = np.zeros(masks.shape[:-2] + (S + 1, S + 1))
    c[..., 1:, 1:] = masks.astype(np.float64).cumsum(-2).cumsum(-1)
    y1, y0, x1, x0 = ey[1:], ey[:-1], ex[1:], ex[:-1]
    tot = c[..., y1, :][..., x1] - c[..., y0, :][..., x1] - c[..., y1, :][..., x0] + c[..., y0, :][..., x0]
    return tot / np.outer(np.diff(ey), np.diff(ex))


def _winner(cov: np.ndarray, threshold: float) -> np.ndarray:
    """int64 [..., rows, cols] from cov [..., n_objects, rows, cols]: the id (1-based) of the object covering
    the most of each patch if that is at least threshold (ties go to the lower id), else 0."""
    if cov.shape[-3] == 0:
        return np.zeros(cov.shape[:-3] + cov.shape[-2:], np.int64)
    return np.where(cov.max(-3) >= threshold, cov.argmax(-3) + 1, 0).astype(np.int64)


def coverage(scene: Scene, grid: tuple[int, int] | int | None = None) -> np.ndarray:
    """float [n_objects, rows, cols]: the fraction of each patch that each object's visible pixels cover."""
    return _fractions(scene.masks, *_grid(scene, grid))


def object_map(scene: Scene) -> np.ndarray:
    """uint8 [S, S]: the id of the object visible at each pixel, 0 = background (the masks are disjoint)."""
    m = scene.masks  # [n, S, S]; a sum over n = 0 objects is all zeros
    return (m * np.arange(1, len(m) + 1, dtype=np.uint8)[:, None, None]).sum(0, dtype=np.uint8)


def object_classes(scenes: list[Scene], k: int) -> np.ndarray:
    """int16 [len(scenes), k]: the class index of each scene's object id j + 1 at column j, -1 past its objects
    (the `classes` argument of patch_classes)."""
    out = np.full((len(scenes), k), -1, np.int16)
    for i, s in enumerate(scenes):
        out[i, :len(s.objects)] = [o.cls.index for o in s.objects]
    return out


def patch_classes(objects: np.ndarray, classes: np.ndarray, grid: int, threshold: float) -> np.ndarray:
    """int64 [b, grid * grid] (row-major): per patch, 1 + the class index of the object patch_labels gives it,
    0 for background, from object maps (uint8 [b, S, S], object_map) and each image's classes (int [b, K]:
    the class index of object id k at k - 1). Works on shifted maps: the training targets of the tower."""
    K = classes.shape[1]
    masks = objects[:, None] == np.arange(1, K + 1, dtype=objects.dtype)[None, :, None, None]
    ids = _winner(_fractions(masks, grid, grid), threshold).reshape(len(objects), -1)
    cls = np.concatenate([np.full((len(objects), 1), -1, np.int64), classes.astype(np.int64)], axis=1)
    return np.take_along_axis(cls, ids, axis=1) + 1


def _grid(scene: Scene, grid) -> tuple[int, int]:
    S = scene.config.image_size
    if grid is None:
        g = (scene.config.grid, scene.config.grid)
    elif isinstance(grid, int):
        g = (grid, grid)
    else:
        g = (int(grid[0]), int(grid[1]))
    if not (1 <= g[0] <= S and 1 <= g[1] <= S):
        raise ValueError(f"patch grid {g}: expected 1..{S} rows and columns for a {S}x{S} image")
    return g


def patch_labels(scene: Scene, grid: tuple[int, int] | int | None = None) -> np.ndarray:
    """int64 [rows, cols]: 0 = background, k = the object with id k."""
    return _winner(coverage(scene, grid), scene.config.patch_threshold)


def patch_annotations(scene: Scene, grid: tuple[int, int] | int | None = None,
                      cat: catmod.Catalogue | None = None) -> list[list[dict | None]]:
    """Per patch (rows x cols, row-major): None for background, else {"object": id, "name", "category",
    "categories" (the category and its parents), "keywords", "coverage"}."""
    cat = cat or catmod.load()
    cov = coverage(scene, grid)
    labels = patch_labels(scene, grid)
    out: list[list[dict | None]] = []
    for r in range(labels.shape[0]):
        row: list[dict | None] = []
        for c in range(labels.shape[1]):
            k = int(labels[r, c])
            if k == 0:
                row.append(None)
                continue
            o = scene.obj(k)
            row.append({"object": k, "name": o.cls.name, "category": o.cls.category,
                        "categories": cat.ancestors(o.cls.category), "keywords": list(o.cls.keywords),
                        "coverage": round(float(cov[k - 1, r, c]), 4)})
        out.append(row)
    return out
