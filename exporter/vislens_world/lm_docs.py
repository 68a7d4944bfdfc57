"""The LM's training documents: scene markup followed by the caption (or a question and its answer), and
plain corpus sentences packed into rows.

    <s> blue blue dog dog ... striped blue \\n a dog to the left of a banana on a striped blue background </s>
    <s> blue blue dog ... \\n what is left of the banana ? dog </s>
    <s> a banana is a sweet yellow fruit </s> <s> the dog chased the cat </s> ...

Row i of a batch is a markup document with probability markup_frac; its scene comes from
imageset.training_scenes(LM_STREAM, step, ...), everything else from np.random.default_rng([seed, 11, step]),
so a step's batch is the same on every run (resuming included).
"""
from __future__ import annotations

import numpy as np

from .caption import caption
from .config import WorldConfig
from .imageset import scene_questions, training_scenes
from .markup import markup
from .scene import Scene
from .tokenizer import BOS, EOS, encode

LM_STREAM = 2


def markup_doc(tok, scene: Scene, rng: np.random.Generator, qa_frac: float) -> list[int]:
    if rng.random() < qa_frac:
        qs = scene_questions(scene)
        q = qs[int(rng.integers(len(qs)))]
        body = f"{q.question} {q.answer}"
    else:
        body = caption(scene)
    return [BOS] + encode(tok, markup(scene)) + encode(tok, "\n") + encode(tok, body) + [EOS]


def packed_row(corpus_ids: list[list[int]], rng: np.random.Generator, seq: int) -> list[int]:
    """Corpus sentences, each <s> ... </s>, until the next would pass seq tokens (at least one)."""
    row: list[int] = []
    while True:
        ids = [BOS] + corpus_ids[int(rng.integers(len(corpus_ids)))] + [EOS]
        if row and len(row) + len(ids) > seq:
            return row
        row += ids[:seq]


def lm_batch(tok, corpus_ids: list[list[int]], step: int, *, batch: int, seq: int, markup_frac: float,
             qa_frac: float, seed: int, config: WorldConfig) -> list[list[int]]:
    rng = np.random.default_rng([seed, 11, step])
    is_markup = rng.random(batch) < markup_frac
    scenes = iter(training_scenes(LM_STREAM, step, int(is_markup.sum()), config))
    return [markup_doc(tok, next(scenes), rng, qa_frac) if m else packed_row(corpus_ids, rng, seq)
            for m in is_markup]
