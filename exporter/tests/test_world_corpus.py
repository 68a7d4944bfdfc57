"""The open-vocabulary world's corpus: at least 50,000 sentences in the world's vocabulary, a held-out part
disjoint from training, and the committed files equal to what their seed regenerates (checked on a prefix
here; `python -m vislens_world corpus --out models/objects-llava --check` compares the whole files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vislens_world import catalogue, corpus, corpusfile, imageset, seeds, vocabulary
from vislens_world.caption import caption

MODEL = Path(__file__).resolve().parents[2] / "models" / "objects-llava"


@pytest.fixture(scope="module")
def files() -> tuple[list[str], list[str]]:
    read = lambda name: (MODEL / name).read_text(encoding="utf-8").split("\n")[:-1]  # noqa: E731
    return read(corpusfile.TRAIN_FILE), read(corpusfile.HELDOUT_FILE)


def test_at_least_50000_distinct_sentences_with_a_disjoint_heldout_part(files):
    train, held = files
    assert len(train) + len(held) == seeds.CORPUS_N >= 50_000
    assert len(set(train)) == len(train) and len(set(held)) == len(held)
    assert not set(train) & set(held)
    assert 0.03 < len(held) / seeds.CORPUS_N < 0.07
    assert not any(corpus.is_heldout(s) for s in train[:5000]) and all(corpus.is_heldout(s) for s in held)


def test_the_files_begin_with_what_the_seed_regenerates(files):
    train, held = corpus.split(corpus.corpus(seeds.CORPUS_SEED, 3000))
    assert files[0][:len(train)] == train and files[1][:len(held)] == held
    assert corpus.corpus(5, 500) == corpus.corpus(5, 500) != corpus.corpus(6, 500)


def test_no_sentence_uses_a_word_outside_the_vocabulary(files):
    vocab = set(vocabulary.vocabulary())
    words = {w for part in files for s in part for w in s.split()}
    assert words <= vocab, sorted(words - vocab)[:20]
    # captions and question-answer prompts too
    cat = catalogue.load()
    for s in imageset.image_set(3, 100):
        assert not vocabulary.unknown_words(caption(s), vocab)
        for q in imageset.scene_questions(s, cat):
            assert not vocabulary.unknown_words(f"{q.question} {q.answer}", vocab), q


def test_every_class_and_category_is_talked_about(files):
    cat = catalogue.load()
    text = " " + " \n ".join(files[0]) + " "
    assert all(f" {c.name} " in text for c in cat.classes)
    assert all(f" {k.noun} " in text or f" {k.plural} " in text for k in cat.categories.values())
    banana = [s for s in files[0] + files[1] if s.startswith("a banana is a ") and s.endswith(" yellow fruit")]
    assert any(len(s.split()) == 7 for s in banana), banana[:5]  # "a banana is a sweet yellow fruit"


def test_sentences_relate_objects_to_categories_keywords_and_each_other(files):
    train = files[0]
    assert sum(" goes with " in s or " think of " in s or " has to do with " in s for s in train) > 2000
    assert sum(" chased " in s for s in train) > 100
    assert sum(s.endswith(" background") for s in train) > 5000  # captions
    assert sum(" ? " in s for s in train) > 2000  # questions with answers


def test_heldout_is_decided_by_the_sentence_alone():
    s = corpus.corpus(8, 400)
    a, b = corpus.split(s), corpus.split(list(reversed(s)))
    assert set(a[1]) == set(b[1]) and set(a[0]) == set(b[0])
    with pytest.raises(ValueError, match="n must be >= 1"):
        corpus.corpus(1, 0)
