"""Seeded, annotated image sets of the shapes world: the held-out eval set and the concept split.

write_image_set(dir, seed, n) renders n scenes from np.random.default_rng(seed) to dir/0000.png ...
and writes dir/annotations.json (per image: file, caption, objects, relations, patch_labels, markup).
The same seed gives the same annotations and pixels on every run (the PNG bytes also depend on the
Pillow version's encoder).

Seeds in use, all disjoint: training draws every batch from np.random.default_rng([seed, stage, step])
(seed 0 or 1 per stage; the connector's 12,000 images from [seed, 33]); the tokenizer uses 0; the
held-out eval set 12345; the corpus 777; the concept split CONCEPT_SEED.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import world

# The concept split (models/shapes-llava/concepts/): samples for concept dictionaries (issue #10).
CONCEPT_SEED = 20240610
CONCEPT_N = 2000


def image_set(seed: int, n: int) -> list[world.Scene]:
    rng = np.random.default_rng(seed)
    return [world.sample_scene(rng) for _ in range(n)]


def annotation(scene: world.Scene, file: str) -> dict:
    return {"file": file, "caption": scene.caption(), "objects": [o.to_json() for o in scene.objects],
            "relations": scene.relations(), "patch_labels": scene.labels.tolist(), "markup": scene.markup()}


def annotations_json(scenes: list[world.Scene], seed: int, purpose: str | None = None) -> str:
    meta = {"image_size": [world.IMAGE_SIZE, world.IMAGE_SIZE], "patch_size": world.PATCH,
            "grid": [world.GRID, world.GRID], "seed": seed,
            **({"purpose": purpose} if purpose else {}),
            "bbox": "[x0, y0, x1, y1] in pixels, x1/y1 exclusive",
            "patch_labels": "rows x cols; 0 = background, k = objects[k-1] covers >= 25% of the patch "
                            "(largest coverage wins)",
            "images": [annotation(s, f"{i:04d}.png") for i, s in enumerate(scenes)]}
    return json.dumps(meta) + "\n"


def write_image_set(out: Path, seed: int, n: int, purpose: str | None = None) -> list[world.Scene]:
    from PIL import Image
    out.mkdir(parents=True, exist_ok=True)
    scenes = image_set(seed, n)
    for i, s in enumerate(scenes):
        Image.fromarray(s.render()).save(out / f"{i:04d}.png", optimize=True)
    (out / "annotations.json").write_text(annotations_json(scenes, seed, purpose))
    return scenes


def check_image_set(out: Path, seed: int, n: int, purpose: str | None = None) -> dict:
    """Regenerates the set in memory and compares it with the files in `out`: annotations byte for
    byte, every image pixel for pixel. Returns {"images", "annotations_equal", "pixels_differ": [...]}."""
    scenes = image_set(seed, n)
    return compare_image_files(Path(out), scenes, annotations_json(scenes, seed, purpose))


def compare_image_files(out: Path, scenes, annotations: str) -> dict:
    """`out`'s `0000.png`... and `annotations.json` against scenes rendered in memory (anything with
    `.render()` -> HxWx3 uint8) and the annotations text they should have: {"images",
    "annotations_equal", "pixels_differ": [...], "extra_files": [...]}. Shared by the shapes world
    and the open-vocabulary world (vislens_world)."""
    from PIL import Image

    n = len(scenes)
    ann = out / "annotations.json"
    stored = ann.read_text(encoding="utf-8") if ann.is_file() else None
    differ = []
    for i, s in enumerate(scenes):
        f = out / f"{i:04d}.png"
        if not f.is_file():
            differ.append(f.name)
            continue
        with Image.open(f) as im:
            if not np.array_equal(np.asarray(im.convert("RGB")), s.render()):
                differ.append(f.name)
    extra = sorted(p.name for p in out.glob("*.png") if not p.stem.isdigit() or int(p.stem) >= n) if out.is_dir() else []
    return {"images": n, "annotations_equal": stored == annotations, "pixels_differ": differ, "extra_files": extra}


CONCEPT_PURPOSE = "concept split: samples for concept dictionaries (disjoint from training and eval seeds)"


def write_concept_split(model_dir: Path, seed: int = CONCEPT_SEED, n: int = CONCEPT_N) -> Path:
    out = model_dir / "concepts"
    write_image_set(out, seed, n, CONCEPT_PURPOSE)
    return out
