"""python -m vislens_fixture train --out models/shapes-llava [--work DIR] [--quick]
   python -m vislens_fixture eval --out models/shapes-llava
   python -m vislens_fixture lenscheck --out models/shapes-llava
   python -m vislens_fixture onnxcheck --out models/shapes-llava   (after vislens_export)
   python -m vislens_fixture concepts --out models/shapes-llava [--check]   (the concept split)"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from . import recipe


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vislens_fixture")
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train (or resume from cached stages) and evaluate")
    tr.add_argument("--out", required=True, type=Path)
    tr.add_argument("--work", type=Path,
                    default=Path(os.environ.get("VISLENS_FIXTURE_CACHE",
                                                Path.home() / ".cache" / "vislens-fixture")),
                    help="stage cache (shared by a grid of models)")
    tr.add_argument("--lm-layers", type=int, default=None)
    tr.add_argument("--lm-hidden", type=int, default=None)
    tr.add_argument("--lm-seed", type=int, default=None)
    tr.add_argument("--vision-kind", choices=["contrastive", "patchcls"], default=None)
    tr.add_argument("--vision-seed", type=int, default=None)
    tr.add_argument("--quick", action="store_true", help="tiny step counts (smoke test)")
    ev = sub.add_parser("eval")
    ev.add_argument("--out", required=True, type=Path)
    lc = sub.add_parser("lenscheck", help="top-1 Embedding/Logit/LatentLens hit rates per layer")
    lc.add_argument("--out", required=True, type=Path)
    oc = sub.add_parser("onnxcheck", help="greedy captions from the exported bundle vs the HF ones")
    oc.add_argument("--out", required=True, type=Path)
    cs = sub.add_parser("concepts", help="write (or --check) the seeded concept split <out>/concepts/")
    cs.add_argument("--out", required=True, type=Path)
    cs.add_argument("--check", action="store_true", help="regenerate in memory and compare with the files")
    a = ap.parse_args(argv)
    if a.cmd == "train":
        spec = recipe.FixtureSpec(name=a.out.name)
        for attr, val in (("layers", a.lm_layers), ("hidden", a.lm_hidden), ("seed", a.lm_seed)):
            if val is not None:
                setattr(spec.lm, attr, val)
        if a.vision_kind:
            spec.vision.kind = a.vision_kind
        if a.vision_seed is not None:
            spec.vision.seed = a.vision_seed
        if a.quick:
            spec.lm.steps, spec.vision.steps, spec.connector.steps = 3, 3, 3
            spec.connector.n_images, spec.n_eval, spec.corpus_n = 200, 20, 50
        recipe.train(a.out, a.work, spec)
    elif a.cmd == "eval":
        from .evaluate import evaluate
        evaluate(a.out)
    elif a.cmd == "concepts":
        import json

        from . import imageset
        if a.check:
            res = imageset.check_image_set(a.out / "concepts", imageset.CONCEPT_SEED, imageset.CONCEPT_N,
                                           imageset.CONCEPT_PURPOSE)
            print(json.dumps(res))
            ok = res["annotations_equal"] and not res["pixels_differ"] and not res["extra_files"]
            raise SystemExit(0 if ok else 1)
        print(imageset.write_concept_split(a.out))
    elif a.cmd == "onnxcheck":
        from .onnxcheck import onnx_check
        print(onnx_check(a.out))
    else:
        import json

        from .lenscheck import lens_check
        print(json.dumps(lens_check(a.out)["layers"], indent=1))


if __name__ == "__main__":
    main()
