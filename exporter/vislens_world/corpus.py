"""The world's text corpus: sentences that relate objects to their categories, keywords and attributes
in varied contexts, plus scene descriptions in the caption language.

    a banana is a sweet yellow fruit          (category + attributes)
    the dog chased the cat                    (objects acting on each other, by category)
    you can find a crab on the beach          (places)
    the word banana goes with potassium       (CLDR keywords)
    a dog to the left of a banana on a blue background   (captions of sampled scenes)
    what is left of the dog ? banana          (questions with their answers)

corpus(seed, n) draws sentences from np.random.default_rng(seed) until it has n distinct ones and returns
them in the order first drawn. split() sends a sentence to the held-out part by a hash of its text, so
the two parts never share a sentence and a sentence's side does not depend on the seed or on n.
Words: lower case, separated by single spaces; "," "?" and ":" are words of their own.
"""
from __future__ import annotations

import hashlib

import numpy as np

from . import catalogue as catmod
from .caption import CAPTION_RELATION, caption, relation
from .config import WorldConfig
from .questions import NUMBER_WORDS, article, questions
from .scene import sample_scene

HELDOUT_EVERY = 20  # one sentence in 20 (by hash) is held out

PEOPLE = ("she", "he", "the boy", "the girl", "a child", "my friend", "the man", "the woman", "we", "they",
          "the cook", "the farmer", "my sister", "my brother")

# what one thing does to another, by the pair's broadest categories
ACTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("animal", "animal"): ("chased", "followed", "watched", "played with", "ran after", "hid from", "sat next to",
                           "looked at", "found", "slept near"),
    ("animal", "food"): ("ate", "smelled", "found", "took", "looked at"),
    ("animal", "drink"): ("smelled", "found", "knocked over"),
    ("vehicle", "building"): ("drove past", "stopped near", "went past", "waited near"),
    ("vehicle", "vehicle"): ("followed", "went past", "stopped behind", "waited for"),
    ("vehicle", "animal"): ("stopped for", "waited for", "went past"),
    ("animal", "vehicle"): ("ran after", "sat on", "looked at", "slept near"),
}
ANYTHING = ("is next to", "is near", "is behind", "is in front of", "fell on", "is beside")


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _root(cat: catmod.Catalogue, category: str) -> str:
    return cat.ancestors(category)[-1]


class _Sentences:
    """Sentence families; each method returns one sentence drawn from rng."""

    def __init__(self, cat: catmod.Catalogue, config: WorldConfig):
        self.cat = cat
        self.config = config
        self.classes = cat.classes
        self.by_root: dict[str, list[catmod.ObjectClass]] = {}
        for c in cat.classes:
            self.by_root.setdefault(_root(cat, c.category), []).append(c)
        self.with_keywords = [c for c in cat.classes if c.keywords]
        self.families = [  # (weight, method)
            (14, self.isa), (8, self.attributes), (8, self.keyword), (7, self.place), (7, self.use),
            (10, self.interaction), (7, self.group), (5, self.ask), (34, self.scene),
        ]
        w = np.array([f[0] for f in self.families], float)
        self.p = w / w.sum()

    def one(self, rng: np.random.Generator) -> str:
        k = int(rng.choice(len(self.families), p=self.p))
        return self.families[k][1](rng)

    def obj(self, rng) -> catmod.ObjectClass:
        return _pick(rng, self.classes)

    def cat_of(self, c: catmod.ObjectClass) -> catmod.Category:
        return self.cat.categories[c.category]

    def other_category(self, rng, x: catmod.ObjectClass) -> catmod.Category:
        """A category x does not belong to (nor to a child of)."""
        mine = self.cat.ancestors(x.category)
        return _pick(rng, [c for c in self.cat.categories.values() if c.name not in mine])

    def isa(self, rng) -> str:
        x = self.obj(rng)
        k = self.cat_of(x)
        t = _pick(rng, x.traits)
        form = int(rng.integers(9))
        if form == 0:
            return f"{x.a} is {article(k.noun)}"
        if form == 1:
            return f"{x.a} is {article(f'{t} {x.colour} {k.noun}')}"
        if form == 2:
            return f"the {x.name} is {article(f'{x.colour} {k.noun}')}"
        if form == 3:
            return f"every {x.name} is {article(k.noun)}"
        if form == 4 and k.parent:
            p = self.cat.categories[k.parent]
            return f"{x.a} is {article(k.noun)} , and {article(k.noun)} is a kind of {p.name}"
        if form == 5:
            return f"{x.a} is not {article(self.other_category(rng, x).noun)}"
        if form == 6:
            return f"{x.a} is {article(k.noun)} , not {article(self.other_category(rng, x).noun)}"
        if form == 7:
            return f"{article(f'{t} {k.noun}')} like {x.a}"
        return f"{x.a} is one of the {k.plural}"

    def attributes(self, rng) -> str:
        x = self.obj(rng)
        form = int(rng.integers(6))
        t = _pick(rng, x.traits)
        if form == 0:
            return f"the {x.name} is {x.colour}"
        if form == 1:
            return f"{x.a} is {t}"
        if form == 2 and len(x.traits) >= 2:
            t1, t2 = (str(v) for v in rng.choice(list(x.traits), size=2, replace=False))
            return f"{x.a} is {t1} and {t2}"
        if form == 3:
            return f"{_pick(rng, PEOPLE)} has {article(f'{t} {x.colour} {x.name}')}"
        if form == 4:
            return f"the {x.name} looks {t}"
        return f"most of the time {x.a} is {x.colour}"

    def keyword(self, rng) -> str:
        x = _pick(rng, self.with_keywords)
        kw = _pick(rng, x.keywords)
        form = int(rng.integers(5))
        if form == 0:
            return f"the word {x.name} goes with {kw}"
        if form == 1:
            return f"{x.a} makes people think of {kw}"
        if form == 2:
            return f"when you see {x.a} you may think of {kw}"
        if form == 3:
            return f"{x.a} has to do with {kw}"
        return f"{kw} : {x.name}"

    def place(self, rng) -> str:
        x = self.obj(rng)
        where = self.cat.places[x.place]
        form = int(rng.integers(5))
        if form == 0:
            return f"you can find {x.a} {where}"
        if form == 1:
            return f"there is {x.a} {where}"
        if form == 2 and _root(self.cat, x.category) == "animal":
            return f"{x.a} lives {where}"
        if form == 3:
            return f"{_pick(rng, PEOPLE)} saw {x.a} {where}"
        return f"the {x.name} was {where}"

    def use(self, rng) -> str:
        x = self.obj(rng)
        verb = self.cat_of(x).use
        if rng.random() < 0.5:
            return f"{_pick(rng, PEOPLE)} {verb} the {x.name}"
        return f"{_pick(rng, PEOPLE)} {verb} {x.a} {self.cat.places[x.place]}"

    def interaction(self, rng) -> str:
        if rng.random() < 0.7:
            (ra, rb) = _pick(rng, list(ACTIONS))
            a, b = _pick(rng, self.by_root[ra]), _pick(rng, self.by_root[rb])
            if a is b:
                return f"the {a.name} {_pick(rng, ACTIONS[(ra, rb)])} another {a.name}"
            return f"the {a.name} {_pick(rng, ACTIONS[(ra, rb)])} the {b.name}"
        a, b = self.obj(rng), self.obj(rng)
        if a is b:
            return f"{_pick(rng, PEOPLE)} has two of them : {a.a} and another {a.name}"
        if rng.random() < 0.5:
            return f"the {a.name} {_pick(rng, ANYTHING)} the {b.name}"
        return f"{_pick(rng, PEOPLE)} put the {a.name} next to the {b.name}"

    def group(self, rng) -> str:
        x = self.obj(rng)
        k = self.cat_of(x)
        same = [c for c in self.cat.in_category(x.category) if c is not x]
        form = int(rng.integers(4))
        if form == 0:
            y = _pick(rng, same)
            return f"{x.a} and {y.a} are both {k.plural}"
        if form == 1 and len(same) >= 2:
            y, z = (same[int(i)] for i in rng.choice(len(same), size=2, replace=False))
            return f"{x.a} , {y.a} and {z.a} are {k.plural}"
        y = _pick(rng, [c for c in self.classes if _root(self.cat, c.category) != _root(self.cat, x.category)])
        if form == 2:
            return f"{x.a} is {article(k.noun)} but {y.a} is {article(self.cat_of(y).noun)}"
        z = _pick(rng, same)
        return f"like {z.a} , {x.a} is {article(k.noun)}"

    def ask(self, rng) -> str:
        x = self.obj(rng)
        form = int(rng.integers(3))
        if form == 0:
            return f"what colour is {x.a} ? {x.colour}"
        if form == 1:
            return f"what kind of thing is {x.a} ? {x.category}"
        return f"where can you find {x.a} ? {self.cat.places[x.place]}"

    def scene(self, rng) -> str:
        s = sample_scene(rng, self.config, self.cat)
        objs = s.objects
        form = int(rng.integers(9))
        if form <= 2:
            return caption(s)
        if form == 3:
            return f"the picture shows {caption(s)}"
        if form == 4:
            o = _pick(rng, objs)
            return f"there is {o.cls.a} in the picture"
        if form == 5:
            n = len(objs)
            head = "there is one object" if n == 1 else f"there are {NUMBER_WORDS[n]} objects"
            return head + " : " + " and ".join(o.cls.a for o in objs)
        if form == 6 and len(objs) >= 2:
            i, j = (int(v) for v in rng.choice(len(objs), size=2, replace=False))
            a, b = objs[i], objs[j]
            return f"the {a.name} is {CAPTION_RELATION[relation(a, b)]} the {b.name}"
        if form == 7:
            o = _pick(rng, objs)
            return f"the {o.name} in the picture is {article(self.cat_of(o.cls).noun)}"
        qa = _pick(rng, questions(s, rng, self.cat))
        return f"{qa.question} {qa.answer}"


def corpus(seed: int, n: int, config: WorldConfig | None = None, cat: catmod.Catalogue | None = None) -> list[str]:
    """n distinct sentences in the order first drawn from np.random.default_rng(seed)."""
    if n < 1:
        raise ValueError(f"corpus(n={n}): n must be >= 1")
    gen = _Sentences(cat or catmod.load(), config or WorldConfig())
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    draws = 0
    while len(seen) < n:
        seen.setdefault(gen.one(rng), None)
        draws += 1
        if draws > 50 * n:
            raise RuntimeError(f"corpus(seed={seed}, n={n}): only {len(seen)} distinct sentences after {draws} draws")
    return list(seen)


def is_heldout(sentence: str) -> bool:
    return int.from_bytes(hashlib.sha256(sentence.encode("utf-8")).digest()[:4], "big") % HELDOUT_EVERY == 0


def split(sentences: list[str]) -> tuple[list[str], list[str]]:
    """(training, held-out), each in the given order."""
    train = [s for s in sentences if not is_heldout(s)]
    held = [s for s in sentences if is_heldout(s)]
    return train, held
