"""Held-out caption accuracy of the world model: greedy captions from the saved HF checkpoint (HF generate,
images read back from the eval set's PNG files), scored against the annotations.

Objects are compared in caption order (left to right, ids 1..n). Definitions (all shares in 0..1):
- exact_caption: the caption equals the annotation's, word for word;
- grammatical: the caption parses (caption.parse_caption) with the world's class names;
- object_count: it names as many objects as the image holds;
- object_name: per object of the image, the caption's object at the same position has its name (a missing
  object counts as wrong) -- "share of objects named correctly", the headline number;
- object_name_anywhere: per object, its name is among the caption's names (order ignored; each predicted
  name used once); object_name_precision: per named object, it is in the image (the same matching);
- object_category: per object, the caption's object at the same position is of the same category;
- relation: per consecutive pair, the caption's relation at the same position is right;
- background_colour, background: the colour word / the whole background phrase is right.
shuffled_image_baseline scores each caption against the annotation of the image 7 places on: what a model that ignored
the image would get.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from vislens_fixture.recipe import TEMPLATE, pixels

from . import catalogue as catmod
from .caption import parse_caption
from .files import write_text_atomic
from .tokenizer import BOS, EOS, PAD


@torch.no_grad()
def generate(hf_dir: Path, eval_dir: Path, batch: int = 25,
             max_new_tokens: int = 48) -> tuple[list[str], list[dict]]:
    from PIL import Image
    from tokenizers import Tokenizer
    from transformers import LlavaForConditionalGeneration

    model = LlavaForConditionalGeneration.from_pretrained(hf_dir)
    model.eval()
    tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    vl = json.loads((hf_dir / "vislens.json").read_text())
    if vl.get("template") != TEMPLATE:
        raise ValueError(f"{hf_dir / 'vislens.json'}: field 'template' is {vl.get('template')!r}, expected {TEMPLATE!r}")
    prompt = TEMPLATE.format(image="<image>" * model.config.image_seq_length, prompt="")
    ids = ([BOS] if vl.get("add_bos") else []) + tok.encode(prompt, add_special_tokens=False).ids
    anns = json.loads((eval_dir / "annotations.json").read_text(encoding="utf-8"))["images"]
    preds = []
    for i in range(0, len(anns), batch):
        chunk = anns[i:i + batch]
        imgs = np.stack([np.asarray(Image.open(eval_dir / a["file"]).convert("RGB")) for a in chunk])
        inp = torch.tensor([ids] * len(chunk))
        out = model.generate(input_ids=inp, attention_mask=torch.ones_like(inp), pixel_values=pixels(imgs),
                             max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=EOS, pad_token_id=PAD)
        for row in out[:, inp.shape[1]:].tolist():
            row = row[:row.index(EOS)] if EOS in row else row
            preds.append(tok.decode(row).strip())
    return preds, anns


def score(preds: list[str], anns: list[dict], cat: catmod.Catalogue | None = None) -> dict:
    cat = cat or catmod.load()
    names = [c.name for c in cat.classes]
    category = {c.name: c.category for c in cat.classes}
    t = Counter()
    for p, a in zip(preds, anns):
        truth = [o["name"] for o in a["objects"]]
        rels = [next(r["relation"] for r in a["relations"] if r["subject"] == i and r["object"] == i + 1)
                for i in range(1, len(truth))]
        bg = a["background"]
        t["images"] += 1
        t["exact"] += p == a["caption"]
        parsed = parse_caption(p, names)
        t["parsed"] += parsed is not None
        got, got_rels, got_bg = parsed if parsed is not None else ([], [], "")
        t["count_ok"] += len(got) == len(truth)
        t["objects"] += len(truth)
        t["named"] += len(got)
        for i, name in enumerate(truth):
            g = got[i] if i < len(got) else None
            t["name_ok"] += g == name
            t["category_ok"] += g is not None and category[g] == category[name]
        left = Counter(got)
        for name in truth:
            if left[name] > 0:
                left[name] -= 1
                t["name_anywhere"] += 1
        t["relations"] += len(rels)
        t["relation_ok"] += sum(i < len(got_rels) and got_rels[i] == r for i, r in enumerate(rels))
        t["bg_colour_ok"] += bg["colour"] in got_bg.split()
        t["bg_ok"] += p.endswith(" on " + a["caption"].rsplit(" on ", 1)[1])
    f = lambda x, n: round(t[x] / t[n], 4) if t[n] else None  # noqa: E731
    return {"images": t["images"], "exact_caption": f("exact", "images"), "grammatical": f("parsed", "images"),
            "object_count": f("count_ok", "images"), "object_name": f("name_ok", "objects"),
            "object_name_anywhere": f("name_anywhere", "objects"),
            "object_name_precision": f("name_anywhere", "named"), "object_category": f("category_ok", "objects"),
            "relation": f("relation_ok", "relations"), "background_colour": f("bg_colour_ok", "images"),
            "background": f("bg_ok", "images"), "n_objects": t["objects"], "n_named": t["named"],
            "n_relations": t["relations"]}


def evaluate(out: Path, training: dict | None = None) -> dict:
    """Writes <out>/eval/metrics.json (atomically) and returns it. Re-evaluating keeps the training record."""
    t0 = time.time()
    preds, anns = generate(Path(out) / "hf", Path(out) / "eval")
    heldout = score(preds, anns)
    n = len(anns)
    shift = (7 % n or 1) if n > 1 else 0  # each caption against the image 7 places on (never its own)
    perm = [(i + shift) % n for i in range(n)]
    blind = score(preds, [anns[j] for j in perm])
    res = {"heldout": heldout, "shuffled_image_baseline": blind,
           "definitions": (__doc__ or "").split("Objects are compared", 1)[-1].strip(),
           "eval_seconds": round(time.time() - t0, 1),
           "predictions": [{"file": a["file"], "truth": a["caption"], "pred": p} for p, a in zip(preds, anns)]}
    f = Path(out) / "eval" / "metrics.json"
    if training is None and f.is_file():
        training = json.loads(f.read_text(encoding="utf-8")).get("training")
    if training is not None:
        res["training"] = training
    write_text_atomic(f, json.dumps(res, indent=1) + "\n")
    return res
