"""python -m vislens_world corpus --out models/objects-llava [--check]   (corpus.txt + corpus-heldout.txt)
   python -m vislens_world images --out DIR [--seed S] [--n N] [--image-size PX] [--patch PX] [--check]
       (an annotated set)
   python -m vislens_world concepts --out models/objects-llava [--check]   (the concept split, <out>/concepts/)
   python -m vislens_world preview --out FILE.png [--seed S] [--n N]   (a contact sheet; prints the captions)
   python -m vislens_world stats   (counts of classes, categories, vocabulary, as JSON)
   python -m vislens_world train --out models/objects-llava [--work DIR] [--tower KIND] [--lm-from HF] [--quick]
       (the model; about 2 h; KIND contrastive+patchcls (default) or contrastive; --lm-from models/objects-llava/hf
       takes that model's LM instead of training one: the grid's second tower, about 1 h)
   python -m vislens_world eval --out models/objects-llava   (held-out caption accuracy of <out>/hf)"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

from . import catalogue, seeds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="vislens_world")
    sub = ap.add_subparsers(dest="cmd", required=True)
    co = sub.add_parser("corpus", help="write (or --check) <out>/corpus.txt and <out>/corpus-heldout.txt")
    co.add_argument("--out", required=True, type=Path)
    co.add_argument("--seed", type=int, default=seeds.CORPUS_SEED)
    co.add_argument("--n", type=int, default=seeds.CORPUS_N, help="distinct sentences before the split")
    co.add_argument("--check", action="store_true")
    im = sub.add_parser("images", help="write (or --check) an annotated image set")
    im.add_argument("--out", required=True, type=Path)
    im.add_argument("--seed", type=int, default=seeds.EVAL_SEED)
    im.add_argument("--n", type=int, default=seeds.EVAL_N)
    im.add_argument("--image-size", type=int, default=None)
    im.add_argument("--patch", type=int, default=None, help="patch size of the annotated grid (the model's: 12)")
    im.add_argument("--check", action="store_true")
    cs = sub.add_parser("concepts", help="write (or --check) the concept split <out>/concepts/: scenes that each "
                                         "show one of the concept targets")
    cs.add_argument("--out", required=True, type=Path)
    cs.add_argument("--check", action="store_true")
    pv = sub.add_parser("preview", help="a contact sheet of seeded scenes")
    pv.add_argument("--out", required=True, type=Path)
    pv.add_argument("--seed", type=int, default=seeds.EVAL_SEED)
    pv.add_argument("--n", type=int, default=12)
    sub.add_parser("stats", help="counts, as JSON")
    tr = sub.add_parser("train", help="train the world model (or resume its cached stages) and evaluate it")
    tr.add_argument("--out", required=True, type=Path)
    tr.add_argument("--work", type=Path, default=Path(os.environ.get("VISLENS_WORLD_CACHE",
                                                                    Path.home() / ".cache" / "vislens-world")),
                    help="stage cache (default ~/.cache/vislens-world or $VISLENS_WORLD_CACHE)")
    tr.add_argument("--tower", choices=["contrastive+patchcls", "contrastive"], default="contrastive+patchcls",
                    help="the vision tower's training: contrastive with a per-patch object-class loss, or alone")
    tr.add_argument("--lm-from", type=Path, default=None,
                    help="a world model's hf/ directory whose LM to use instead of training one (same recipe sizes)")
    tr.add_argument("--quick", action="store_true", help="a few steps per stage on tiny models (smoke test)")
    ev = sub.add_parser("eval", help="held-out caption accuracy of <out>/hf on <out>/eval")
    ev.add_argument("--out", required=True, type=Path)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "corpus":
            from .corpusfile import check_corpus, write_corpus

            res = check_corpus(a.out, a.seed, a.n) if a.check else write_corpus(a.out, a.seed, a.n)
            print(json.dumps(res))
            return 0 if not a.check or all(res.values()) else 1
        if a.cmd == "images":
            from .config import WorldConfig
            from .imageset import check_image_set, write_image_set

            cfg = WorldConfig(**{k: v for k, v in (("image_size", a.image_size), ("patch", a.patch)) if v is not None})
            if a.check:
                res = check_image_set(a.out, a.seed, a.n, cfg)
                print(json.dumps(res))
                return 0 if res["annotations_equal"] and not res["pixels_differ"] and not res["extra_files"] else 1
            write_image_set(a.out, a.seed, a.n, cfg)
            print(json.dumps({"images": a.n, "seed": a.seed, "out": str(a.out)}))
            return 0
        if a.cmd == "concepts":
            from .imageset import check_scenes, concept_scenes, write_scenes
            from .model_spec import WorldModelSpec

            scenes = concept_scenes(config=WorldModelSpec().world())  # annotated at the model's grid
            purpose = f"concepts: {', '.join(seeds.CONCEPT_TARGETS)}, {seeds.CONCEPT_PER_TARGET} scenes each, in turn"
            if a.check:
                res = check_scenes(a.out / "concepts", scenes, seeds.CONCEPT_SEED, purpose)
                print(json.dumps(res))
                return 0 if res["annotations_equal"] and not res["pixels_differ"] and not res["extra_files"] else 1
            write_scenes(a.out / "concepts", scenes, seeds.CONCEPT_SEED, purpose)
            print(json.dumps({"images": len(scenes), "seed": seeds.CONCEPT_SEED, "out": str(a.out / "concepts")}))
            return 0
        if a.cmd == "preview":
            from .preview import write_preview

            for i, c in enumerate(write_preview(a.out, a.seed, a.n)):
                print(f"{i:2d}  {c}")
            return 0
        if a.cmd == "train":
            from .model_spec import WorldModelSpec, quick
            from .recipe import train

            base = WorldModelSpec(name=a.out.name)
            spec = replace(base, vision=replace(base.vision, kind=a.tower))
            res = train(a.out, a.work, quick(spec) if a.quick else spec, a.lm_from)
            print(json.dumps({"heldout": res["heldout"], "shuffled_image_baseline": res["shuffled_image_baseline"]},
                             indent=1))
            return 0
        if a.cmd == "eval":
            from .evaluate import evaluate

            res = evaluate(a.out)
            print(json.dumps({"heldout": res["heldout"], "shuffled_image_baseline": res["shuffled_image_baseline"]},
                             indent=1))
            return 0
        if a.cmd == "stats":
            from .vocabulary import vocabulary

            cat = catalogue.load()
            print(json.dumps({"classes": len(cat.classes), "categories": len(cat.categories),
                              "per_category": dict(Counter(c.category for c in cat.classes)),
                              "classes_with_keywords": sum(bool(c.keywords) for c in cat.classes),
                              "distinct_keywords": len({k for c in cat.classes for k in c.keywords}),
                              "vocabulary": len(vocabulary(cat))}, indent=1))
            return 0
    except (catalogue.CatalogueError, ValueError) as e:
        print(f"vislens_world: {e}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
