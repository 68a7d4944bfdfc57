"""The open-vocabulary world's catalogue: enough classes and categories, a sprite and a licence record for
every class, and objects.json in step with the hand-curated tables and the pinned packages."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from vislens_world import catalogue

ROOT = Path(__file__).resolve().parents[2]
ASSETS = catalogue.ASSETS


def tsv_rows(name: str) -> list[list[str]]:
    lines = [ln for ln in (ASSETS / name).read_text(encoding="utf-8").split("\n") if ln and not ln.startswith("#")]
    return [ln.split("\t") for ln in lines[1:]]


def test_at_least_200_classes_in_at_least_10_categories():
    cat = catalogue.load()
    assert len(cat.classes) >= 200
    used = {c.category for c in cat.classes}
    assert len(used) >= 10 and used == set(cat.categories)
    assert min(len(cat.in_category(k)) for k in cat.categories) >= 5


def test_class_names_are_unique_lower_case_and_never_a_category_name():
    cat = catalogue.load()
    names = [c.name for c in cat.classes]
    assert len(set(names)) == len(names)
    assert all(n == n.lower() and n.replace(" ", "").isalpha() for n in names)
    assert not set(names) & set(cat.categories)
    assert cat.ancestors("bird") == ["bird", "animal"] and cat.ancestors("fruit") == ["fruit", "food"]


def test_every_class_has_a_sprite_and_a_licence_record():
    cat = catalogue.load()
    sprites = set()
    for c in cat.classes:
        a = catalogue.sprite_rgba(c.sprite)
        assert a.shape == (64, 64, 4) and a.dtype == np.uint8, c.name
        assert (a[..., 3] > 127).mean() > 0.1, f"{c.name}: sprite is almost empty"
        assert c.licence["spdx"] == "CC-BY-4.0" and c.licence["artwork"].startswith("Twemoji "), c.name
        assert "CLDR" in c.licence["names_and_tags"], c.name
        sprites.add(Path(c.sprite).name)
    assert sprites == {p.name for p in (ASSETS / "sprites").glob("*")}, "sprites/ holds files no class uses"


def test_objects_json_follows_the_curated_tables():
    """Edit classes.tsv, then run `npm run world:assets`: this fails until objects.json is rebuilt."""
    cat = catalogue.load()
    rows = tsv_rows("classes.tsv")
    assert [(c.name, c.category, c.cldr_label, c.colour, " ".join(c.traits), c.place) for c in cat.classes] == \
        [tuple(r) for r in rows]
    assert [k.name for k in cat.categories.values()] == [r[0] for r in tsv_rows("categories.tsv")]
    assert list(cat.places) == [r[0] for r in tsv_rows("places.tsv")]


def test_sources_are_pinned_and_credited():
    cat = catalogue.load()
    pkg = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    art, names = cat.sources["artwork"], cat.sources["names_and_tags"]
    assert pkg[art["package"]] == art["version"] and pkg[names["package"]] == names["version"]
    doc = (ASSETS / "ASSETS.md").read_text(encoding="utf-8")
    for s in (art["package"], art["version"], names["package"], names["version"], "CC-BY 4.0"):
        assert s in doc


def test_keywords_are_plain_words_other_than_the_name():
    cat = catalogue.load()
    for c in cat.classes:
        for k in c.keywords:
            assert k.isalpha() and k.islower() and len(k) >= 3 and k not in c.name.split(), (c.name, k)
    assert sum(bool(c.keywords) for c in cat.classes) >= 0.8 * len(cat.classes)


@pytest.mark.parametrize("field,value,message", [
    ("category", "gadget", "classes[0] ('grape'): field 'category': unknown category 'gadget'"),
    ("place", "moon", "classes[0] ('grape'): field 'place': unknown place 'moon'"),
    ("colour", "teal", "classes[0] ('grape'): field 'colour': 'teal' is not one of"),
    ("sprite", "sprites/nope.png", "classes[0] ('grape'): field 'sprite':"),
])
def test_a_bad_catalogue_names_the_class_and_field(field, value, message):
    doc = json.loads(catalogue.OBJECTS_JSON.read_text(encoding="utf-8"))
    bad = copy.deepcopy(doc)
    bad["classes"][0][field] = value
    with pytest.raises(catalogue.CatalogueError, match=None) as e:
        catalogue.parse_catalogue(bad, "objects.json")
    assert message in str(e.value) and str(e.value).startswith("objects.json")


def test_the_committed_assets_are_what_the_pinned_packages_rebuild():
    """scripts/world-assets.mjs --check re-rasterises every sprite in memory and compares bytes (it needs the
    repository's npm devDependencies: @discordapp/twemoji, emojibase-data)."""
    import shutil
    import subprocess

    node = shutil.which("node")
    assert node, "node is not on PATH (the repository's tests need Node >= 20)"
    res = subprocess.run([node, str(ROOT / "scripts" / "world-assets.mjs"), "--check"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr or res.stdout
    assert "match a rebuild" in res.stdout
