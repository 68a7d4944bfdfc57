"""Byte-level BPE tokenizer trained on the shapes world's text (every world word = one token)."""
from __future__ import annotations

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from . import world

SPECIALS = ["<s>", "</s>", "<pad>", "<image>"]
BOS, EOS, PAD, IMAGE = 0, 1, 2, 3


def train_tokenizer(seed: int = 0) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    rng = np.random.default_rng(seed)
    lines = []
    for w in world.WORDS:  # each word both at a line start and after a space
        lines += [f"{w} {w}"] * 50
    for _ in range(4000):
        s = world.sample_scene(rng)
        lines.append(s.markup() + "\n" + s.caption())
        lines.append(world.sentence(rng, s))
    trainer = trainers.BpeTrainer(vocab_size=2000, min_frequency=2, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(lines, trainer=trainer)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    check_tokenizer(tok)
    return tok


def check_tokenizer(tok: Tokenizer) -> None:
    for w in world.WORDS:
        for v in (w, " " + w):
            ids = tok.encode(v, add_special_tokens=False).ids
            assert len(ids) == 1, (v, ids)
    assert len(tok.encode("\n", add_special_tokens=False).ids) == 1
    # the image placeholder splits off as one token; the caption after "\n" tokenizes the same
    # way whether it follows markup words or image placeholders
    cap = "a big red circle above a small blue square"
    a = tok.encode("<image><image>\n" + cap, add_special_tokens=False).ids
    b = tok.encode(". red\n" + cap, add_special_tokens=False).ids
    assert a[:2] == [IMAGE, IMAGE] and a[2:] == b[2:], (a, b)


def encode(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids
