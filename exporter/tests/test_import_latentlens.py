"""Importing a latentlens index into a vislens bank (vislens_export.import_latentlens).

The indexes are written by tests/latentlens_layout.py, a reimplementation of the latentlens package's
writers, over the shipped fixture bundle's tokenizer (transformers AutoTokenizer, as latentlens
loads it) and a small synthetic causal "model" (identical prefixes give identical states, as in a
causal LM). Every row, token, sentence, span and normalisation of the bank is checked against the
source tensors; then each kind of bad input.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from vislens_export import import_latentlens as il
from vislens_export.errors import ExportError
from vislens_export.token_spans import utf16_units

from .latentlens_layout import build_package_index, build_research_index, save_package_index

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "models" / "shapes-llava"
N_LAYERS, WIDTH = 6, 128
# Fixture captions, a repeated one (no new prefix: no rows), and one whose emoji makes UTF-16
# offsets differ from Python's.
EXTRA = ["there is a big green square", "\U0001f642 a small red circle above a big blue cross"]


def sentences(n: int = 60) -> list[str]:
    lines = (BUNDLE / "corpus.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines[:n] if line.strip()] + EXTRA


def synthetic_forward(seed: int = 0):
    """A causal stand-in for an LLM: [N + 1] hidden states [B, S, D], position p depending only on
    tokens 0..p, norms growing with depth (the rows are not unit length)."""
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(409, WIDTH, generator=g)
    mix = [torch.randn(WIDTH, WIDTH, generator=g) / WIDTH**0.5 for _ in range(N_LAYERS)]

    def forward(input_ids, attention_mask):
        h = emb[input_ids]
        out = [h]
        steps = torch.arange(1, h.shape[1] + 1, dtype=h.dtype)[None, :, None]
        for layer in range(N_LAYERS):
            h = h + (1 + 2 * layer) * torch.tanh((torch.cumsum(h, dim=1) / steps) @ mix[layer])
            out.append(h)
        return tuple(out)

    return forward


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(BUNDLE / "hf")


@pytest.fixture(scope="module")
def package_index(tokenizer, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("latentlens") / "index"
    save_package_index(
        path, build_package_index(tokenizer, synthetic_forward(), sentences(), [1, 2, 4, 5], max_contexts_per_token=12)
    )
    return path


def source(index: Path, layer: int) -> dict:
    return torch.load(index / f"layer_{layer}" / "embeddings_cache.pt", weights_only=False)


def expected_rows(embeddings: torch.Tensor) -> np.ndarray:
    """What the bank must store: float64 L2 normalisation, then float32, then float16."""
    x = embeddings.double().numpy()
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32).astype(np.float16)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_bank(bank: Path, index: Path, layers: list[int], keep: np.ndarray | None = None) -> dict:
    """Checks every file of `bank` against the index's source tensors; returns bank.json."""
    manifest = json.loads((bank / "bank.json").read_text())
    first = source(index, layers[0])
    meta = first["metadata"]
    keep = np.ones(len(meta), bool) if keep is None else keep
    kept = [m for m, k in zip(meta, keep, strict=True) if k]
    R = len(kept)
    assert manifest["format"] == "vislens-bank" and manifest["format_version"] == 1
    assert manifest["model"] == {
        "name": "shapes-llava",
        "fingerprint": sha256(BUNDLE / "manifest.json"),
        "architecture": "LlavaForConditionalGeneration",
        "num_layers": N_LAYERS,
        "hidden_size": WIDTH,
    }
    assert (manifest["layers"], manifest["dtype"], manifest["dim"], manifest["rows"], manifest["normalisation"]) == (
        layers,
        "f16",
        WIDTH,
        R,
        "l2",
    )

    for layer in layers:
        rows = np.load(bank / f"layer_{layer:02d}.npy")
        assert rows.dtype == np.float16 and rows.shape == (R, WIDTH)
        want = expected_rows(source(index, layer)["embeddings"])[keep]
        assert np.array_equal(rows.view(np.uint16), want.view(np.uint16)), f"layer {layer}"
        assert np.abs(np.linalg.norm(rows.astype(np.float64), axis=1) - 1).max() < 2e-3

    lines = (bank / "sentences.txt").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == manifest["corpus"]["sentences"]
    token_id = np.load(bank / "rows.token_id.npy")
    sentence = np.load(bank / "rows.sentence.npy")
    position = np.load(bank / "rows.position.npy")
    spans = np.load(bank / "rows.char_span.npy")
    assert [a.dtype.str for a in (token_id, sentence, position, spans)] == ["<i4"] * 4 and spans.shape == (R, 2)
    tokens = json.loads((bank / "tokens.json").read_text(encoding="utf-8"))
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(BUNDLE / "tokenizer.json"))
    assert tokens == {
        str(t): tok.decode([t], skip_special_tokens=False).strip() for t in sorted({m["token_id"] for m in kept})
    }
    for r, m in enumerate(kept):
        assert token_id[r] == m["token_id"] and position[r] == m["position"], f"row {r}"
        text = lines[sentence[r]]
        assert text == m["caption"], f"row {r}"
        # The span, in UTF-16 code units as JavaScript counts, holds the token's text.
        units = utf16_units(text)[spans[r, 0] : spans[r, 1]]
        span_text = b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le")
        # A byte of the emoji is not text on its own: an empty span, except the byte that completes
        # the character, whose span is the character (2 UTF-16 units), as src/bank/spans.ts gives it.
        want = ("", "\U0001f642") if "\ufffd" in m["token_str"] else (m["token_str"].strip(),)
        assert span_text in want, f"row {r}: span {spans[r].tolist()} of {text!r}"
    assert sorted(set(sentence.tolist())) == list(range(len(lines) - 1))  # every sentence owns a row

    # bank.json lists every other file with its size and hash; verified.json vouches for each as it is.
    names = sorted(p.name for p in bank.iterdir() if p.name not in ("bank.json", "verified.json"))
    assert sorted(manifest["files"]) == names
    record = json.loads((bank / "verified.json").read_text())
    assert record["format"] == "vislens-bank-verified" and sorted(record["files"]) == names
    for name in names:
        st = os.stat(bank / name)
        assert manifest["files"][name] == {"bytes": st.st_size, "sha256": sha256(bank / name)}
        assert record["files"][name] == {
            "bytes": st.st_size,
            "sha256": manifest["files"][name]["sha256"],
            "mtime_ns": str(st.st_mtime_ns),
            "ctime_ns": str(st.st_ctime_ns),
            "ino": str(st.st_ino),
        }
    assert manifest["corpus"]["sha256"] == manifest["files"]["sentences.txt"]["sha256"]
    return manifest


def top_k(layers: dict[int, np.ndarray], queries: np.ndarray, k: int) -> list[list[tuple[float, int, int]]]:
    """ContextualIndex.search's order: per-layer top-k by cosine, then the merged top-k.
    One (score, layer, row) list per query."""
    per_layer = []
    for layer, rows in layers.items():
        scores = queries @ rows.T
        for q, s in enumerate(scores):
            best = np.argsort(-s, kind="stable")[:k]
            per_layer.append((q, [(float(s[r]), layer, int(r)) for r in best]))
    merged: list[list] = [[] for _ in queries]
    for q, found in per_layer:
        merged[q] += found
    return [sorted(m, key=lambda t: -t[0])[:k] for m in merged]


def check_neighbours(bank: Path, index: Path, layers: list[int], keep: np.ndarray | None = None, k: int = 5) -> None:
    """The bank's neighbours of 64 queries (noisy source rows of another layer, as a visual token is
    near, not equal to, a text token) are a brute-force search's over the source cache rows
    (float64, normalised, special rows left out), rank for rank except between scores within
    float16 rounding."""
    sources = {layer: source(index, layer)["embeddings"].double().numpy() for layer in layers}
    keep = np.ones(len(sources[layers[0]]), bool) if keep is None else keep
    kept = np.flatnonzero(keep)
    want_rows = {layer: x[keep] / np.linalg.norm(x[keep], axis=1, keepdims=True) for layer, x in sources.items()}
    bank_rows = {layer: np.load(bank / f"layer_{layer:02d}.npy").astype(np.float64) for layer in layers}
    rng = np.random.default_rng(7)
    picks = rng.choice(len(kept), 64, replace=False)
    queries = sources[layers[-1]][kept[picks]] + rng.normal(0, 0.5, (64, WIDTH)) * np.abs(sources[layers[-1]]).mean()
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    got, want = top_k(bank_rows, queries, k), top_k(want_rows, queries, k)
    same = 0
    for q, (g, w) in enumerate(zip(got, want, strict=True)):
        for (gs, gl, gr), (ws, wl, wr) in zip(g, w, strict=True):
            assert abs(gs - ws) < 1e-3, f"query {q}: {gs} vs {ws}"
            same += (gl, gr) == (wl, wr)
        for ws, wl, wr in w:  # a neighbour the bank left out ties with the bank's k-th
            assert (wl, wr) in [(gl, gr) for _, gl, gr in g] or ws - g[-1][0] < 1e-3, f"query {q}: row {wr}"
    assert same >= 0.95 * 64 * k, f"{same} of {64 * k} rank for rank"


def test_package_index_imports_row_for_row(package_index, tmp_path):
    out = tmp_path / "bank"
    il.import_latentlens(package_index, out, BUNDLE, max_contexts=12)
    m = check_bank(out, package_index, [1, 2, 4, 5])
    check_neighbours(out, package_index, [1, 2, 4, 5])
    assert m["policy"] == {
        "kind": "imported",
        "source": "latentlens",
        "selection": "first-unique-prefix",
        "max_contexts": 12,
    }
    assert m["corpus"] == {
        "file": "sentences.txt",
        "sha256": m["corpus"]["sha256"],
        "sentences": len({r["caption"] for r in source(package_index, 1)["metadata"]}),  # those owning a row
        "blank_lines": 0,
        "max_tokens": 512,
        "truncated": 0,
    }
    imp = m["imported"]
    assert (imp["from"], imp["layout"], imp["sequence"], imp["dropped_special_rows"]) == (
        "latentlens",
        "package",
        "tokenizer",
        0,
    )
    assert imp["metadata"] == {"layers": [1, 2, 4, 5], "hidden_dim": WIDTH}
    assert imp["source_rows"] == m["rows"] and imp["max_rows_per_token_string"] == 12
    for layer in (1, 2, 4, 5):
        f = imp["files"][f"layer_{layer}/embeddings_cache.pt"]
        assert f["sha256"] == sha256(package_index / f"layer_{layer}" / "embeddings_cache.pt")
        assert (f["dtype"], f["unit_rows"]) == ("float32", True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank"]  # no partial directory left


def test_float16_legacy_format_and_a_subset_of_layers(package_index, tmp_path):
    """The published Qwen2-VL bank keeps float16 rows; torch.save's legacy format cannot be mapped."""
    index = tmp_path / "index"
    shutil.copytree(package_index, index)
    for layer, legacy in ((2, False), (4, True)):
        cache = source(index, layer)
        cache["embeddings"] = (cache["embeddings"] * 3).half()  # not unit length either
        torch.save(cache, index / f"layer_{layer}" / "embeddings_cache.pt", _use_new_zipfile_serialization=not legacy)
    out = tmp_path / "bank"
    il.import_latentlens(index, out, BUNDLE, layers=[4, 2])
    m = check_bank(out, index, [2, 4])
    assert m["policy"]["max_contexts"] is None  # ContextualIndex.save does not record the cap
    assert m["imported"]["files"]["layer_2/embeddings_cache.pt"]["dtype"] == "float16"
    assert not m["imported"]["files"]["layer_4/embeddings_cache.pt"]["unit_rows"]
    assert not (out / "layer_01.npy").exists()


def test_research_layout_with_bos_drops_special_rows(tmp_path):
    """extract_embeddings.py with the position filter off stores position 0 (BOS with a Llama-style
    tokenizer): those rows are left out, the rest normalised, the reservoir cap recorded."""
    from transformers import AutoTokenizer

    bos_tokenizer = AutoTokenizer.from_pretrained(BUNDLE / "hf", add_bos_token=True)
    index = tmp_path / "index"
    build_research_index(
        index,
        bos_tokenizer,
        synthetic_forward(1),
        sentences(),
        [1, 3, 5],
        model_name="shapes-llava",
        max_captions_per_token=6,
    )
    meta = source(index, 1)["metadata"]
    keep = np.array([m["token_id"] != 0 for m in meta])
    assert (~keep).sum() == 6  # BOS, capped like any other token string
    out = tmp_path / "bank"
    il.import_latentlens(index, out, BUNDLE)
    m = check_bank(out, index, [1, 3, 5], keep)
    check_neighbours(out, index, [1, 3, 5], keep)
    assert m["policy"] == {"kind": "imported", "source": "latentlens", "selection": "reservoir", "max_contexts": 6}
    imp = m["imported"]
    assert (imp["layout"], imp["sequence"], imp["dropped_special_rows"], imp["source_rows"]) == (
        "research",
        "bundle-prompt",
        6,
        len(meta),
    )
    assert not imp["files"]["layer_1/embeddings_cache.pt"]["unit_rows"]


def test_an_index_without_metadata_json_is_read_from_its_layer_directories(package_index, tmp_path):
    """As ContextualIndex.from_directory reads it."""
    index = tmp_path / "index"
    shutil.copytree(package_index, index)
    (index / "metadata.json").unlink()
    il.import_latentlens(index, tmp_path / "bank", BUNDLE)
    m = check_bank(tmp_path / "bank", index, [1, 2, 4, 5])
    assert m["imported"]["metadata"] is None and "metadata.json" not in m["imported"]["files"]


def test_numpy_ints_load_safely_and_other_objects_need_allow_pickle(package_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(package_index, index)
    for layer in (1, 2, 4, 5):
        cache = source(index, layer)
        cache["metadata"] = [{**m, "token_id": np.int64(m["token_id"])} for m in cache["metadata"]]
        torch.save(cache, index / f"layer_{layer}" / "embeddings_cache.pt")
    il.import_latentlens(index, tmp_path / "bank", BUNDLE)
    check_bank(tmp_path / "bank", index, [1, 2, 4, 5])

    edit_cache(index, 1, lambda c: set_row(c, 0, token_str=collections.UserString(c["metadata"][0]["token_str"])))
    with pytest.raises(
        ExportError,
        match=r"layer_1/embeddings_cache\.pt: cannot be loaded safely: global \S*UserString is not allowed .*"
        r"pass --allow-pickle",
    ):
        il.import_latentlens(index, tmp_path / "bank2", BUNDLE)
    assert not (tmp_path / "bank2").exists()
    il.import_latentlens(index, tmp_path / "bank2", BUNDLE, allow_pickle=True)
    assert json.loads((tmp_path / "bank2" / "bank.json").read_text())["rows"] == len(cache["metadata"])


# ── bad input ───────────────────────────────────────────────────────────────────────────────────


def edit_cache(index: Path, layer: int, change) -> None:
    f = index / f"layer_{layer}" / "embeddings_cache.pt"
    cache = torch.load(f, weights_only=False)
    torch.save(change(cache), f)


def edit_metadata_json(index: Path, change) -> None:
    f = index / "metadata.json"
    f.write_text(json.dumps(change(json.loads(f.read_text()))))


def set_row(cache: dict, row: int, **fields) -> dict:
    cache["metadata"] = [dict(m) for m in cache["metadata"]]
    cache["metadata"][row].update(fields)
    return cache


def nan_row(cache: dict) -> dict:
    cache["embeddings"][5, 3] = float("nan")
    return cache


BAD = {
    "no metadata.json, no layer directory": (
        lambda i: [shutil.rmtree(d) if d.is_dir() else d.unlink() for d in i.iterdir()],
        r"index/metadata\.json: missing, and no layer_<N> directory either",
    ),
    "a layer directory without its cache": (
        lambda i: ((i / "metadata.json").unlink(), (i / "layer_2" / "embeddings_cache.pt").unlink()),
        r"layer_2/embeddings_cache\.pt: missing: layer_2 is a layer directory",
    ),
    "a layer directory past the model": (
        lambda i: ((i / "metadata.json").unlink(), (i / "layer_9").mkdir()),
        r"index/layer_9: is layer 9, but bundle \"shapes-llava\" has 6 layers",
    ),
    "not a directory": (lambda i: (shutil.rmtree(i), i.write_text("x")), r"index: not a directory"),
    "metadata.json without layers": (
        lambda i: edit_metadata_json(i, lambda m: {"hidden_dim": 128}),
        r"metadata\.json \(layers\): expected a \"layers\" list",
    ),
    "layers not a list": (
        lambda i: edit_metadata_json(i, lambda m: {**m, "layers": "1,2"}),
        r"metadata\.json \(layers\): expected a non-empty list",
    ),
    "a missing layer file": (
        lambda i: (i / "layer_4" / "embeddings_cache.pt").unlink(),
        r"layer_4/embeddings_cache\.pt: missing: metadata\.json lists layer 4; .*pass --layers 1,2,5$",
    ),
    "metadata.json width": (
        lambda i: edit_metadata_json(i, lambda m: {**m, "hidden_dim": 64}),
        r"metadata\.json \(hidden_dim\): the index is 64 wide, but bundle \"shapes-llava\" has hidden_size 128",
    ),
    "rows of another width": (
        lambda i: (
            edit_metadata_json(i, lambda m: {"layers": m["layers"]}),
            edit_cache(i, 1, lambda c: {**c, "embeddings": c["embeddings"][:, :64]}),
        ),
        r"layer_1/embeddings_cache\.pt \(embeddings\): rows are 64 wide, "
        r"but bundle \"shapes-llava\" has hidden_size 128",
    ),
    "a layer past the model": (
        lambda i: edit_metadata_json(i, lambda m: {**m, "layers": [1, 7]}),
        r"metadata\.json \(layers\): lists layer 7, but bundle \"shapes-llava\" has 6 layers",
    ),
    "the final (post-norm) layer": (
        lambda i: edit_metadata_json(i, lambda m: {**m, "layers": [1, 6]}),
        r"metadata\.json \(layers\): lists layer 6, the last one: .*after the final norm",
    ),
    "not a torch file": (
        lambda i: (i / "layer_2" / "embeddings_cache.pt").write_bytes(b"not a pickle"),
        r"layer_2/embeddings_cache\.pt: not a torch\.save file \(neither torch's zip format nor a legacy pickle",
    ),
    "not a dict": (
        lambda i: edit_cache(i, 1, lambda c: c["embeddings"]),
        r"layer_1/embeddings_cache\.pt: expected a dict \{\"embeddings\", \"metadata\"\}",
    ),
    "no metadata key": (
        lambda i: edit_cache(i, 1, lambda c: {"embeddings": c["embeddings"]}),
        r"layer_1/embeddings_cache\.pt \(metadata\): missing",
    ),
    "1-D embeddings": (
        lambda i: edit_cache(i, 1, lambda c: {**c, "embeddings": c["embeddings"][0]}),
        r"\(embeddings\): expected a floating-point tensor \[rows, hidden_dim\], "
        r"got a torch\.float32 tensor of shape \[128\]",
    ),
    "metadata of another length": (
        lambda i: edit_cache(i, 1, lambda c: {**c, "metadata": c["metadata"][:-1]}),
        r"layer_1/embeddings_cache\.pt \(metadata\): has \d+ entries for \d+ embedding rows",
    ),
    "layers with other rows": (
        lambda i: edit_cache(i, 4, lambda c: set_row(c, 3, position=99)),
        r"layer_4/embeddings_cache\.pt \(metadata\[3\]\): row 3 is .* same rows in the same order at every layer",
    ),
    "a token id outside the vocabulary": (
        lambda i: edit_cache(i, 1, lambda c: set_row(c, 0, token_id=5000)),
        r"\(metadata\[0\]\.token_id\): expected a token id in 0\.\.408",
    ),
    "another tokenizer": (
        lambda i: edit_cache(i, 1, lambda c: set_row(c, 2, token_id=300)),
        r"layer_1/embeddings_cache\.pt \(metadata\[2\]\.token_id\): "
        r"token id 300 at position \d+ of caption .* another tokenizer",
    ),
    "no caption": (
        lambda i: edit_cache(i, 1, lambda c: set_row(c, 1, caption=None)),
        r"\(metadata\[1\]\.caption\): expected the row's sentence",
    ),
    "a NaN row": (
        lambda i: edit_cache(i, 2, nan_row),
        r"layer_2/embeddings_cache\.pt \(embeddings\[5\]\): the row contains NaN or infinity",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_index_is_refused_naming_file_and_field(case, package_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(package_index, index)
    damage, message = BAD[case]
    damage(index)
    with pytest.raises(ExportError, match=message):
        il.import_latentlens(index, tmp_path / "bank", BUNDLE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]  # nothing half written


def test_output_directory_rules_and_force(package_index, tmp_path):
    out = tmp_path / "bank"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match=r"bank: the output directory is not empty and holds no bank"):
        il.import_latentlens(package_index, out, BUNDLE)
    (out / "notes.txt").unlink()
    il.import_latentlens(package_index, out, BUNDLE, layers=[1])  # an empty directory is fine
    with pytest.raises(ExportError, match=r"a finished bank is already here \(bank\.json\); pass --force"):
        il.import_latentlens(package_index, out, BUNDLE)
    il.import_latentlens(package_index, out, BUNDLE, layers=[2], force=True)
    assert json.loads((out / "bank.json").read_text())["layers"] == [2] and not (out / "layer_01.npy").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bank"]
    with pytest.raises(ExportError, match=r"\(layers\): --layers asks for \[3\], the index has only \[1, 2, 4, 5\]"):
        il.import_latentlens(package_index, tmp_path / "other", BUNDLE, layers=[3])


def test_command_line(package_index, tmp_path, capsys):
    out = tmp_path / "bank"
    assert (
        il.main([str(package_index), str(out), "--bundle", str(BUNDLE), "--layers", "1,5", "--max-contexts", "12"]) == 0
    )
    assert capsys.readouterr().out.startswith(f"wrote {out}: ")
    assert json.loads((out / "bank.json").read_text())["policy"]["max_contexts"] == 12
    assert il.main([str(package_index), str(tmp_path / "b2"), "--bundle", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("vislens_export.import_latentlens: error: ") and "nowhere/manifest.json: missing" in err
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:
        il.main([str(package_index), str(out), "--bundle", str(BUNDLE), "--layers", "one"])
    assert exit_info.value.code == 2
