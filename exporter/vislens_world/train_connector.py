"""Stage 4 of the recipe: the LLaVA connector (multi_modal_projector) trained on captioning with the LM and
the vision tower frozen, as the shapes fixture's: the tower's block features (vision_feature_layer, CLS
dropped) of the pool's images are computed once (float16), and only the projector learns, from the
caption tokens' loss (the image and "\\n" positions are not scored).

Cached under <work>/world-connector-<lm stage>-<vision stage>-<hash>/: projector.pt, done.json.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vislens_fixture.recipe import key, log, pad_batch, splice_forward, train_loop, vision_features

from .files import write_text_atomic
from .llava import build_llava
from .model_spec import WorldModelSpec
from .pool import ScenePool
from .tokenizer import BOS, EOS, IMAGE, encode


def caption_seq(tok, caption: str, n_visual: int) -> tuple[list[int], int]:
    """(<s> <image> x n \\n caption </s>, the index of the first scored token)."""
    pre = [BOS] + [IMAGE] * n_visual + encode(tok, "\n")
    return pre + encode(tok, caption) + [EOS], len(pre)


def stage_connector(work: Path, tok, lm, vis, lm_dir: Path, vis_dir: Path, pool: ScenePool, spec: WorldModelSpec):
    c = spec.connector
    d = Path(work) / f"world-connector-{lm_dir.name}-{vis_dir.name}-{key('c', c, spec.pool)}"
    llava = build_llava(lm, vis, spec)
    if (d / "done.json").exists():
        llava.model.multi_modal_projector.load_state_dict(torch.load(d / "projector.pt"))
        return llava, d
    d.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    n = min(c.n_images, len(pool.captions))
    feats = vision_features(llava, np.array(pool.images[:n]), c.vision_feature_layer)  # a writable copy
    seqs = [caption_seq(tok, cap, spec.grid * spec.grid) for cap in pool.captions[:n]]
    log(f"connector: precomputed {tuple(feats.shape)} features in {time.time() - t0:.0f}s -> {d}")
    for p in llava.parameters():
        p.requires_grad_(False)
    proj = llava.model.multi_modal_projector
    for p in proj.parameters():
        p.requires_grad_(True)
    llava.model.language_model.config._attn_implementation = "sdpa"

    def loss_fn(step):
        r = np.random.default_rng([c.seed, 44, step])
        idx = r.choice(n, size=min(c.batch, n), replace=False)
        ids, att, lab = pad_batch([seqs[i][0] for i in idx], [seqs[i][1] for i in idx])
        logits = splice_forward(llava, ids, att, feats[idx])
        return F.cross_entropy(logits[:, :-1].flatten(0, 1), lab[:, 1:].flatten()), ""

    final = train_loop("connector", list(proj.parameters()), c.steps, c.lr, loss_fn, d / "ckpt.pt", {"proj": proj},
                       ckpt_every=100, log_every=25)
    meta = {"spec": asdict(c), "seconds": round(time.time() - t0, 1), "final_loss": final,
            "params": sum(p.numel() for p in proj.parameters()), "images": n}
    log(f"connector done: {meta}")
    torch.save(proj.state_dict(), d / "projector.pt")
    write_text_atomic(d / "done.json", json.dumps(meta, indent=1) + "\n")
    return llava, d
