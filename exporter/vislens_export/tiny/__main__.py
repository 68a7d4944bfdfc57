"""python -m vislens_export.tiny <llava|qwen2vl|idefics3|smolvlm-256m|llava-1b> <out-hf-dir> [--seed 0]"""

from __future__ import annotations

import argparse

from . import ARCHES, REAL_SIZE, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vislens_export.tiny", description=__doc__)
    parser.add_argument("arch", choices=(*ARCHES, *REAL_SIZE))
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for the random weights")
    args = parser.parse_args(argv)
    print(build(args.arch, args.out_dir, seed=args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
