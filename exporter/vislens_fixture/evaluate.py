"""Held-out evaluation: greedy captions from the saved HF checkpoint, read from the PNG files."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from . import tok as tokmod
from . import world
from .recipe import TEMPLATE, pixels


def score(preds: list[str], anns: list[dict]) -> dict:
    n_img = len(anns)
    exact = parsed = count_ok = 0
    col = shp = siz = objok = nobj = 0
    rel = nrel = rel_cond = nrel_cond = 0
    all_col = all_shp = 0
    for p, a in zip(preds, anns):
        exact += p == a["caption"]
        pr = world.parse_caption(p)
        parsed += pr is not None
        po, prel = pr if pr is not None else ([], [])
        true = [(o["size"], o["colour"], o["shape"]) for o in a["objects"]]
        count_ok += len(po) == len(true)
        c_ok = s_ok = True
        for i, t in enumerate(true):
            nobj += 1
            g = po[i] if i < len(po) else (None, None, None)
            siz += g[0] == t[0]
            col += g[1] == t[1]
            shp += g[2] == t[2]
            objok += g == t
            c_ok &= g[1] == t[1]
            s_ok &= g[2] == t[2]
        all_col += c_ok and len(po) == len(true)
        all_shp += s_ok and len(po) == len(true)
        for i, t in enumerate(a["relations"]):
            nrel += 1
            ok = i < len(prel) and prel[i] == t
            rel += ok
            if i + 1 < len(po) and po[i] == true[i] and po[i + 1] == true[i + 1]:
                nrel_cond += 1
                rel_cond += ok
    f = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {"images": n_img, "exact_caption": f(exact, n_img), "grammatical": f(parsed, n_img),
            "object_count": f(count_ok, n_img), "colour": f(col, nobj), "shape": f(shp, nobj),
            "size": f(siz, nobj), "object_all_attributes": f(objok, nobj),
            "all_colours_in_image": f(all_col, n_img), "all_shapes_in_image": f(all_shp, n_img),
            "relation": f(rel, nrel), "relation_given_both_objects_right": f(rel_cond, nrel_cond),
            "n_objects": nobj, "n_relations": nrel, "n_relations_with_both_objects_right": nrel_cond}


@torch.no_grad()
def generate(hf_dir: Path, eval_dir: Path, batch: int = 50):
    from PIL import Image
    from tokenizers import Tokenizer
    from transformers import LlavaForConditionalGeneration
    model = LlavaForConditionalGeneration.from_pretrained(hf_dir)
    model.eval()
    tok = Tokenizer.from_file(str(hf_dir / "tokenizer.json"))
    vl = json.loads((hf_dir / "vislens.json").read_text())
    assert vl["template"] == TEMPLATE
    n = model.config.image_seq_length
    prompt = TEMPLATE.format(image="<image>" * n, prompt="")
    ids = ([tokmod.BOS] if vl["add_bos"] else []) + tok.encode(prompt, add_special_tokens=False).ids
    anns = json.loads((eval_dir / "annotations.json").read_text())["images"]
    preds = []
    for i in range(0, len(anns), batch):
        chunk = anns[i:i + batch]
        imgs = np.stack([np.asarray(Image.open(eval_dir / a["file"]).convert("RGB")) for a in chunk])
        inp = torch.tensor([ids] * len(chunk))
        out = model.generate(input_ids=inp, attention_mask=torch.ones_like(inp),
                             pixel_values=pixels(imgs), max_new_tokens=24, do_sample=False,
                             eos_token_id=tokmod.EOS, pad_token_id=tokmod.PAD)
        for row in out[:, inp.shape[1]:].tolist():
            row = row[:row.index(tokmod.EOS)] if tokmod.EOS in row else row
            preds.append(tok.decode(row).strip())
    return preds, anns


def evaluate(out: Path, train_info: dict | None = None) -> dict:
    t0 = time.time()
    preds, anns = generate(out / "hf", out / "eval")
    m = score(preds, anns)
    perm = np.random.default_rng(0).permutation(len(anns))
    blind = score(preds, [anns[int(j)] for j in perm])
    res = {"heldout": m, "shuffled_image_baseline": blind,
           "note": "shuffled_image_baseline scores each prediction against another image's "
                   "annotation: what a model that ignored the image would get at best-ish.",
           "eval_seconds": round(time.time() - t0, 1),
           "examples": [{"file": a["file"], "truth": a["caption"], "pred": p}
                        for p, a in list(zip(preds, anns))[:20]],
           "predictions": preds}
    old = out / "eval" / "metrics.json"
    if train_info is None and old.exists():  # re-evaluation keeps the training record
        train_info = json.loads(old.read_text()).get("training")
    if train_info is not None:
        res["training"] = train_info
    (out / "eval" / "metrics.json").write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({"heldout": m, "shuffled_image_baseline": blind}, indent=1))
    return res
