"""A contextual index of the latentlens package (github.com/McGill-NLP/latentlens), read for import.

Two writers of that repository produce the same directory shape (read at commit 36de5cb):

    <index>/metadata.json
    <index>/layer_<N>/embeddings_cache.pt      one per layer N, N unpadded (layer_1, layer_16)

- ``package``: ``ContextualIndex.save`` (latentlens/index.py), the layout of the published pre-built
  indices. metadata.json is ``{"layers": [...], "hidden_dim": D}``; each cache is a ``torch.save``d
  dict ``{"embeddings": Tensor[R, D], "metadata": [{"token_str", "token_id", "caption", "position"},
  ...]}``, the rows already L2-normalised when ``build_index`` made them (float32), the same rows
  in the same order at every layer.
- ``research``: the paper's ``reproduce/scripts/extract_embeddings.py``. metadata.json holds
  ``layers_extracted``, ``max_captions_per_token``, ``model_name``, ``embedding_dtype``, ...; each
  cache adds ``"token_to_indices"`` and holds *unnormalised* float32 rows (decoded from float8 or
  float16 storage).

Layer N is Hugging Face's ``hidden_states[N]``: 0 = input embeddings, i = output of block i, except
that HF takes the last entry after the final norm. ``position`` is the token's index in the sequence
the package's tokenizer produced (its own special tokens included). Nothing here trusts the
listing: every listed layer file must exist, and every file must hold what the layout says. Like
``ContextualIndex.from_directory``, an index without metadata.json is read from its ``layer_<N>``
directories.
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ExportError

METADATA = "metadata.json"
CACHE = "embeddings_cache.pt"
EXPECTED = "a latentlens index directory: metadata.json and layer_<N>/embeddings_cache.pt for every layer it lists"


def fail(file: Path | str, problem: str, field: str | None = None) -> ExportError:
    """An error naming the file and field, formatted like the TypeScript ArtifactError."""
    return ExportError(f"{file}{f' ({field})' if field else ''}: {problem}")


def describe(value) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class LatentlensIndex:
    dir: Path
    layout: str
    #: metadata.json as read; None when there is none (the layers are then the layer_<N> directories)
    metadata: dict | None
    #: the layers metadata.json lists (or the layer_<N> directories), sorted
    layers: list[int]
    hidden_dim: int | None
    #: the cap on contexts per token string, when the index records it (research layout only)
    max_contexts: int | None

    def cache_file(self, layer: int) -> Path:
        return self.dir / f"layer_{layer}" / CACHE


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_index(path: str | Path) -> LatentlensIndex:
    root = Path(path)
    if not root.is_dir():
        raise fail(root, f"not a directory; expected {EXPECTED}")
    meta_file = root / METADATA
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        # ContextualIndex.from_directory needs no metadata.json either: it lists the layer directories.
        layers = sorted(int(d.name[6:]) for d in root.iterdir() if d.is_dir() and re.fullmatch(r"layer_\d+", d.name))
        if not layers:
            raise fail(meta_file, f"missing, and no layer_<N> directory either; expected {EXPECTED}") from None
        return LatentlensIndex(root, "package", None, layers, None, None)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(meta_file, f"cannot read it as JSON: {e}") from None
    if not isinstance(meta, dict):
        raise fail(meta_file, f"expected a JSON object, got {describe(meta)}")
    if "layers" in meta:
        layout, key = "package", "layers"
    elif "layers_extracted" in meta:
        layout, key = "research", "layers_extracted"
    else:
        raise fail(
            meta_file,
            'expected a "layers" list (ContextualIndex.save) or "layers_extracted" (extract_embeddings.py); '
            f"the keys are {describe(sorted(meta))}",
            "layers",
        )
    layers = meta[key]
    if not (isinstance(layers, list) and layers and all(_int(v) and v >= 0 for v in layers)):
        raise fail(meta_file, f"expected a non-empty list of layer indices, got {describe(layers)}", key)
    if len(set(layers)) != len(layers):
        raise fail(meta_file, f"lists a layer twice: {describe(layers)}", key)
    hidden_dim = meta.get("hidden_dim")
    if hidden_dim is not None and not (_int(hidden_dim) and hidden_dim > 0):
        raise fail(meta_file, f"expected a positive integer, got {describe(hidden_dim)}", "hidden_dim")
    cap = meta.get("max_captions_per_token") if layout == "research" else None
    if cap is not None and not (_int(cap) and cap > 0):
        raise fail(meta_file, f"expected a positive integer, got {describe(cap)}", "max_captions_per_token")
    return LatentlensIndex(root, layout, meta, sorted(layers), hidden_dim, cap)


def check_files(index: LatentlensIndex, layers: list[int]) -> None:
    """Every layer to import has its cache file (checked before any is read). A download of some
    layers of a published index (from_pretrained(layers=...)) is named with the --layers to pass."""
    present = [layer for layer in index.layers if index.cache_file(layer).is_file()]
    for layer in layers:
        if layer not in present:
            why = (
                f"{METADATA} lists layer {layer}"
                if index.metadata is not None
                else f"layer_{layer} is a layer directory"
            )
            here = ",".join(map(str, present))
            hint = f"; to import the layers that are here, pass --layers {here}" if present else ""
            raise fail(index.cache_file(layer), f"missing: {why}; expected {EXPECTED}{hint}")


# What a latentlens cache needs to unpickle: tensors (torch's storages are resolved by torch.load
# itself), the dicts and lists of the metadata, and NumPy scalars (token ids taken from arrays).
# Globals torch.load(weights_only=True) also allows, but through the C unpickler: weights_only's
# pure-Python unpickler takes 25 s per million metadata rows, this one 2 s.
_SAFE_GLOBALS = frozenset(
    {
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"),
        ("collections", "OrderedDict"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.multiarray", "scalar"),
        ("_codecs", "encode"),
    }
)


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")


class _safe_pickle:
    """A stand-in for the pickle module (torch.load's pickle_module) whose unpickler runs no code."""

    Unpickler = _SafeUnpickler

    @staticmethod
    def load(file, **kwargs):
        return _SafeUnpickler(file, **kwargs).load()


@dataclass
class LayerCache:
    file: Path
    #: [rows, dim], any floating dtype; memory-mapped when the file allows it
    embeddings: object
    #: one dict per row: token_id, caption, position (token_str is not used)
    metadata: list


def load_layer(index: LatentlensIndex, layer: int, allow_pickle: bool = False) -> LayerCache:
    """One layer's cache, its tensor memory-mapped (zip-format files) so that a layer larger than
    RAM is streamed. Only tensors, containers, strings and numbers are unpickled (no code from the
    file runs) unless ``allow_pickle``."""
    import torch

    file = index.cache_file(layer)
    safe = not allow_pickle
    with file.open("rb") as f:
        magic = f.read(4)
    zipped = magic == b"PK\x03\x04"
    if not zipped and magic[:1] != b"\x80":
        raise fail(
            file, f"not a torch.save file (neither torch's zip format nor a legacy pickle; it starts with {magic!r})"
        )
    try:
        # The legacy (non-zip) torch.save format cannot be memory-mapped: that one layer is read.
        data = torch.load(
            file, map_location="cpu", weights_only=False, pickle_module=_safe_pickle if safe else pickle, mmap=zipped
        )
    except pickle.UnpicklingError as e:
        if not safe:
            raise fail(file, f"cannot be unpickled: {e}") from None
        raise fail(
            file,
            f"cannot be loaded safely: {e} (only tensors, lists, dicts, strings and numbers are); "
            "if you trust the file, pass --allow-pickle to load it with full pickle",
        ) from None
    except Exception as e:  # torch raises many types for a damaged archive
        raise fail(
            file, f"torch cannot read it: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        ) from None
    if not isinstance(data, dict):
        raise fail(
            file, f'expected a dict {{"embeddings", "metadata"}} (ContextualIndex.save), got a {type(data).__name__}'
        )
    for key in ("embeddings", "metadata"):
        if key not in data:
            raise fail(
                file,
                f'missing; the dict has {describe(sorted(map(str, data)))}, expected "embeddings" and "metadata"',
                key,
            )
    emb, meta = data["embeddings"], data["metadata"]
    if not isinstance(emb, torch.Tensor) or emb.ndim != 2 or not torch.is_floating_point(emb):
        what = (
            f"a {emb.dtype} tensor of shape {list(emb.shape)}"
            if isinstance(emb, torch.Tensor)
            else f"a {type(emb).__name__}"
        )
        raise fail(file, f"expected a floating-point tensor [rows, hidden_dim], got {what}", "embeddings")
    if not isinstance(meta, list):
        raise fail(file, f"expected a list with one dict per row, got a {type(meta).__name__}", "metadata")
    if len(meta) != emb.shape[0]:
        raise fail(file, f"has {len(meta)} entries for {emb.shape[0]} embedding rows", "metadata")
    if emb.shape[0] == 0:
        raise fail(file, "holds no rows", "embeddings")
    return LayerCache(file, emb, meta)
