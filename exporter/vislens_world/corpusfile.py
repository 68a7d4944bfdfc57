"""The corpus on disk: <dir>/corpus.txt (training) and <dir>/corpus-heldout.txt, one sentence a line.

write_corpus draws seeds.CORPUS_N distinct sentences from seeds.CORPUS_SEED (corpus.corpus), splits them by
hash (corpus.split) and writes both files atomically; check_corpus regenerates them in memory and compares.
"""
from __future__ import annotations

from pathlib import Path

from .corpus import corpus, split
from .files import write_text_atomic
from .seeds import CORPUS_N, CORPUS_SEED

TRAIN_FILE = "corpus.txt"
HELDOUT_FILE = "corpus-heldout.txt"


def corpus_texts(seed: int = CORPUS_SEED, n: int = CORPUS_N) -> tuple[str, str]:
    train, held = split(corpus(seed, n))
    return "\n".join(train) + "\n", "\n".join(held) + "\n"


def write_corpus(out: Path, seed: int = CORPUS_SEED, n: int = CORPUS_N) -> dict:
    train, held = corpus_texts(seed, n)
    write_text_atomic(Path(out) / TRAIN_FILE, train)
    write_text_atomic(Path(out) / HELDOUT_FILE, held)
    return {"train": train.count("\n"), "heldout": held.count("\n"), "seed": seed}


def check_corpus(out: Path, seed: int = CORPUS_SEED, n: int = CORPUS_N) -> dict:
    """{"train_equal": bool, "heldout_equal": bool} for the files in out."""
    train, held = corpus_texts(seed, n)

    def same(name: str, text: str) -> bool:
        f = Path(out) / name
        return f.is_file() and f.read_text(encoding="utf-8") == text

    return {"train_equal": same(TRAIN_FILE, train), "heldout_equal": same(HELDOUT_FILE, held)}
