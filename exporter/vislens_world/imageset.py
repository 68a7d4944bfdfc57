"""Seeded, annotated image sets of the open-vocabulary world (the held-out eval set), and training streams.

write_image_set(dir, seed, n, config) renders n scenes from np.random.default_rng(seed) to dir/0000.png ...
and writes dir/annotations.json: per image its file, caption, background, objects (id, name, category and
its parents, keywords, colour, box, size), every pairwise relation, the question-answer prompts, and the
patch labels of the config's grid (patches.patch_annotations expands them per patch). check_image_set
regenerates a set in memory and compares it with the files. training_scenes(stage, step, n) is the
stream training draws from (np.random.default_rng([TRAIN_SEED, stage, step])), disjoint from the eval seed.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from . import catalogue as catmod
from .caption import caption, relations
from .config import WorldConfig
from .files import write_bytes_atomic, write_text_atomic
from .patches import patch_labels
from .questions import questions
from .scene import Scene, sample_scene
from .seeds import CONCEPT_PER_TARGET, CONCEPT_SEED, CONCEPT_TARGETS, TRAIN_SEED


def image_set(seed: int, n: int, config: WorldConfig | None = None) -> list[Scene]:
    rng = np.random.default_rng(seed)
    cat = catmod.load()
    return [sample_scene(rng, config, cat) for _ in range(n)]


def concept_scenes(seed: int = CONCEPT_SEED, targets: tuple[str, ...] = CONCEPT_TARGETS,
                   per_target: int = CONCEPT_PER_TARGET, config: WorldConfig | None = None) -> list[Scene]:
    """The concept split: scene i shows targets[i % len(targets)] among 0-3 other objects, so any first
    k * len(targets) images hold k scenes of each target (the concept dictionaries' samples are images
    whose caption names the word, as the paper's are)."""
    rng = np.random.default_rng(seed)
    cat = catmod.load()
    idx = [cat.by_name(t).index for t in targets]
    return [sample_scene(rng, config, cat, include=idx[i % len(idx)]) for i in range(per_target * len(idx))]


def training_scenes(stage: int, step: int, n: int, config: WorldConfig | None = None) -> list[Scene]:
    rng = np.random.default_rng([TRAIN_SEED, stage, step])
    cat = catmod.load()
    return [sample_scene(rng, config, cat) for _ in range(n)]


def scene_questions(scene: Scene, cat: catmod.Catalogue | None = None):
    """The scene's question-answer prompts; the absent class of "is there ...? no" comes from the scene's
    own seed, so this is a pure function of the scene."""
    return questions(scene, np.random.default_rng([scene.noise_seed, 1]), cat)


def annotation(scene: Scene, file: str, cat: catmod.Catalogue | None = None) -> dict:
    cat = cat or catmod.load()
    return {"file": file, "caption": caption(scene), "background": scene.background.to_json(),
            "objects": [o.to_json(cat) for o in scene.objects], "draw_order": scene.draw_order,
            "relations": relations(scene), "questions": [q.to_json() for q in scene_questions(scene, cat)],
            "patch_labels": patch_labels(scene).tolist()}


def annotations_json(scenes: list[Scene], seed: int, purpose: str | None = None) -> str:
    cat = catmod.load()
    cfg = scenes[0].config if scenes else WorldConfig()
    meta = {"world": "vislens_world (open vocabulary)", "seed": seed, **({"purpose": purpose} if purpose else {}),
            "image_size": [cfg.image_size, cfg.image_size], "patch_size": cfg.patch, "grid": [cfg.grid, cfg.grid],
            "config": cfg.to_json(),
            "box": "[x0, y0, x1, y1] of the visible drawing (alpha > 0.5) in pixels, x1/y1 exclusive",
            "patch_labels": f"rows x cols; 0 = background, k = the object with id k, which covers the most of "
                            f"the patch and at least {cfg.patch_threshold:g} of it",
            "ids": "objects are numbered 1..n left to right by box centre, the order captions use",
            "images": [annotation(s, f"{i:04d}.png", cat) for i, s in enumerate(scenes)]}
    return json.dumps(meta) + "\n"


def png_bytes(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def write_image_set(out: Path, seed: int, n: int, config: WorldConfig | None = None,
                    purpose: str | None = None) -> list[Scene]:
    return write_scenes(out, image_set(seed, n, config), seed, purpose)


def write_scenes(out: Path, scenes: list[Scene], seed: int, purpose: str | None = None) -> list[Scene]:
    """Writes scenes as an annotated set: out/0000.png ... and out/annotations.json."""
    out = Path(out)
    for i, s in enumerate(scenes):
        write_bytes_atomic(out / f"{i:04d}.png", png_bytes(s.render()))
    write_text_atomic(out / "annotations.json", annotations_json(scenes, seed, purpose))
    return scenes


def check_image_set(out: Path, seed: int, n: int, config: WorldConfig | None = None,
                    purpose: str | None = None) -> dict:
    """{"images", "annotations_equal", "pixels_differ": [...], "extra_files": [...]} against the files in out."""
    return check_scenes(out, image_set(seed, n, config), seed, purpose)


def check_scenes(out: Path, scenes: list[Scene], seed: int, purpose: str | None = None) -> dict:
    """check_image_set for any list of scenes (the concept split)."""
    from vislens_fixture.imageset import compare_image_files

    return compare_image_files(Path(out), scenes, annotations_json(scenes, seed, purpose))
