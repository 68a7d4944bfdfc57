"""The open-vocabulary world's concept split (models/objects-llava/concepts/): every scene shows its target,
the targets take turns, and the files are what the seed regenerates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from vislens_world import catalogue, seeds
from vislens_world.imageset import concept_scenes, image_set
from vislens_world.model_spec import WorldModelSpec

REPO = Path(__file__).resolve().parents[2]
SPLIT = REPO / "models" / "objects-llava" / "concepts"


def test_every_scene_shows_its_target_in_turn_and_draws_stay_as_they_were():
    cfg = WorldModelSpec().world()
    scenes = concept_scenes(per_target=5, config=cfg)
    assert len(scenes) == 5 * len(seeds.CONCEPT_TARGETS)
    for i, s in enumerate(scenes):
        names = [o.name for o in s.objects]
        assert seeds.CONCEPT_TARGETS[i % len(seeds.CONCEPT_TARGETS)] in names, (i, names)
        assert len(set(names)) == len(names)
    # the forced class changes nothing for scenes drawn without one (the eval set's draws)
    assert [o.name for o in image_set(seeds.EVAL_SEED, 3, cfg)[2].objects] == \
        [o["name"] for o in json.loads((REPO / "models" / "objects-llava" / "eval" / "annotations.json").read_text())["images"][2]["objects"]]
    assert seeds.CONCEPT_SEED not in {seeds.EVAL_SEED, seeds.CORPUS_SEED, seeds.TRAIN_SEED}
    assert all(catalogue.load().by_name(t) for t in seeds.CONCEPT_TARGETS)


def test_the_shipped_split_is_what_its_seed_regenerates():
    meta = json.loads((SPLIT / "annotations.json").read_text())
    assert meta["seed"] == seeds.CONCEPT_SEED and meta["grid"] == [8, 8]
    assert len(meta["images"]) == seeds.CONCEPT_PER_TARGET * len(seeds.CONCEPT_TARGETS)
    r = subprocess.run([sys.executable, "-m", "vislens_world", "concepts", "--out", str(SPLIT.parent), "--check"],
                       cwd=REPO / "exporter", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == {"images": 600, "annotations_equal": True, "pixels_differ": [], "extra_files": []}
    # no scene of the held-out set reappears
    ev = {(a["caption"], tuple(tuple(o["box"]) for o in a["objects"]))
          for a in json.loads((SPLIT.parent / "eval" / "annotations.json").read_text())["images"]}
    assert not ev & {(a["caption"], tuple(tuple(o["box"]) for o in a["objects"])) for a in meta["images"]}
    assert np.mean([len(a["objects"]) for a in meta["images"]]) > 1.5
