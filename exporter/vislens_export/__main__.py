"""python -m vislens_export <hf-model-dir> <out-bundle> [--name NAME] [--image-size HxW] [--no-check]
[--no-attribution] [--dtype float32|float16] [--external-data] [--force]"""

from __future__ import annotations

import argparse
import sys
import time

from .errors import ExportError


def _image_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HEIGHTxWIDTH, e.g. 448x448") from None
    return height, width


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vislens_export", description="Export a Hugging Face VLM to a vislens model bundle."
    )
    parser.add_argument("hf_dir", help="Hugging Face checkpoint directory (config.json, weights, tokenizer.json)")
    parser.add_argument("out", help="bundle directory to create")
    parser.add_argument("--name", help="manifest name (default: the bundle directory's name)")
    parser.add_argument(
        "--image-size",
        type=_image_size,
        metavar="HxW",
        help="Qwen2-VL only: the fixed input resolution (multiples of patch x merge)",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip running HF vs ONNX on random inputs (source.check in the manifest)",
    )
    parser.add_argument(
        "--no-attribution",
        dest="attribution",
        action="store_false",
        help="leave out attribution.onnx and the output projections (answer attribution then refuses the bundle)",
    )
    parser.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default="float32",
        help="precision of the graphs' weights and computation (their inputs and outputs stay float32); "
        "float16 halves the files and is checked against the float32 model",
    )
    parser.add_argument(
        "--external-data",
        action="store_true",
        default=None,
        help="write every graph's weights to <graph>.data beside it (default: only above 1.5 GiB of weights)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing bundle directory")
    args = parser.parse_args(argv)

    from .bundle import export_bundle  # imports torch; after argument errors have had their chance
    from .onnx_export import GraphOptions

    start = time.perf_counter()
    try:
        out = export_bundle(
            args.hf_dir,
            args.out,
            args.name,
            args.image_size,
            args.check,
            args.force,
            args.attribution,
            GraphOptions(args.dtype, args.external_data),
        )
    except ExportError as e:
        print(f"vislens_export: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out} in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
