"""The world model's tokenizer: byte-level BPE trained on the world's corpus, as the shapes fixture's.

Byte-level with add_prefix_space=false, so the TypeScript tokenizer (src/model/tokenizer.ts) reads it as it
reads the fixture's. Special tokens <s>=0, </s>=1, <pad>=2, <image>=3, the ids the fixture recipe's helpers
use. Trained on corpus.txt plus every vocabulary word twice per line ("w w", a few lines each), so every
word of the world's vocabulary is one token both bare and after a space when the vocabulary size allows
(it does at the default 4,000: BPE stops near 3,700); names of two words ("fire truck") are two tokens.
"""
from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from vislens_fixture.tok import BOS, EOS, IMAGE, PAD, SPECIALS  # noqa: F401  (same ids as the fixture)

WORD_REPEATS = 5  # lines "w w" per vocabulary word


def train_tokenizer(lines: list[str], words: list[str], vocab_size: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    extra = [f"{w} {w}" for w in words for _ in range(WORD_REPEATS)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIALS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(lines) + extra, trainer=trainer)
    return tok


def encode(tok: Tokenizer, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False).ids


def check_tokenizer(tok: Tokenizer, sample_caption: str) -> None:
    """Raises ValueError unless the special tokens have the fixture's ids, "\\n" is one token, and a caption
    after "\\n" tokenizes the same after image placeholders as after markup words."""
    for i, s in enumerate(SPECIALS):
        if tok.token_to_id(s) != i:
            raise ValueError(f"tokenizer: special token {s!r} has id {tok.token_to_id(s)}, expected {i}")
    if len(encode(tok, "\n")) != 1:
        raise ValueError(f"tokenizer: '\\n' is {encode(tok, chr(10))}, expected one token")
    a = encode(tok, "<image><image>\n" + sample_caption)
    b = encode(tok, "blue dog\n" + sample_caption)
    nl = encode(tok, "\n")[0]
    if a[:2] != [IMAGE, IMAGE] or nl not in b or a[2:] != b[b.index(nl):]:
        raise ValueError(f"tokenizer: the caption tokenizes differently after <image> ({a}) than after markup ({b})")


def token_stats(tok: Tokenizer, words: list[str], names: list[str]) -> dict:
    """How many vocabulary words and class names are one token (after a space, as in captions)."""
    return {"vocab_size": tok.get_vocab_size(),
            "words": len(words),
            "words_one_token": sum(len(encode(tok, " " + w)) == 1 for w in words),
            "words_one_token_bare": sum(len(encode(tok, w)) == 1 for w in words),
            "names": len(names),
            "names_one_token": sum(len(encode(tok, " " + n)) == 1 for n in names),
            "name_tokens_max": max(len(encode(tok, " " + n)) for n in names)}
