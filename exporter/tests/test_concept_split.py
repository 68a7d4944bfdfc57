"""The shipped concept split (models/shapes-llava/concepts/) is what its seed regenerates."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from vislens_fixture import imageset
from vislens_fixture.recipe import FixtureSpec

SPLIT = Path(__file__).resolve().parents[2] / "models" / "shapes-llava" / "concepts"


def test_concept_split_regenerates_identically():
    res = imageset.check_image_set(SPLIT, imageset.CONCEPT_SEED, imageset.CONCEPT_N, imageset.CONCEPT_PURPOSE)
    assert res == {"images": 2000, "annotations_equal": True, "pixels_differ": [], "extra_files": []}


def test_concept_split_seed_is_disjoint_from_the_recipes_seeds():
    spec = FixtureSpec()
    assert imageset.CONCEPT_SEED not in {spec.eval_seed, spec.corpus_seed, spec.tokenizer_seed, spec.lm.seed,
                                         spec.vision.seed, spec.connector.seed, 0, 1}
    meta = json.loads((SPLIT / "annotations.json").read_text())
    assert meta["seed"] == imageset.CONCEPT_SEED and len(meta["images"]) == imageset.CONCEPT_N
    # Not one image of the held-out set reappears (single-object scenes can share caption and box by
    # chance; their colours, background and noise still differ).
    digest = lambda d: {hashlib.sha256(p.read_bytes()).hexdigest() for p in d.glob("*.png")}  # noqa: E731
    assert not digest(SPLIT.parent / "eval") & digest(SPLIT)


def test_check_reports_a_changed_image(tmp_path):
    imageset.write_image_set(tmp_path, 7, 3, "test")
    (tmp_path / "0001.png").write_bytes((tmp_path / "0000.png").read_bytes())
    res = imageset.check_image_set(tmp_path, 7, 3, "test")
    assert res["annotations_equal"] and res["pixels_differ"] == ["0001.png"]
    assert not imageset.check_image_set(tmp_path, 8, 3, "test")["annotations_equal"]
