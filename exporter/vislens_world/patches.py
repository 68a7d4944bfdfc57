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


def coverage(scene: Scene, grid: tuple[int, int] | int | None = None) -> np.ndarray:
    """float [n_objects, rows, cols]: the fraction of each patch that each object's visible pixels cover."""
    S = scene.config.image_size
    rows, cols = _grid(scene, grid)
    ey, ex = _edges(S, rows), _edges(S, cols)
    m = scene.masks.astype(np.float64)
    # sums over each patch through cumulative sums (works for patches of unequal size)
    c = np.zeros((m.shape[0], S + 1, S + 1))
    c[:, 1:, 1:] = m.cumsum(1).cumsum(2)
    y1, y0, x1, x0 = ey[1:], ey[:-1], ex[1:], ex[:-1]
    tot = c[:, y1][:, :, x1] - c[:, y0][:, :, x1] - c[:, y1][:, :, x0] + c[:, y0][:, :, x0]
    area = np.outer(np.diff(ey), np.diff(ex))
    return tot / area[None]


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
    cov = coverage(scene, grid)
    rows, cols = cov.shape[1:] if len(cov) else _grid(scene, grid)
    if len(cov) == 0:
        return np.zeros((rows, cols), np.int64)
    best = cov.argmax(0)
    return np.where(cov.max(0) >= scene.config.patch_threshold, best + 1, 0).astype(np.int64)


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
