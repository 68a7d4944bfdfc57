"""Scenes of the open-vocabulary world: deterministic from a seed, placed apart, and annotated truthfully
(per-patch labels against boxes and pixels, captions and answers against the objects drawn)."""

from __future__ import annotations

import numpy as np
import pytest

from vislens_world import catalogue, imageset, patches, seeds
from vislens_world.caption import caption, parse_caption, relation
from vislens_world.config import WorldConfig
from vislens_world.scene import sample_scene


def scenes(seed: int, n: int, cfg: WorldConfig | None = None):
    return imageset.image_set(seed, n, cfg)


def test_the_same_seed_gives_the_same_scenes_and_pixels():
    a, b = scenes(5, 20), scenes(5, 20)
    assert imageset.annotations_json(a, 5) == imageset.annotations_json(b, 5)
    assert all(np.array_equal(x.render(), y.render()) for x, y in zip(a, b))
    assert imageset.annotations_json(scenes(6, 20), 6) != imageset.annotations_json(a, 5)


@pytest.mark.parametrize("size", [64, 96])
def test_image_size_is_configurable(size):
    cfg = WorldConfig(image_size=size)
    for s in scenes(1, 10, cfg):
        assert s.render().shape == (size, size, 3)
        assert patches.patch_labels(s).shape == (size // 8, size // 8)
        for o in s.objects:
            x0, y0, x1, y1 = o.box
            assert 0 <= x0 < x1 <= size and 0 <= y0 < y1 <= size


def test_scenes_hold_1_to_4_distinct_objects_numbered_left_to_right_and_apart():
    counts = set()
    for s in scenes(2, 200):
        objs = s.objects
        counts.add(len(objs))
        assert len({o.name for o in objs}) == len(objs)
        assert [o.id for o in objs] == list(range(1, len(objs) + 1))
        xs = [o.centre[0] for o in objs]
        assert xs == sorted(xs)
        for a in objs:
            for b in objs:
                if a is b:
                    continue
                ix = max(0, min(a.box[2], b.box[2]) - max(a.box[0], b.box[0]))
                iy = max(0, min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]))
                area = min((o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) for o in (a, b))
                assert ix * iy <= s.config.max_overlap * area
                assert relation(a, b) != relation(b, a)
    assert counts == {1, 2, 3, 4}


def test_patch_labels_agree_with_the_boxes_and_pixels_of_a_rendered_scene():
    cfg = WorldConfig(noise=0.0)
    cat = catalogue.load()
    for s in scenes(3, 40, cfg):
        img, bg = s.render(), np.clip(np.rint(s.background.render(cfg.image_size)), 0, 255).astype(np.uint8)
        drawn = np.zeros(img.shape[:2], bool)
        for o in s.objects:
            drawn[max(o.y, 0):o.y + o.extent, max(o.x, 0):o.x + o.extent] = True
        assert np.array_equal(img[~drawn], bg[~drawn]), "pixels outside every sprite are the background's"
        masks = s.masks
        for grid in (cfg.grid, (7, 5)):
            cov = patches.coverage(s, grid)
            labels = patches.patch_labels(s, grid)
            ann = patches.patch_annotations(s, grid, cat)
            rows, cols = labels.shape
            ey, ex = (np.arange(rows + 1) * cfg.image_size) // rows, (np.arange(cols + 1) * cfg.image_size) // cols
            for o in s.objects:
                k = o.id
                ys, xs = np.nonzero(masks[k - 1])
                assert len(xs) and o.box[0] <= xs.min() and xs.max() < o.box[2]
                assert o.box[1] <= ys.min() and ys.max() < o.box[3]
                for r, c in zip(*np.nonzero(labels == k)):
                    # a patch labelled k lies on k's box, k covers the most of it, its pixels differ from the background
                    assert ey[r] < o.box[3] and ey[r + 1] > o.box[1] and ex[c] < o.box[2] and ex[c + 1] > o.box[0]
                    assert cov[k - 1, r, c] >= cfg.patch_threshold and cov[k - 1, r, c] == cov[:, r, c].max()
                    assert ann[r][c]["name"] == o.name and ann[r][c]["category"] == o.cls.category
                    assert ann[r][c]["keywords"] == list(o.cls.keywords) and ann[r][c]["object"] == k
                    patch = (slice(ey[r], ey[r + 1]), slice(ex[c], ex[c + 1]))
                    assert (np.abs(img[patch].astype(int) - bg[patch]).sum(-1) > 0).mean() >= cfg.patch_threshold
                # a patch that k covers more than half of is k's
                assert (labels[cov[k - 1] > 0.5] == k).all()
            assert all(ann[r][c] is None for r, c in zip(*np.nonzero(labels == 0)))


def test_captions_name_the_objects_drawn_and_their_relations():
    cat = catalogue.load()
    names = [c.name for c in cat.classes]
    for s in scenes(4, 100):
        parsed = parse_caption(caption(s), names)
        assert parsed is not None, caption(s)
        got_names, rels, bg = parsed
        assert got_names == [o.name for o in s.objects]
        assert rels == [relation(a, b) for a, b in zip(s.objects, s.objects[1:])]
        assert bg == s.background.phrase() and s.background.colour in bg.split()


def test_answers_name_objects_in_the_scene_and_are_right():
    cat = catalogue.load()
    kinds = set()
    for s in scenes(7, 100):
        present = {o.name: o for o in s.objects}
        qas = imageset.scene_questions(s, cat)
        for q in qas:
            kinds.add(q.kind)
            assert all(1 <= i <= len(s.objects) for i in q.about + q.answer_ids)
            if q.kind == "relation":
                x = s.obj(q.about[0])
                rel = q.question[len("what is "):-len(f" the {x.name} ?")]
                ys = [y for y in s.objects if y is not x and relation(y, x) == rel]
                assert [y.name for y in ys] == [q.answer] and q.answer in present
            elif q.kind == "which_category":
                assert q.answer in present and q.answer_ids == (present[q.answer].id,)
            elif q.kind == "exists":
                name = q.question.split(" ", 3)[3][:-2]
                assert (name in present) == (q.answer == "yes")
            elif q.kind == "count":
                assert q.answer == ["one", "two", "three", "four"][len(s.objects) - 1]
            elif q.kind == "category_of":
                assert q.answer == s.obj(q.about[0]).cls.category
        assert any(q.kind == "exists" and q.answer == "no" for q in qas)
    assert kinds == {"relation", "category_of", "which_category", "colour_of", "exists", "count", "background"}


def test_training_streams_differ_from_the_eval_set():
    a = imageset.training_scenes(0, 0, 8)
    assert imageset.annotations_json(a, 0) == imageset.annotations_json(imageset.training_scenes(0, 0, 8), 0)
    assert [caption(s) for s in a] != [caption(s) for s in imageset.training_scenes(0, 1, 8)]
    assert [caption(s) for s in a] != [caption(s) for s in scenes(seeds.EVAL_SEED, 8)]


def test_write_and_check_an_image_set(tmp_path):
    cfg = WorldConfig(image_size=64)
    imageset.write_image_set(tmp_path, 11, 3, cfg)
    assert imageset.check_image_set(tmp_path, 11, 3, cfg) == {"images": 3, "annotations_equal": True,
                                                             "pixels_differ": [], "extra_files": []}
    assert not list(tmp_path.glob(".*tmp*"))
    (tmp_path / "0002.png").write_bytes((tmp_path / "0000.png").read_bytes())
    assert imageset.check_image_set(tmp_path, 11, 3, cfg)["pixels_differ"] == ["0002.png"]


@pytest.mark.parametrize("kw,field", [({"image_size": 90}, "patch"), ({"max_objects": 9}, "max_objects"),
                                      ({"min_extent": 0.6}, "max_extent")])
def test_a_bad_config_names_the_field(kw, field):
    with pytest.raises(ValueError, match=f"WorldConfig.{field}"):
        WorldConfig(**kw)


def test_sample_scene_uses_only_the_generator():
    cfg = WorldConfig(image_size=64)
    a = sample_scene(np.random.default_rng(9), cfg)
    b = sample_scene(np.random.default_rng(9), cfg)
    assert caption(a) == caption(b) and [o.box for o in a.objects] == [o.box for o in b.objects]
