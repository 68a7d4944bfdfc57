"""The world model's recipe (vislens_world train): markup, LM documents, tokenizer, caption scoring, the judge
fixture the TypeScript tests read, and a --quick run end to end (train every stage for a few steps, save the
HF checkpoint, evaluate, load it in transformers, export it with vislens_export). The full run (about 2 h on
2 cores) is never started here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vislens_world import catalogue
from vislens_world.caption import caption
from vislens_world.evaluate import score
from vislens_world.imageset import annotation, annotations_json, image_set
from vislens_world.lm_docs import markup_doc, packed_row
from vislens_world.markup import markup
from vislens_world.model_spec import WorldModelSpec, quick
from vislens_world.patches import patch_labels
from vislens_world.seeds import EVAL_SEED
from vislens_world.tokenizer import check_tokenizer, encode, token_stats, train_tokenizer
from vislens_world.vocabulary import vocabulary

REPO = Path(__file__).resolve().parents[2]
JUDGE_FIXTURE = REPO / "test" / "eval" / "data" / "world-annotations.json"
SPEC = WorldModelSpec()


@pytest.fixture(scope="module")
def scenes():
    return image_set(EVAL_SEED, 12, SPEC.world())


def test_the_judge_fixture_is_what_the_eval_seed_regenerates(scenes):
    """test/eval/data/world-annotations.json = the annotations of the model's eval set cut to 12 images, as
    `python -m vislens_world images --out DIR --n 12 --patch 12` writes them."""
    assert JUDGE_FIXTURE.read_text(encoding="utf-8") == annotations_json(scenes, EVAL_SEED)
    assert json.loads(JUDGE_FIXTURE.read_text())["grid"] == [SPEC.grid, SPEC.grid] == [8, 8]


def test_markup_is_one_word_per_patch_naming_its_object_or_background(scenes):
    cat = catalogue.load()
    for s in scenes:
        words = markup(s).split()
        labels = patch_labels(s)
        assert len(words) == SPEC.grid * SPEC.grid and labels.shape == (SPEC.grid, SPEC.grid)
        for (r, c), w in zip(np.ndindex(*labels.shape), words):
            k = int(labels[r, c])
            if k:
                assert w in s.obj(k).cls.name.split()
            else:
                assert w in (s.background.colour, s.background.pattern)
        assert set(words) <= set(vocabulary(cat))
    from vislens_world.markup import patch_word

    s = scenes[7]  # holds a soccer ball (id 2): two-word names alternate their words in a checkerboard
    assert s.obj(2).name == "soccer ball"
    assert [patch_word(s, 2, 0, c) for c in range(3)] == ["soccer", "ball", "soccer"]


@pytest.fixture(scope="module")
def small_tok():
    lines = [caption(s) for s in image_set(5, 300, SPEC.world())]
    return train_tokenizer(lines, vocabulary(), 4000)


def test_tokenizer_makes_every_world_word_one_token_and_splits_off_image_tokens(small_tok, scenes):
    check_tokenizer(small_tok, caption(scenes[0]))
    names = [c.name for c in catalogue.load().classes]
    st = token_stats(small_tok, vocabulary(), names)
    assert st["words_one_token"] == st["words"] == len(vocabulary())
    assert st["names_one_token"] == sum(" " not in n for n in names) and st["name_tokens_max"] == 2


def test_lm_documents_are_markup_then_caption_or_question_and_answer(small_tok, scenes):
    rng = np.random.default_rng(0)
    cap_doc = markup_doc(small_tok, scenes[9], rng, qa_frac=0.0)
    text = small_tok.decode(cap_doc[1:-1])
    assert (cap_doc[0], cap_doc[-1]) == (0, 1) and text == markup(scenes[9]) + "\n" + caption(scenes[9])
    qa = small_tok.decode(markup_doc(small_tok, scenes[9], rng, qa_frac=1.0)[1:-1]).split("\n")[1]
    assert "?" in qa and qa.split(" ? ")[1]
    corpus_ids = [encode(small_tok, "a banana is a sweet yellow fruit"), encode(small_tok, "the dog chased the cat")]
    row = packed_row(corpus_ids, np.random.default_rng(1), 30)
    assert len(row) <= 30 and row.count(0) == row.count(1) >= 2


def test_score_counts_objects_by_position_and_the_rest_as_documented(scenes):
    anns = [annotation(s, f"{i:04d}.png") for i, s in enumerate(scenes)]
    perfect = score([a["caption"] for a in anns], anns)
    assert all(perfect[k] == 1.0 for k in ("exact_caption", "grammatical", "object_count", "object_name",
                                           "object_name_anywhere", "object_name_precision", "object_category",
                                           "relation", "background_colour", "background"))
    a = anns[9]  # a cake above a battery below a sailboat above a pepper on a speckled purple background
    swapped = a["caption"].replace("a cake", "a pie", 1).replace("purple", "green")
    one = score([swapped], [a])
    # pie is a dessert, as a cake is
    assert one["exact_caption"] == 0 and one["object_name"] == 0.75 and one["object_category"] == 1.0
    assert one["background_colour"] == 0 and one["relation"] == 1.0
    short = score(["a battery below a sailboat on a speckled purple background"], [a])
    assert short["object_name"] == 0 and short["object_name_anywhere"] == 0.5 and short["object_name_precision"] == 1.0
    assert short["object_count"] == 0 and short["background"] == 1.0
    assert score(["the the the"], [a])["grammatical"] == 0


def test_quick_recipe_trains_every_stage_saves_a_checkpoint_transformers_and_the_exporter_accept(tmp_path, monkeypatch):
    """--quick: tiny models, 3 steps per stage; the real recipe code path end to end. One thread (train() sets
    torch's threads from $VISLENS_THREADS; two on a busy machine made it three times slower)."""
    import torch
    from transformers import LlavaForConditionalGeneration

    from vislens_world.recipe import train

    monkeypatch.setenv("VISLENS_THREADS", "1")
    out, work = tmp_path / "objects-quick", tmp_path / "work"
    t0 = time.time()
    res = train(out, work, quick(SPEC))
    first = time.time() - t0
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    assert metrics["heldout"]["images"] == 6 and len(metrics["predictions"]) == 6 == res["heldout"]["images"]
    assert set(metrics["training"]["stages"]) == {"lm", "vision", "connector"}
    vision = metrics["training"]["stages"]["vision"]
    assert vision["spec"]["kind"] == "contrastive+patchcls"
    (acc_key,) = [k for k in vision if k.startswith("heldout_patch_class_acc_of_")]
    assert 0 <= vision[acc_key] <= 1 and int(acc_key.split("_")[-3]) > 0
    ann = json.loads((out / "eval" / "annotations.json").read_text())
    assert ann["grid"] == [8, 8] and len(ann["images"]) == 6 and (out / "eval" / "0005.png").is_file()
    assert (out / "corpus.txt").is_file() and (out / "corpus-heldout.txt").is_file()

    model = LlavaForConditionalGeneration.from_pretrained(out / "hf")
    assert model.config.image_seq_length == 64 and model.config.vision_config.image_size == 96
    assert model.config.vision_config.patch_size == 12 and model.config.image_token_index == 3
    with torch.no_grad():
        px = torch.zeros(1, 3, 96, 96)
        ids = torch.tensor([[0] + [3] * 64 + [encode_nl(out)]])
        assert model(input_ids=ids, pixel_values=px).logits.shape[:2] == (1, 66)

    # cached stages are reused: a second run trains nothing
    t0 = time.time()
    train(out, work, quick(SPEC))
    assert time.time() - t0 < first
    rec = json.loads((work / "last_train.json").read_text())
    assert rec["times_this_run"]["lm"] < 1.0 and rec["times_this_run"]["vision"] < 1.0

    bundle = tmp_path / "bundle"
    r = subprocess.run([sys.executable, "-m", "vislens_export", str(out / "hf"), str(bundle), "--no-attribution"],
                       cwd=REPO / "exporter", capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["vision"]["grid"] == [8, 8] and manifest["vision"]["num_tokens"] == 64
    assert manifest["prompt"]["template"] == "{image}\n{prompt}" and manifest["prompt"]["image_token_id"] == 3

    # --lm-from: a fresh stage cache takes the LM from the checkpoint instead of training it, tensor for tensor
    # (how the grid's second tower shares objects-llava's LM); the tower and connector are trained again.
    out2, work2 = tmp_path / "objects-quick-second", tmp_path / "work2"
    spec2 = replace(quick(SPEC), vision=replace(quick(SPEC).vision, kind="contrastive"))
    train(out2, work2, spec2, lm_from=out / "hf")
    rec2 = json.loads((work2 / "last_train.json").read_text())
    assert rec2["stages"]["lm"]["from_checkpoint"] == str(out / "hf")
    # the loaded LM has a stage directory of its own (keyed by the checkpoint), never a trained LM's
    assert [p.name.split("-")[:3] for p in work2.glob("world-lm*")] == [["world", "lm", "from"]]
    assert rec2["stages"]["vision"]["spec"]["kind"] == "contrastive"
    first_lm = model.state_dict()
    second = LlavaForConditionalGeneration.from_pretrained(out2 / "hf").state_dict()
    lm_keys = [k for k in first_lm if "language_model" in k or k.startswith("lm_head")]
    assert len(lm_keys) > 10 and all(torch.equal(first_lm[k], second[k]) for k in lm_keys)
    tower = [k for k in first_lm if "vision_tower" in k and k.endswith("q_proj.weight")]
    assert tower and not all(torch.equal(first_lm[k], second[k]) for k in tower), "the tower was trained again"

    # a checkpoint whose tokenizer is not the recipe's is refused, naming the file
    bad = tmp_path / "bad-hf"
    shutil.copytree(out / "hf", bad)
    tok = json.loads((bad / "tokenizer.json").read_text())
    tok["model"]["vocab"]["zzzz"] = len(tok["model"]["vocab"])
    (bad / "tokenizer.json").write_text(json.dumps(tok))
    with pytest.raises(ValueError, match=r"bad-hf/tokenizer.json: tokenizer sha256"):
        train(tmp_path / "objects-bad", tmp_path / "work3", quick(SPEC), lm_from=bad)


def test_patch_classes_from_object_maps_equal_patch_labels_and_follow_a_shift(scenes):
    """The tower's targets (patch_classes over pool-style object maps) equal patch_labels on the unshifted
    scenes, and shifting an image and its map together keeps every object pixel's colour where its id is."""
    from vislens_world.patches import object_classes, object_map, patch_classes
    from vislens_world.pool import shifted

    maps = np.stack([object_map(s) for s in scenes])
    got = patch_classes(maps, object_classes(scenes, 4), SPEC.grid, SPEC.world().patch_threshold)
    for i, s in enumerate(scenes):
        want = np.array([0] + [o.cls.index + 1 for o in s.objects])[patch_labels(s)].reshape(-1)
        assert (got[i] == want).all()
    assert (got > 0).any() and (got == 0).any()

    images = np.stack([s.render() for s in scenes])
    img2, map2 = shifted([images, maps], np.random.default_rng(0), 4)
    assert not (map2 == maps).all()
    for i in range(len(scenes)):
        moved = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)
                 if (np.roll(np.roll(maps[i], dy, 0), dx, 1)[4:-4, 4:-4] == map2[i][4:-4, 4:-4]).all()
                 and (np.roll(np.roll(images[i], dy, 0), dx, 1)[4:-4, 4:-4] == img2[i][4:-4, 4:-4]).all()]
        assert moved, f"image {i}: the map and the image did not move by one offset"


def encode_nl(out: Path) -> int:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(out / "hf" / "tokenizer.json")).encode("\n", add_special_tokens=False).ids[0]
