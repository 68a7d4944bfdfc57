"""export_bundle(): HF checkpoint directory -> vislens bundle directory, all or nothing."""

from __future__ import annotations

import ctypes
import gc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import onnxruntime
import torch
import transformers
from tokenizers import Tokenizer

from . import __version__
from .archs import ARCHS, SUPPORTED
from .checkpoint import checkpoint_sha256, load_model, read_checkpoint
from .errors import ExportError
from .attribution_graph import attribution_graph, output_projection_tensors
from .llm_graph import final_norm_set_aside
from .manifest import MANIFEST, files_table, validate_bundle, validate_schema, write_manifest
from .onnx_export import DTYPES, OPSET, GraphOptions, export_attribution, export_llm, export_vision
from .prompt import resolve_prompt
from .verify import check_bundle, hf_reference
from .weights import lens_tensors, write_weights

# Files whose presence means a directory already holds a bundle.
BUNDLE_FILES = (MANIFEST, "vision.onnx", "llm.onnx", "weights.safetensors")


def export_bundle(
    hf_dir: str | Path,
    out: str | Path,
    name: str | None = None,
    image_size: tuple[int, int] | None = None,
    check: bool = True,
    force: bool = False,
    attribution: bool = True,
    options: GraphOptions = GraphOptions(),
) -> Path:
    """Export; returns the bundle path.

    The bundle is built in a temporary directory beside `out` and validated before anything at `out`
    changes, so a failed export leaves `out` as it was. `attribution` adds attribution.onnx and the
    output projections (docs/bundle-format.md); without it the bundle cannot attribute answers. `out` may be an existing directory with other
    files in it (the shipped fixture keeps its HF checkpoint beside its bundle); those are never
    touched. Replacing an existing bundle there needs `force`. `options` sets the graphs' dtype
    (float16 halves the files and is checked against the float32 HF model) and external data.
    """
    if options.dtype not in DTYPES:
        raise ExportError(f"dtype {options.dtype!r} is not supported; choose one of {', '.join(DTYPES)}")
    out = Path(out).resolve()
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a directory")
    present = [f for f in BUNDLE_FILES if (out / f).exists()]
    if present and not force:
        raise ExportError(f"{out}: already holds a bundle ({', '.join(present)}); pass --force to replace it")
    ckpt = read_checkpoint(hf_dir, SUPPORTED)
    arch = ARCHS[ckpt.architecture]

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        _build(ckpt, arch, tmp, name or out.name, _checkpoint_label(ckpt.path, out), image_size, check, attribution, options)
        install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def install(tmp: Path, out: Path) -> None:
    """Move a finished bundle from `tmp` to `out`.

    A new directory is one rename. Into an existing directory the files move one by one (each an
    atomic rename), the old manifest first out and the new one last in, so the directory never
    holds a manifest that disagrees with its files; files only the old bundle listed are removed.
    """
    _ordinary_permissions(tmp)
    if not out.exists():
        tmp.rename(out)
        return
    old_manifest = out / MANIFEST
    old_files = set(json.loads(old_manifest.read_text())["files"]) if old_manifest.is_file() else set()
    old_manifest.unlink(missing_ok=True)
    new_files = set(json.loads((tmp / MANIFEST).read_text())["files"])
    for rel in sorted(new_files):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, out / rel)
    for rel in sorted(old_files - new_files):
        (out / rel).unlink(missing_ok=True)
    os.replace(tmp / MANIFEST, out / MANIFEST)
    shutil.rmtree(tmp)


def _ordinary_permissions(tmp: Path) -> None:
    """mkdtemp makes a 0700 directory and some writers 0600 files; a bundle is shared data."""
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    for p in tmp.rglob("*"):
        p.chmod((0o777 if p.is_dir() else 0o666) & ~umask)


def _checkpoint_label(checkpoint: Path, out: Path) -> str:
    """source.checkpoint: relative to the bundle when inside it (a shipped bundle stays portable)."""
    checkpoint = checkpoint.resolve()
    return checkpoint.relative_to(out).as_posix() if checkpoint.is_relative_to(out) else str(checkpoint)


def _build(ckpt, arch, bundle: Path, name: str, checkpoint: str, image_size, check: bool, attribution: bool, options) -> None:
    manifest, reference = _write(ckpt, arch, bundle, name, checkpoint, image_size, check, attribution, options)
    # The torch model is gone now (its memory back before any ONNX session opens); validation and
    # the check hold one graph's session at a time.
    _release_memory()
    validate_bundle(bundle)
    if reference is not None:
        manifest["source"]["check"] = check_bundle(bundle, reference, options.dtype)
        write_manifest(bundle, manifest)


def _release_memory() -> None:
    """Collect the freed torch model and hand glibc's free heap back to the OS (small tensors live in
    the heap, which free() alone does not shrink)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the memory is reused by the process instead
        pass


def _write(ckpt, arch, bundle: Path, name: str, checkpoint: str, image_size, check: bool, attribution: bool, options):
    """Writes every bundle file and the manifest; returns (manifest, the check's HF reference or None)."""
    if attribution and arch.attribution_note:
        print(f"vislens_export: note: no attribution graph: {arch.attribution_note}", file=sys.stderr)
        attribution = False
    model = load_model(ckpt)
    tokenizer = Tokenizer.from_file(str(ckpt.tokenizer_file))
    prompt, prompt_from = resolve_prompt(ckpt, arch, tokenizer, arch.image_token_id(model))
    spec = arch.vision_spec(model, ckpt, image_size)
    preprocess, preprocess_from = arch.preprocess(ckpt, spec)
    reference = hf_reference(arch, model, spec, prompt, tokenizer, attribution) if check else None
    if options.dtype != "float32":
        model.to(DTYPES[options.dtype])  # in place: the float32 parameters are freed

    decoder, lm_head = arch.text_model(model), model.lm_head
    num_layers, (vocab, hidden) = len(decoder.layers), decoder.embed_tokens.weight.shape
    rope = arch.rope(model)

    onnx_vision = export_vision(arch.vision_graph(model, spec), spec, hidden, bundle / "vision.onnx", options)
    with final_norm_set_aside(decoder) as norm:
        onnx_llm = export_llm(
            arch.llm_graph_class(decoder, norm, lm_head), num_layers, hidden, vocab, rope["type"] == "mrope", bundle / "llm.onnx", options
        )
    lens_fields, tensors = lens_tensors(decoder, lm_head, norm)
    onnx_graphs = {"opset": OPSET, "dtype": options.dtype, "vision": onnx_vision, "llm": onnx_llm}
    if attribution:
        attention, o_proj = output_projection_tensors(decoder)
        with attribution_graph(decoder, lm_head) as graph:
            onnx_graphs["attribution"] = export_attribution(
                graph, attention, hidden, vocab, rope["type"] == "mrope", bundle / "attribution.onnx", options
            )
        lens_fields["attention"] = attention
        tensors.update(o_proj)
    weights = write_weights(tensors, bundle / "weights.safetensors", DTYPES[options.dtype])
    shutil.copyfile(ckpt.tokenizer_file, bundle / "tokenizer.json")

    manifest = {
        "format": "vislens-bundle",
        "format_version": 1,
        "name": name,
        "architecture": arch.architecture,
        "source": {
            "checkpoint": checkpoint,
            "checkpoint_sha256": checkpoint_sha256(ckpt),
            "transformers_version": transformers.__version__,
            "torch_version": torch.__version__,
            "onnxruntime_version": onnxruntime.__version__,
            "exporter_version": __version__,
            "prompt_from": prompt_from,
            "preprocess_from": preprocess_from,
            **({"attribution": arch.attribution_note} if arch.attribution_note else {}),
        },
        "llm": {
            "model_type": decoder.config.model_type,
            "num_layers": num_layers,
            "hidden_size": hidden,
            "vocab_size": vocab,
            "rope": rope,
            **lens_fields,
        },
        "vision": {"model_type": model.config.vision_config.model_type, **spec.manifest(), "preprocess": preprocess},
        "prompt": prompt,
        "onnx": onnx_graphs,
        "weights": weights,
        "files": files_table(bundle),
    }
    validate_schema(manifest)
    write_manifest(bundle, manifest)
    return manifest, reference
