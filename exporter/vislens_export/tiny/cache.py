"""Tiny bundles built once per exporter version and shared by the Python and the TypeScript tests.

python -m vislens_export.tiny.cache <arch> [--root DIR] [--image PNG --prompt TEXT --reference-key KEY]

A tiny architecture's checkpoint and its exported bundle (with the export check) live in
`<root>/<arch>-<key>/`, where the key hashes the exporter's sources and the bundle schema: any change
to the exporter builds them again, nothing else does. The pytest session builds them first (npm test
runs it before the TypeScript tests), and the TypeScript tests reuse them, writing only their own
PyTorch reference outputs for an image and prompt, in the same process. An entry counts only once
its `complete` mark is written, and a reference once it is renamed into place. Prints JSON:
{"hf", "bundle", "reference"}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from . import ARCHES, build

PACKAGE = Path(__file__).resolve().parents[1]  # exporter/vislens_export
REPO = PACKAGE.parents[1]
DEFAULT_ROOT = REPO / ".cache" / "tiny-bundles"
# Export arguments per architecture: non-square images where the family allows it, so that rows
# and columns cannot be confused (Qwen2-VL's merged grid; OneVision: a 2 x 3 tile pinpoint).
EXPORT_ARGS = {"qwen2vl": ["--image-size", "32x48"], "qwen25vl": ["--image-size", "32x48"], "onevision": ["--image-size", "32x48"]}
# Other exports of a tiny checkpoint, shared the same way: name -> (architecture, export arguments).
VARIANTS = {"llava-external": ("llava", ["--external-data"]), "llava-float16": ("llava", ["--dtype", "float16"])}
# LLaVA's checkpoint sits inside its bundle directory, as the shipped fixture's does (the manifest
# then names it relative to the bundle).
HF_INSIDE_BUNDLE = {"llava"}


def exporter_key() -> str:
    """SHA-256 (16 hex digits) of the exporter's Python sources and the bundle schema."""
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" not in p.parts:
            h.update(str(p.relative_to(PACKAGE)).encode())
            h.update(p.read_bytes())
    h.update((REPO / "schema" / "bundle-manifest.v1.schema.json").read_bytes())
    return h.hexdigest()[:16]


def paths(arch: str, root: Path) -> tuple[Path, Path, Path]:
    """(entry directory, HF checkpoint, bundle) of an architecture in the cache."""
    entry = Path(root) / f"{arch}-{exporter_key()}"
    bundle = entry / "bundle"
    return entry, (bundle / "hf" if arch in HF_INSIDE_BUNDLE else entry / "hf"), bundle


def cached_bundle(arch: str, root: Path = DEFAULT_ROOT) -> tuple[Path, Path]:
    """The tiny checkpoint and its checked bundle, built if the cache lacks them: (hf_dir, bundle_dir).

    `arch` may also name a variant (VARIANTS): another export of an architecture's checkpoint."""
    from ..__main__ import main as export

    if arch not in ARCHES and arch not in VARIANTS:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose one of {', '.join([*ARCHES, *VARIANTS])}")
    entry, hf, bundle = paths(arch, root)
    if arch in VARIANTS:
        hf = cached_bundle(VARIANTS[arch][0], root)[0]
    done = entry / "complete"
    if not done.is_file():
        # Built in place (the manifest records the checkpoint's path), then marked complete; an
        # entry without the mark is a build that did not finish and starts over.
        shutil.rmtree(entry, ignore_errors=True)
        try:
            if arch not in VARIANTS:
                build(arch, hf)
            args = VARIANTS[arch][1] if arch in VARIANTS else EXPORT_ARGS.get(arch, [])
            if export([str(hf), str(bundle), *args, "--force"]) != 0:
                raise RuntimeError(f"exporting the tiny {arch} failed")
            done.write_text("built by vislens_export.tiny.cache\n")
        except BaseException:
            shutil.rmtree(entry, ignore_errors=True)
            raise
    return hf, bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vislens_export.tiny.cache", description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=[*ARCHES, *VARIANTS])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--image", type=Path)
    parser.add_argument("--prompt")
    parser.add_argument("--reference-key", help="write the PyTorch reference outputs for --image and --prompt under this name")
    args = parser.parse_args(argv)
    hf, bundle = cached_bundle(args.arch, args.root)
    out = {"hf": str(hf), "bundle": str(bundle), "reference": None}
    if args.reference_key:
        if args.image is None or args.prompt is None:
            parser.error("--reference-key needs --image and --prompt")
        from ..reference import write_reference

        reference = paths(args.arch, args.root)[0] / "references" / args.reference_key
        if not (reference / "meta.json").is_file():
            reference.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".reference.", dir=reference.parent))
            try:
                write_reference(bundle, hf, args.image, args.prompt, tmp / "ref")
                shutil.rmtree(reference, ignore_errors=True)
                os.replace(tmp / "ref", reference)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        out["reference"] = str(reference)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
