"""Import a latentlens package index into a vislens contextual bank (docs/bank-format.md, "Importing
a latentlens index").

python -m vislens_export.import_latentlens <latentlens-index-dir> <out-bank-dir> --bundle <bundle-dir>
    [--layers 1,2,4] [--max-contexts N] [--force] [--allow-pickle]

The index's rows become the bank's rows, in the index's order (less rows of special tokens, which
vislens banks never hold). Each row is L2-normalised in float64 and stored as float16; its token id,
caption and position come from the index's metadata. The captions become `sentences.txt`; each
token's character span is computed with the bundle's tokenizer the way vislens computes spans, after
checking that the tokenizer puts the row's token id at the row's position of its caption (an index
built with another tokenizer is refused). Layers are imported one at a time, each streamed in
chunks from its memory-mapped cache file, so memory holds one layer's metadata and one chunk of
rows, never a whole bank.

The bank is written into a hidden directory beside the target and renamed into place at the end:
a failed import leaves nothing behind. It records its checksums in bank.json and verified.json, so
the first `openBank` hashes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import numbers
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from . import bank_files as bf
from .errors import ExportError
from .latentlens_index import METADATA, LatentlensIndex, LayerCache, check_files, describe, fail, load_layer, read_index
from .token_spans import js_trim, token_spans

#: latentlens tokenises with truncation=True, max_length=512
LATENTLENS_MAX_TOKENS = 512
#: rows per chunk are sized so one chunk of float64 stays near this many bytes
CHUNK_BYTES = 32 << 20


# ── the bundle ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class BundleInfo:
    dir: Path
    manifest: dict
    fingerprint: str
    tokenizer: object  # tokenizers.Tokenizer
    special: frozenset[int]

    @property
    def name(self) -> str:
        return self.manifest["name"]


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(16 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_bundle(path: str | Path) -> BundleInfo:
    from tokenizers import Tokenizer

    root = Path(path)
    manifest_file = root / "manifest.json"
    try:
        raw = manifest_file.read_bytes()
        manifest = json.loads(raw)
    except FileNotFoundError:
        raise fail(
            manifest_file, "missing: not a vislens model bundle (make one with python -m vislens_export)"
        ) from None
    except (OSError, ValueError) as e:
        raise fail(manifest_file, f"cannot read bundle manifest: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "vislens-bundle":
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise fail(manifest_file, f'expected "vislens-bundle", got {describe(got)}', "format")
    llm = manifest.get("llm", {})
    for field in ("num_layers", "hidden_size"):
        if not (isinstance(llm.get(field), int) and llm[field] > 0):
            raise fail(manifest_file, f"expected a positive integer, got {describe(llm.get(field))}", f"llm.{field}")
    tok_file = root / "tokenizer.json"
    expected = manifest.get("files", {}).get("tokenizer.json", {}).get("sha256")
    if not tok_file.is_file():
        raise fail(tok_file, "missing: the bundle manifest lists it")
    if expected and _sha256_file(tok_file) != expected:
        raise fail(tok_file, "checksum mismatch: the file was modified or is corrupt")
    try:
        tokenizer = Tokenizer.from_file(str(tok_file))
    except Exception as e:  # the tokenizers library raises its own exception type
        raise fail(tok_file, f"unsupported or corrupt tokenizer: {e}") from None
    prompt = manifest.get("prompt", {})
    special = {i for i, t in tokenizer.get_added_tokens_decoder().items() if t.special}
    # The same rule as src/bank/build.ts: never store the image placeholder or BOS either.
    special |= {v for v in (prompt.get("image_token_id"), prompt.get("bos_token_id")) if isinstance(v, int)}
    return BundleInfo(root, manifest, hashlib.sha256(raw).hexdigest(), tokenizer, frozenset(special))


def check_layers(index: LatentlensIndex, bundle: BundleInfo, wanted: list[int] | None) -> list[int]:
    """The layers to import: all the index lists, or `wanted`; each must exist in the bundle's LLM."""
    meta_file = index.dir / METADATA
    n = bundle.manifest["llm"]["num_layers"]
    width = bundle.manifest["llm"]["hidden_size"]
    if index.hidden_dim is not None and index.hidden_dim != width:
        raise fail(
            meta_file,
            f'the index is {index.hidden_dim} wide, but bundle "{bundle.name}" has hidden_size {width}: '
            "it was built with another model",
            "hidden_dim",
        )
    layers = index.layers
    if wanted is not None:
        missing = [layer for layer in wanted if layer not in index.layers]
        if missing:
            raise fail(
                index.dir if index.metadata is None else meta_file,
                f"--layers asks for {describe(missing)}, the index has only {describe(index.layers)}",
                "layers",
            )
        layers = sorted(set(wanted))
    # Without metadata.json the layers are the layer_<N> directories: name the directory instead.
    key = None if index.metadata is None else "layers" if index.layout == "package" else "layers_extracted"
    for layer in layers:
        where = meta_file if key else index.dir / f"layer_{layer}"
        has = f"lists layer {layer}" if key else f"is layer {layer}"
        if layer > n:
            raise fail(
                where,
                f'{has}, but bundle "{bundle.name}" has {n} layers (0..{n}): the index was built with another model',
                key,
            )
        if layer == n:
            raise fail(
                where,
                f"{has}, the last one: latentlens stores Hugging Face's hidden_states[{n}], which is taken after the "
                f"final norm, while vislens's layer {n} is before it; leave it out with --layers "
                f"(the index has {describe(index.layers)})",
                key,
            )
    return layers


# ── rows ────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class SourceRows:
    """The index's rows as the first imported layer lists them (the other layers must agree)."""

    token_id: np.ndarray  # int64 [R]
    position: np.ndarray  # int64 [R]
    caption: np.ndarray  # int64 [R], index into `captions`
    captions: list[str]


def _integer(value) -> bool:
    """A Python or NumPy integer (not a bool)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def source_rows(cache: LayerCache, vocab_size: int) -> SourceRows:
    R = len(cache.metadata)
    token_id = np.empty(R, np.int64)
    position = np.empty(R, np.int64)
    caption = np.empty(R, np.int64)
    captions: list[str] = []
    caption_index: dict[str, int] = {}
    for i, m in enumerate(cache.metadata):
        if not isinstance(m, dict):
            raise fail(
                cache.file,
                f"expected a dict {{token_id, caption, position, ...}}, got a {type(m).__name__}",
                f"metadata[{i}]",
            )
        t, p, c = m.get("token_id"), m.get("position"), m.get("caption")
        if not (_integer(t) and 0 <= t < vocab_size):
            raise fail(
                cache.file,
                f"expected a token id in 0..{vocab_size - 1} (the bundle's vocabulary), got {describe(t)}",
                f"metadata[{i}].token_id",
            )
        if not (_integer(p) and 0 <= p < LATENTLENS_MAX_TOKENS):
            raise fail(
                cache.file,
                f"expected a position in 0..{LATENTLENS_MAX_TOKENS - 1}, got {describe(p)}",
                f"metadata[{i}].position",
            )
        if not isinstance(c, str) or not c:
            raise fail(
                cache.file,
                f"expected the row's sentence, a non-empty string, got {describe(c)}",
                f"metadata[{i}].caption",
            )
        token_id[i], position[i] = t, p
        j = caption_index.get(c)
        if j is None:
            j = caption_index[c] = len(captions)
            captions.append(c)
        caption[i] = j
    return SourceRows(token_id, position, caption, captions)


def check_same_rows(cache: LayerCache, rows: SourceRows, first_file: Path) -> None:
    """A vislens bank stores the same rows at every layer; refuse an index whose layers differ."""
    if len(cache.metadata) != len(rows.token_id):
        raise fail(
            cache.file,
            f"has {len(cache.metadata)} rows, {first_file} has {len(rows.token_id)}; "
            "a vislens bank needs the same rows at every layer",
            "metadata",
        )
    token_id, position, caption = rows.token_id.tolist(), rows.position.tolist(), rows.caption.tolist()
    for i, m in enumerate(cache.metadata):
        same = (
            isinstance(m, dict)
            and m.get("token_id") == token_id[i]
            and m.get("position") == position[i]
            and m.get("caption") == rows.captions[caption[i]]
        )
        if not same:
            theirs = {k: m.get(k) for k in ("token_id", "position", "caption")} if isinstance(m, dict) else m
            ours = {
                "token_id": int(rows.token_id[i]),
                "position": int(rows.position[i]),
                "caption": rows.captions[rows.caption[i]],
            }
            raise fail(
                cache.file,
                f"row {i} is {describe(theirs)}, but in {first_file} it is {describe(ours)}; "
                "a vislens bank needs the same rows in the same order at every layer",
                f"metadata[{i}]",
            )


def sequences(rows: SourceRows, bundle: BundleInfo, file: Path) -> tuple[str, list[list[int]]]:
    """The token ids of every caption as latentlens fed them, found by checking each row's token id
    at its position: either the bundle's prompt convention (BOS prepended when the manifest says
    so), or the tokenizer's own special tokens (what transformers' tokenizer(text) adds)."""
    tok = bundle.tokenizer
    prompt = bundle.manifest.get("prompt", {})
    bos = [prompt["bos_token_id"]] if prompt.get("add_bos") and isinstance(prompt.get("bos_token_id"), int) else []
    plain = [e.ids for e in tok.encode_batch(rows.captions, add_special_tokens=False)]
    own = [e.ids for e in tok.encode_batch(rows.captions, add_special_tokens=True)]
    candidates = {"bundle-prompt": [bos + ids for ids in plain], "tokenizer": own}

    token_id, position, caption = rows.token_id.tolist(), rows.position.tolist(), rows.caption.tolist()

    def first_mismatch(seqs: list[list[int]]) -> int | None:
        for i, (t, p, c) in enumerate(zip(token_id, position, caption, strict=True)):
            ids = seqs[c]
            if p >= len(ids) or ids[p] != t:
                return i
        return None

    mismatch = {}
    for kind, seqs in candidates.items():
        mismatch[kind] = first_mismatch(seqs)
        if mismatch[kind] is None:
            return kind, seqs
    i = max(mismatch.values())
    p, caption = int(rows.position[i]), rows.captions[rows.caption[i]]

    def there(seqs: list[list[int]]) -> str:
        ids = seqs[rows.caption[i]]
        return str(ids[p]) if p < len(ids) else f"nothing (the caption has {len(ids)} tokens)"

    raise fail(
        file,
        f"token id {int(rows.token_id[i])} at position {p} of caption {describe(caption)}, "
        f'but bundle "{bundle.name}"\'s tokenizer puts {there(candidates["bundle-prompt"])} there '
        f"with the bundle's prompt convention and {there(candidates['tokenizer'])} with the tokenizer's "
        "own special tokens: the index was built with another tokenizer (or with left padding, which shifts positions)",
        f"metadata[{i}].token_id",
    )


# ── the import ──────────────────────────────────────────────────────────────────────────────────


def _write_layer(cache: LayerCache, keep: np.ndarray, writer: bf.NpyMatrixWriter) -> bool:
    """Streams one layer into `writer`: rows L2-normalised in float64, rounded to float32 then float16
    (as the TypeScript encoder does). Returns whether the source rows were already unit length."""
    import torch

    emb = cache.embeddings
    R, D = emb.shape
    step = max(1, CHUNK_BYTES // (D * 8))
    unit = True
    for a in range(0, R, step):
        x = emb[a : a + step].to(torch.float64).numpy()
        k = keep[a : a + step]
        rows = np.arange(a, a + len(x))
        if not k.all():
            x, rows = x[k], rows[k]
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise fail(cache.file, "the row contains NaN or infinity", f"embeddings[{rows[bad][0]}]")
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))
        if (norms == 0).any():
            raise fail(
                cache.file, "the row is all zeros and cannot be normalised", f"embeddings[{rows[norms == 0][0]}]"
            )
        unit = unit and bool(np.abs(norms - 1).max() < 1e-3)
        writer.append((x / norms[:, None]).astype(np.float32).astype(np.float16))
    return unit


def import_latentlens(
    index_dir: str | Path,
    out_dir: str | Path,
    bundle_dir: str | Path,
    layers: list[int] | None = None,
    max_contexts: int | None = None,
    force: bool = False,
    allow_pickle: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict:
    """Writes the bank; returns its bank.json. Raises ExportError (naming the file and field) on bad
    input, leaving `out_dir` untouched."""
    bundle = read_bundle(bundle_dir)
    index = read_index(index_dir)
    layers = check_layers(index, bundle, layers)
    check_files(index, layers)
    out = Path(out_dir)
    bf.check_out_dir(out, force)
    width = bundle.manifest["llm"]["hidden_size"]
    vocab = bundle.tokenizer.get_vocab_size(with_added_tokens=True)

    tmp = bf.partial_dir(out)
    try:
        files: dict[str, dict] = {}
        sources: dict[str, dict] = {}
        if index.metadata is not None:
            sources[METADATA] = {
                "bytes": (index.dir / METADATA).stat().st_size,
                "sha256": _sha256_file(index.dir / METADATA),
            }
        rows: SourceRows | None = None
        first_file: Path | None = None
        keep = np.empty(0, bool)
        R_out = 0
        for layer in layers:
            start = time.perf_counter()
            cache_file = index.cache_file(layer)
            name = f"layer_{layer}/{cache_file.name}"
            sources[name] = {"bytes": cache_file.stat().st_size, "sha256": _sha256_file(cache_file)}
            cache = load_layer(index, layer, allow_pickle)
            if cache.embeddings.shape[1] != width:
                raise fail(
                    cache.file,
                    f'rows are {cache.embeddings.shape[1]} wide, but bundle "{bundle.name}" has hidden_size {width}: '
                    "the index was built with another model",
                    "embeddings",
                )
            if rows is None:
                rows, first_file = source_rows(cache, vocab), cache.file
                keep = ~np.isin(rows.token_id, np.fromiter(bundle.special, np.int64, len(bundle.special)))
                if not keep.any():
                    raise fail(
                        cache.file,
                        "every row is a special token of the bundle's tokenizer; a bank needs text tokens",
                        "metadata",
                    )
                R_out = int(keep.sum())
                tables = _write_row_tables(tmp, rows, keep, bundle, cache.file)
                files.update(tables.pop("files"))
                imported_rows = tables
            else:
                check_same_rows(cache, rows, first_file)
            cache.metadata = []  # the dicts are not needed past the check; free them before streaming
            writer = bf.NpyMatrixWriter(tmp / bf.layer_file(layer), "<f2", (R_out, width))
            try:
                unit = _write_layer(cache, keep, writer)
            except BaseException:
                writer.abort()
                raise
            files[bf.layer_file(layer)] = writer.close()
            sources[name].update({"dtype": str(cache.embeddings.dtype).removeprefix("torch."), "unit_rows": unit})
            del cache
            log(f"layer {layer}: {R_out} rows -> {bf.layer_file(layer)} ({time.perf_counter() - start:.1f} s)")

        assert rows is not None
        selection = "first-unique-prefix" if index.layout == "package" else "reservoir"
        cap = max_contexts if max_contexts is not None else index.max_contexts
        bank = {
            "format": "vislens-bank",
            "format_version": bf.BANK_FORMAT_VERSION,
            "model": {
                "name": bundle.name,
                "fingerprint": bundle.fingerprint,
                "architecture": bundle.manifest.get("architecture", ""),
                "num_layers": bundle.manifest["llm"]["num_layers"],
                "hidden_size": width,
            },
            "layers": layers,
            "dtype": "f16",
            "dim": width,
            "rows": R_out,
            "normalisation": "l2",
            "policy": {"kind": "imported", "source": "latentlens", "selection": selection, "max_contexts": cap},
            "corpus": {
                "file": bf.SENTENCES,
                "sha256": files[bf.SENTENCES]["sha256"],
                "sentences": imported_rows["sentences"],
                "blank_lines": 0,
                "max_tokens": LATENTLENS_MAX_TOKENS,
                "truncated": imported_rows["truncated"],
            },
            "imported": {
                "from": "latentlens",
                "layout": index.layout,
                "index": index.dir.resolve().name,
                "metadata": index.metadata,
                "files": sources,
                "source_rows": int(len(rows.token_id)),
                "dropped_special_rows": int((~keep).sum()),
                "sequence": imported_rows["sequence"],
                "line_breaks_replaced": imported_rows["line_breaks_replaced"],
                "max_rows_per_token_string": imported_rows["max_rows_per_token_string"],
                "importer": f"vislens_export {__version__}",
            },
            "files": {k: files[k] for k in sorted(files)},
        }
        bf.write_bytes(tmp / bf.MANIFEST, (json.dumps(bank, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        bf.write_verify_record(tmp, files)
        bf.install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return bank


def _write_row_tables(tmp: Path, rows: SourceRows, keep: np.ndarray, bundle: BundleInfo, file: Path) -> dict:
    """rows.*.npy, sentences.txt and tokens.json of the kept rows; returns their file entries and
    what bank.json records about them."""
    kind, seqs = sequences(rows, bundle, file)
    kept = np.flatnonzero(keep)
    # Sentences: the captions that own a kept row, in order of first appearance.
    used = np.unique(rows.caption[kept], return_index=True)
    order = used[0][np.argsort(used[1])]
    new_index = np.full(len(rows.captions), -1, np.int64)
    new_index[order] = np.arange(len(order))
    tok = bundle.tokenizer

    def decode_batch(batch):
        return tok.decode_batch(batch, skip_special_tokens=False)

    spans = np.zeros((len(kept), 2), np.int64)
    by_caption: dict[int, list[int]] = {}
    for out_row, src in enumerate(kept):
        by_caption.setdefault(int(rows.caption[src]), []).append(out_row)
    for c, out_rows in by_caption.items():
        last = int(rows.position[kept[out_rows]].max())
        caption_spans = token_spans(decode_batch, bundle.special.__contains__, seqs[c][: last + 1], rows.captions[c])
        for r in out_rows:
            spans[r] = caption_spans[rows.position[kept[r]]]

    line_breaks = 0
    sentences = []
    for c in order:
        text = rows.captions[c]
        if "\n" in text or "\r" in text:
            line_breaks += 1
            text = text.replace("\r", " ").replace("\n", " ")  # one line each; offsets unchanged
        sentences.append(text)
    token_ids = rows.token_id[kept]
    tokens = {str(t): js_trim(tok.decode([int(t)], skip_special_tokens=False)) for t in sorted(set(token_ids.tolist()))}
    per_string = Counter(tokens[str(t)] for t in token_ids.tolist())
    files = {
        bf.TOKEN_ID: bf.write_npy(tmp / bf.TOKEN_ID, token_ids, "<i4"),
        bf.SENTENCE: bf.write_npy(tmp / bf.SENTENCE, new_index[rows.caption[kept]], "<i4"),
        bf.POSITION: bf.write_npy(tmp / bf.POSITION, rows.position[kept], "<i4"),
        bf.CHAR_SPAN: bf.write_npy(tmp / bf.CHAR_SPAN, spans, "<i4"),
        bf.SENTENCES: bf.write_bytes(tmp / bf.SENTENCES, ("\n".join(sentences) + "\n").encode("utf-8")),
        bf.TOKENS: bf.write_json_compact(tmp / bf.TOKENS, tokens),
    }
    return {
        "files": files,
        "sequence": kind,
        "sentences": len(sentences),
        "truncated": sum(1 for c in order if len(seqs[c]) > LATENTLENS_MAX_TOKENS),
        "line_breaks_replaced": line_breaks,
        "max_rows_per_token_string": max(per_string.values()),
    }


# ── command line ────────────────────────────────────────────────────────────────────────────────


def _layer_list(text: str) -> list[int]:
    try:
        layers = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of layer indices, e.g. 1,2,4"
        ) from None
    if not layers or any(v < 0 for v in layers):
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer indices, e.g. 1,2,4")
    return layers


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vislens_export.import_latentlens",
        description="Import a latentlens index (metadata.json + layer_N/embeddings_cache.pt) "
        "into a vislens contextual bank.",
    )
    parser.add_argument(
        "index", help="latentlens index directory (ContextualIndex.save or extract_embeddings.py output)"
    )
    parser.add_argument("out", help="bank directory to create")
    parser.add_argument("--bundle", required=True, help="the vislens bundle of the model the index was built with")
    parser.add_argument(
        "--layers", type=_layer_list, help="import only these layers (default: every layer metadata.json lists)"
    )
    parser.add_argument(
        "--max-contexts",
        type=_positive,
        help="the cap on contexts per token the index was built with, to record in bank.json "
        "(ContextualIndex.save does not record it; build_index's default is 50)",
    )
    parser.add_argument("--force", action="store_true", help="replace a bank already in the output directory")
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load the .pt files with full pickle rather than the allowlist of tensors and plain data; "
        "runs code from the files, so only for files you trust",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        bank = import_latentlens(
            args.index,
            args.out,
            args.bundle,
            layers=args.layers,
            max_contexts=args.max_contexts,
            force=args.force,
            allow_pickle=args.allow_pickle,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    except ExportError as e:
        print(f"vislens_export.import_latentlens: error: {e}", file=sys.stderr)
        return 1
    imported = bank["imported"]
    dropped = (
        f", {imported['dropped_special_rows']} special-token rows left out" if imported["dropped_special_rows"] else ""
    )
    layers = ",".join(map(str, bank["layers"]))
    print(
        f"wrote {args.out}: {bank['rows']} rows x {len(bank['layers'])} layers ({layers}), f16, "
        f"{bank['corpus']['sentences']} sentences, from latentlens index {args.index}{dropped} "
        f"in {time.perf_counter() - start:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
