"""Question-and-answer prompts about a scene, each with the ids of the objects it is about and answers.

questions(scene, rng) lists every question the scene answers unambiguously, in a fixed order, plus one
"is there ...?" question about a class that is absent (drawn from rng):

    what is left of the dog ?        -> banana       (only when exactly one object is left of the dog)
    which object is a fruit ?        -> banana       (only when exactly one object is one)
    what kind of thing is the dog ?  -> animal
    what colour is the banana ?      -> yellow       (the class's usual colour)
    is there a dog ?                 -> yes / no
    how many objects are there ?     -> two
    what colour is the background ?  -> blue

Answers that name an object are its class name; "answer_ids" lists the objects an answer names.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from . import catalogue as catmod
from .caption import RELATIONS, relation
from .scene import Scene

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


@dataclass(frozen=True)
class QA:
    kind: str  # relation | category_of | which_category | colour_of | exists | count | background
    question: str
    answer: str
    about: tuple[int, ...]  # ids of the objects the question names
    answer_ids: tuple[int, ...]  # ids of the objects the answer names

    def to_json(self) -> dict:
        d = asdict(self)
        d["about"], d["answer_ids"] = list(self.about), list(self.answer_ids)
        return d


def article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def questions(scene: Scene, rng: np.random.Generator, cat: catmod.Catalogue | None = None) -> list[QA]:
    cat = cat or catmod.load()
    objs = scene.objects
    out: list[QA] = []
    for x in objs:
        for r in RELATIONS:
            ys = [y for y in objs if y is not x and relation(y, x) == r]
            if len(ys) == 1:
                out.append(QA("relation", f"what is {r} the {x.name} ?", ys[0].name, (x.id,), (ys[0].id,)))
    for x in objs:
        out.append(QA("category_of", f"what kind of thing is the {x.name} ?", x.cls.category, (x.id,), ()))
    cats = sorted({c for o in objs for c in cat.ancestors(o.cls.category)}, key=list(cat.categories).index)
    for c in cats:
        ys = [o for o in objs if c in cat.ancestors(o.cls.category)]
        if len(ys) == 1:
            out.append(QA("which_category", f"which object is {article(cat.categories[c].noun)} ?", ys[0].name, (),
                          (ys[0].id,)))
    for x in objs:
        out.append(QA("colour_of", f"what colour is the {x.name} ?", x.cls.colour, (x.id,), ()))
    for x in objs:
        out.append(QA("exists", f"is there {x.cls.a} ?", "yes", (x.id,), (x.id,)))
    present = {o.cls.index for o in objs}
    absent = [c for c in cat.classes if c.index not in present]
    no = absent[int(rng.integers(len(absent)))]
    out.append(QA("exists", f"is there {no.a} ?", "no", (), ()))
    out.append(QA("count", "how many objects are there ?", NUMBER_WORDS[len(objs)], (), tuple(o.id for o in objs)))
    out.append(QA("background", "what colour is the background ?", scene.background.colour, (), ()))
    return out
