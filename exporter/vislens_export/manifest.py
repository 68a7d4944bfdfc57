"""manifest.json: file checksums, schema validation, and the checks a loader would make on open."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import jsonschema
import numpy as np

from .errors import ExportError

MANIFEST = "manifest.json"
# The schema is the contract shared with the TypeScript loader; it lives at the repository root.
SCHEMA_PATH = Path(
    os.environ.get("VISLENS_SCHEMA", Path(__file__).resolve().parents[2] / "schema" / "bundle-manifest.v1.schema.json")
)


def file_entry(path: Path) -> dict:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def files_table(bundle: Path) -> dict:
    """Every file of the bundle directory except the manifest: relative path -> {bytes, sha256}."""
    return {
        p.relative_to(bundle).as_posix(): file_entry(p)
        for p in sorted(bundle.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def write_manifest(bundle: Path, manifest: dict) -> None:
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def validate_schema(manifest: dict) -> None:
    if not SCHEMA_PATH.is_file():
        raise ExportError(f"{SCHEMA_PATH}: bundle schema not found (set VISLENS_SCHEMA to its path)")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        raise ExportError(f"{MANIFEST}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}")


def lean_session_options():
    """onnxruntime session options for checks that run a graph once: no pre-packed copy of the
    weights and no memory arena, so a session holds about one copy of its weights."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.disable_prepacking", "1")
    return options


def validate_bundle(bundle: Path) -> None:
    """What openBundle() checks, from Python: schema, files, weights header, graph names and shapes."""
    import onnx
    import onnxruntime as ort
    from safetensors import safe_open

    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    validate_schema(manifest)
    for name, entry in manifest["files"].items():
        if not (bundle / name).is_file():
            raise ExportError(f"{bundle / name}: missing, but {MANIFEST} lists it in files")
        if file_entry(bundle / name) != entry:
            raise ExportError(f"{bundle / name}: size or SHA-256 differs from {MANIFEST}")

    with safe_open(str(bundle / "weights.safetensors"), "np") as f:
        stored = {k: {"shape": list(f.get_slice(k).get_shape()), "dtype": f.get_slice(k).get_dtype()} for k in f.keys()}
    if stored != manifest["weights"]:
        raise ExportError(f"weights.safetensors holds {stored}, but {MANIFEST} says {manifest['weights']}")

    _check_attention(manifest)
    for key in ("vision", "llm", "attribution"):
        if key not in manifest["onnx"]:
            continue
        graph = manifest["onnx"][key]
        for data in graph.get("external_data", []):
            if data not in manifest["files"]:
                raise ExportError(f"{MANIFEST}: onnx.{key}.external_data names {data}, which files does not list")
        # The graph's declared inputs and outputs, read without its weights (a session would load
        # them: 4 GB and more for a 1 B LLM, twice over with onnxruntime's pre-packing).
        proto = onnx.load(str(bundle / graph["file"]), load_external_data=False)
        weights = {t.name for t in proto.graph.initializer}
        declared = {"inputs": [i.name for i in proto.graph.input if i.name not in weights], "outputs": [o.name for o in proto.graph.output]}
        for kind, names in declared.items():
            if names != list(graph[kind]):
                raise ExportError(f"{graph['file']}: {kind} are {names}, {MANIFEST} says {list(graph[kind])}")
        if key == "vision":
            session = ort.InferenceSession(str(bundle / graph["file"]), lean_session_options(), providers=["CPUExecutionProvider"])
            (tokens,) = session.run(None, {"pixel_values": np.zeros(graph["inputs"]["pixel_values"], np.float32)})
            del session
            if list(tokens.shape) != graph["outputs"]["visual_tokens"]:
                raise ExportError(
                    f"{graph['file']}: visual_tokens has shape {list(tokens.shape)}, expected "
                    f"{graph['outputs']['visual_tokens']} (vision.grid {manifest['vision']['grid']}); "
                    "does the feature selection keep a CLS token?"
                )


def _check_attention(manifest: dict) -> None:
    """onnx.attribution and llm.attention come together, with one W_O tensor per layer."""
    attention, graph = manifest["llm"].get("attention"), manifest["onnx"].get("attribution")
    if (attention is None) != (graph is None):
        raise ExportError(f"{MANIFEST}: llm.attention and onnx.attribution must both be present or both absent")
    if attention is None:
        return
    layers = manifest["llm"]["num_layers"]
    for key in ("o_proj", "o_proj_bias"):
        names = attention.get(key)
        if names is not None and len(names) != layers:
            raise ExportError(f"{MANIFEST}: llm.attention.{key} names {len(names)} tensors for {layers} layers")
        for name in names or []:
            if name not in manifest["weights"]:
                raise ExportError(f"{MANIFEST}: llm.attention.{key} names tensor {name!r}, which weights does not list")
