"""Scene markup: the patch grid of a scene written as words, the text the LM learns to caption from.

The LLaVA connector is trained with the LM frozen, so the LM must already know how to describe a scene
from what precedes the caption. Markup teaches it that: one word per patch in reading order (row-major),
then "\\n" and the caption (or a question and its answer). On an object's patch the word is a word of the
object's name (multi-word names cycle through their words in a checkerboard, "fire truck" gives fire,
truck, fire, ...); on a background patch it is the background's colour, alternating with its pattern word
for textured backgrounds ("striped", "dotted", ...). The connector then only has to map each visual token
to something like its patch's markup word.

    markup(scene, grid)  ->  "blue blue dog dog blue striped ..."   (rows x cols words)
"""
from __future__ import annotations

from .background import PATTERN_WORD
from .patches import patch_labels
from .scene import Scene


def patch_word(scene: Scene, label: int, row: int, col: int) -> str:
    """The markup word of patch (row, col) whose label is `label` (0 = background, k = object id k)."""
    if label == 0:
        pattern = PATTERN_WORD[scene.background.pattern]
        return pattern if pattern and (row + col) % 2 == 1 else scene.background.colour
    words = scene.obj(label).cls.name.split()
    return words[(row + col) % len(words)]


def markup(scene: Scene, grid: tuple[int, int] | int | None = None) -> str:
    labels = patch_labels(scene, grid)
    return " ".join(patch_word(scene, int(labels[r, c]), r, c)
                    for r in range(labels.shape[0]) for c in range(labels.shape[1]))
