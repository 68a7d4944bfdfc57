"""The world's vocabulary: every word a caption, question, answer or corpus sentence may use.

It is the template words below plus the words of the catalogue (class names, category names, plurals,
nouns and uses, place phrases, colours, traits, keywords) and of backgrounds and questions. The tests
check that no generated text uses a word outside it, so a new template word must be added here.
"""
from __future__ import annotations

from . import catalogue as catmod
from .background import PATTERN_WORD
from .caption import CAPTION_RELATION
from .questions import NUMBER_WORDS

TEMPLATE_WORDS = tuple(sorted(set("""
, : ?
a an the and or but not like every most of to in on at with for from over near next past behind front beside after
is are was has do can may you we they she he it them there when what which where how many kind thing object objects
one another both time think see find look looks goes makes people word picture shows put lives saw background
yes no colour left right above below
boy girl child man woman friend my cook farmer sister brother
chased followed watched played ran hid sat looked found slept ate smelled took knocked drove stopped went waited fell
""".split())))


def vocabulary(cat: catmod.Catalogue | None = None) -> list[str]:
    """Sorted distinct words."""
    cat = cat or catmod.load()
    words: set[str] = set(TEMPLATE_WORDS)
    for c in cat.classes:
        words.update(c.name.split())
        words.update(c.keywords)
        words.update(c.traits)
        words.add(c.colour)
    for k in cat.categories.values():
        for phrase in (k.name, k.plural, k.noun, k.use):
            words.update(phrase.split())
    for phrase in cat.places.values():
        words.update(phrase.split())
    words.update(catmod.COLOURS)
    words.update(w for w in PATTERN_WORD.values() if w)
    for phrase in CAPTION_RELATION.values():
        words.update(phrase.split())
    words.update(NUMBER_WORDS.values())
    return sorted(words)


def unknown_words(text: str, vocab: set[str]) -> list[str]:
    """The words of text (split on spaces) that are not in vocab, in order of first appearance."""
    seen: dict[str, None] = {}
    for w in text.split():
        if w not in vocab:
            seen.setdefault(w, None)
    return list(seen)
