"""Stage 3 of the recipe: the vision tower (CLIPVisionModel), trained contrastively on scenes against their
captions, as the shapes fixture's "contrastive" tower: the pooled CLS output through a linear projection
against a small transformer text encoder (vislens_fixture.recipe.TextEncoder, not shipped), symmetric
InfoNCE with a learned temperature. Images come from the rendered pool (pool.py), each shifted by a few
pixels per step (captions stay true: placement keeps objects further apart than the shift).

Cached under <work>/world-vision-<hash>/: hf/ (the tower), heads.pt, done.json (spec, seconds, final loss,
held-out image -> caption retrieval@1 among 256 new scenes).
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vislens_fixture.recipe import TextEncoder, key, log, pad_batch, pixels, train_loop

from .caption import caption
from .files import write_text_atomic
from .imageset import training_scenes
from .model_spec import WorldModelSpec
from .pool import ScenePool, shifted
from .tokenizer import encode

HELDOUT_STREAM = 6  # scenes for the retrieval check


def vision_config(spec: WorldModelSpec):
    from transformers import CLIPVisionConfig

    v = spec.vision
    return CLIPVisionConfig(hidden_size=v.hidden, intermediate_size=v.intermediate, num_hidden_layers=v.layers,
                            num_attention_heads=v.heads, image_size=spec.image_size, patch_size=spec.patch,
                            num_channels=3, projection_dim=v.hidden, hidden_act="quick_gelu", layer_norm_eps=1e-5)


def stage_vision(work: Path, tok, tok_hash: str, pool: ScenePool, spec: WorldModelSpec, check_n: int = 256):
    from transformers import CLIPVisionModel

    v = spec.vision
    if v.kind != "contrastive":
        raise ValueError(f"WorldModelSpec.vision.kind = {v.kind!r}: the world recipe trains 'contrastive' towers only")
    d = Path(work) / key("world-vision", v, tok_hash, spec.image_size, spec.patch, spec.pool)
    if (d / "done.json").exists():
        return CLIPVisionModel.from_pretrained(d / "hf"), d
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(v.seed)
    vis = CLIPVisionModel(vision_config(spec))
    vis.train()
    D = v.hidden
    cap_ids = [encode(tok, c) for c in pool.captions]
    max_len = max(64, max(len(c) for c in cap_ids) + 8)
    heads = nn.ModuleDict({"txt": TextEncoder(tok.get_vocab_size(), D, max_len=max_len),
                           "pi": nn.Linear(D, D, bias=False), "pt": nn.Linear(D, D, bias=False)})
    heads.register_parameter("scale", nn.Parameter(torch.tensor(math.log(1 / 0.07))))
    n_params = sum(p.numel() for p in vis.parameters())
    log(f"vision: {n_params / 1e6:.2f}M params, pool {len(pool.captions)} scenes -> {d}")
    t0 = time.time()

    def embed(images: np.ndarray, ids: list[list[int]]):
        zi = F.normalize(heads["pi"](vis(pixel_values=pixels(images)).pooler_output), dim=-1)
        tids, att, _ = pad_batch(ids)
        zt = F.normalize(heads["pt"](heads["txt"](tids, att)), dim=-1)
        return zi, zt

    def loss_fn(step):
        rng = np.random.default_rng([v.seed, 22, step])
        idx = np.sort(rng.choice(len(pool.captions), size=min(v.batch, len(pool.captions)), replace=False))
        zi, zt = embed(shifted(pool.images[idx], rng, spec.pool.shift), [cap_ids[i] for i in idx])
        logits = zi @ zt.T * heads.scale.exp().clamp(max=100)
        y = torch.arange(len(idx))
        loss = (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y)) / 2
        return loss, f"i2t@1 {(logits.argmax(1) == y).float().mean().item():.2f}"

    final = train_loop("vision", list(vis.parameters()) + list(heads.parameters()), v.steps, v.lr, loss_fn,
                       d / "ckpt.pt", {"vision": vis, "heads": heads}, ckpt_every=100, log_every=25)
    vis.eval()
    heads.eval()
    with torch.no_grad():
        scenes = training_scenes(HELDOUT_STREAM, 0, check_n, spec.world())
        zi, zt = embed(np.stack([s.render() for s in scenes]), [encode(tok, caption(s)) for s in scenes])
        at1 = float(((zi @ zt.T).argmax(1) == torch.arange(check_n)).float().mean())
    meta = {"spec": asdict(v), "seconds": round(time.time() - t0, 1), "final_loss": final, "params": n_params,
            f"heldout_i2t_at1_of_{check_n}": at1}
    log(f"vision done: {meta}")
    vis.save_pretrained(d / "hf")
    torch.save(heads.state_dict(), d / "heads.pt")
    write_text_atomic(d / "done.json", json.dumps(meta, indent=1) + "\n")
    return vis, d
