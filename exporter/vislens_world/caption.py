"""Captions of scenes and the spatial relations they use.

relation(a, b) is how a lies relative to b, by the larger of the horizontal and vertical offsets of their
box centres (placement keeps the two apart, see scene.py). A caption names the objects left to right and,
between consecutive ones, the first one's relation to the next, then the background:

    a dog to the left of a banana above a fire truck on a striped blue background

Consecutive objects are ordered by x, so the relation is "to the left of" or, when the vertical offset is
the larger, "above" / "below".
"""
from __future__ import annotations

from .scene import Obj, Scene

RELATIONS = ("left of", "right of", "above", "below")
# how a caption says each relation between consecutive objects
CAPTION_RELATION = {"left of": "to the left of", "right of": "to the right of", "above": "above", "below": "below"}


def relation(a: Obj, b: Obj) -> str:
    """One of RELATIONS: where a is relative to b."""
    (ax, ay), (bx, by) = a.centre, b.centre
    dx, dy = bx - ax, by - ay
    if abs(dx) >= abs(dy):
        return "left of" if dx > 0 else "right of"
    return "above" if dy > 0 else "below"


def caption(scene: Scene) -> str:
    objs = scene.objects
    parts = [objs[0].cls.a]
    for a, b in zip(objs, objs[1:]):
        parts += [CAPTION_RELATION[relation(a, b)], b.cls.a]
    return " ".join(parts) + " on " + scene.background.phrase()


def relations(scene: Scene) -> list[dict]:
    """Every ordered pair's relation: [{"subject": id, "relation": ..., "object": id}, ...]."""
    return [{"subject": a.id, "relation": relation(a, b), "object": b.id}
            for a in scene.objects for b in scene.objects if a is not b]


def parse_caption(text: str, names: list[str]) -> tuple[list[str], list[str], str] | None:
    """('a dog to the left of an apple on a blue background', known class names) -> (names, relations
    between consecutive objects, background phrase), or None if the text does not follow the grammar.
    Multi-word names ("fire truck") are matched longest first."""
    by_len = sorted(names, key=lambda n: -len(n.split()))
    w = text.strip().split()
    out_names: list[str] = []
    rels: list[str] = []
    i = 0
    rel_words = sorted(((r, p.split()) for r, p in CAPTION_RELATION.items()), key=lambda rp: -len(rp[1]))
    while True:
        if i >= len(w) or w[i] not in ("a", "an"):
            return None
        i += 1
        for n in by_len:
            nw = n.split()
            if w[i:i + len(nw)] == nw:
                out_names.append(n)
                i += len(nw)
                break
        else:
            return None
        if w[i:i + 1] == ["on"]:
            rest = " ".join(w[i + 1:])
            return (out_names, rels, rest) if rest.endswith("background") else None
        for r, rw in rel_words:
            if w[i:i + len(rw)] == rw:
                rels.append(r)
                i += len(rw)
                break
        else:
            return None
