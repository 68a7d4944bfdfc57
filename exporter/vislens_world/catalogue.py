"""The object catalogue: classes, categories and places of the open-vocabulary world.

Read from assets/objects.json, which scripts/world-assets.mjs builds from the hand-curated tables
(assets/classes.tsv, categories.tsv, places.tsv), emojibase-data's CLDR names and tags, and Twemoji
drawings rasterised to assets/sprites/. Loading checks every cross-reference and names the file, the
class and the field of the first bad one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ASSETS = Path(__file__).resolve().parent / "assets"
OBJECTS_JSON = ASSETS / "objects.json"

COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "grey", "white", "black")


class CatalogueError(ValueError):
    """objects.json (or a sprite it names) is missing or inconsistent."""


@dataclass(frozen=True)
class Category:
    name: str  # the category word(s): "fruit", "sea animal"
    plural: str  # "fruits", "things in the sky"
    noun: str  # head after adjectives: "a sweet yellow <noun>"
    parent: str | None  # a broader category's name
    use: str  # what a person does with one, past tense: "ate"


@dataclass(frozen=True)
class ObjectClass:
    index: int  # position in the catalogue (stable class id)
    name: str  # caption word(s): "banana", "fire truck"
    category: str
    emoji: str
    hexcode: str
    cldr_label: str
    keywords: tuple[str, ...]  # CLDR tags that are plain English words
    colour: str
    traits: tuple[str, ...]
    place: str
    sprite: str  # path relative to assets/
    licence: dict

    @property
    def article(self) -> str:
        return "an" if self.name[0] in "aeiou" else "a"

    @property
    def a(self) -> str:
        """'a banana', 'an apple'."""
        return f"{self.article} {self.name}"


@dataclass(frozen=True)
class Catalogue:
    classes: tuple[ObjectClass, ...]
    categories: dict[str, Category]
    places: dict[str, str]  # place word -> phrase ("farm" -> "on a farm")
    sources: dict
    sprite_size: tuple[int, int]

    def by_name(self, name: str) -> ObjectClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(f"no object class named {name!r} in {OBJECTS_JSON.name}")

    def in_category(self, category: str) -> list[ObjectClass]:
        return [c for c in self.classes if c.category == category]

    def ancestors(self, category: str) -> list[str]:
        """The category and its parents, nearest first: ['bird', 'animal']."""
        out = [category]
        while (p := self.categories[out[-1]].parent) is not None:
            out.append(p)
        return out


def _need(d: dict, key: str, where: str, kind):
    if key not in d:
        raise CatalogueError(f"{where}: field {key!r} is missing")
    v = d[key]
    if not isinstance(v, kind):
        raise CatalogueError(f"{where}: field {key!r} must be {kind.__name__}, got {v!r}")
    return v


def parse_catalogue(doc: dict, source: str = str(OBJECTS_JSON), assets: Path = ASSETS) -> Catalogue:
    cats: dict[str, Category] = {}
    for i, c in enumerate(_need(doc, "categories", source, list)):
        where = f"{source}: categories[{i}]"
        cat = Category(_need(c, "name", where, str), _need(c, "plural", where, str), _need(c, "noun", where, str),
                       c.get("parent"), _need(c, "use", where, str))
        cats[cat.name] = cat
    for cat in cats.values():
        if cat.parent is not None and cat.parent not in cats:
            raise CatalogueError(f"{source}: category {cat.name!r}: field 'parent': unknown category {cat.parent!r}")
    places = {}
    for i, p in enumerate(_need(doc, "places", source, list)):
        where = f"{source}: places[{i}]"
        places[_need(p, "place", where, str)] = _need(p, "phrase", where, str)
    classes = []
    seen = set()
    for i, c in enumerate(_need(doc, "classes", source, list)):
        where = f"{source}: classes[{i}] ({c.get('name', '?')!r})"
        name = _need(c, "name", where, str)
        if name in seen:
            raise CatalogueError(f"{where}: field 'name': {name!r} appears twice")
        seen.add(name)
        oc = ObjectClass(i, name, _need(c, "category", where, str), _need(c, "emoji", where, str),
                         _need(c, "hexcode", where, str), _need(c, "cldr_label", where, str),
                         tuple(_need(c, "keywords", where, list)), _need(c, "colour", where, str),
                         tuple(_need(c, "traits", where, list)), _need(c, "place", where, str),
                         _need(c, "sprite", where, str), _need(c, "licence", where, dict))
        if oc.category not in cats:
            raise CatalogueError(f"{where}: field 'category': unknown category {oc.category!r}")
        if oc.place not in places:
            raise CatalogueError(f"{where}: field 'place': unknown place {oc.place!r}")
        if oc.colour not in COLOURS:
            raise CatalogueError(f"{where}: field 'colour': {oc.colour!r} is not one of {', '.join(COLOURS)}")
        if not (assets / oc.sprite).is_file():
            raise CatalogueError(f"{where}: field 'sprite': {assets / oc.sprite} does not exist "
                                 "(run `npm run world:assets`)")
        classes.append(oc)
    size = tuple(_need(doc, "sprite_size", source, list))
    return Catalogue(tuple(classes), cats, places, _need(doc, "sources", source, dict), size)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load() -> Catalogue:
    """The shipped catalogue (cached)."""
    if not OBJECTS_JSON.is_file():
        raise CatalogueError(f"{OBJECTS_JSON} does not exist (run `npm run world:assets`)")
    try:
        doc = json.loads(OBJECTS_JSON.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CatalogueError(f"{OBJECTS_JSON}: not valid JSON ({e})") from e
    return parse_catalogue(doc)


@lru_cache(maxsize=None)
def sprite_rgba(sprite: str) -> np.ndarray:
    """uint8 [h, w, 4] RGBA pixels of a sprite (path relative to assets/), read once."""
    from PIL import Image

    path = ASSETS / sprite
    with Image.open(path) as im:
        if im.mode != "RGBA":
            im = im.convert("RGBA")
        a = np.asarray(im).copy()
    a.setflags(write=False)
    return a
