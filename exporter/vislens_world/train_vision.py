"""Stage 3 of the recipe: the vision tower (CLIPVisionModel), trained contrastively on scenes against their
captions, as the shapes fixture's "contrastive" tower: the pooled CLS output through a linear projection
against a small transformer text encoder (vislens_fixture.recipe.TextEncoder, not shipped), symmetric
InfoNCE with a learned temperature. Images come from the rendered pool (pool.py), each shifted by a few
pixels per step (captions stay true: placement keeps objects further apart than the shift).

The kinds (WorldModelSpec.vision.kind):
    contrastive            the InfoNCE loss alone;
    contrastive+patchcls   plus, with weight 1, a per-patch object-class loss: a linear head (277 classes +
                           background) on the patch tokens of the block the connector reads
                           (connector.vision_feature_layer), against patches.patch_classes of the shifted
                           object maps. A caption names each object once, so contrastive training alone
                           need not keep *which* object a patch shows in that patch's token; this loss asks
                           for it where the connector looks.

Cached under <work>/world-vision-<hash>/: hf/ (the tower), heads.pt, done.json (spec, seconds, final loss,
held-out image -> caption retrieval@1 among 256 new scenes and, for patchcls, the class head's accuracy on
their object patches).
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
from .patches import object_classes, object_map, patch_classes
from .pool import FORMAT as pool_format, ScenePool, shifted
from .tokenizer import encode

HELDOUT_STREAM = 6  # scenes for the retrieval check
KINDS = ("contrastive", "contrastive+patchcls")


def vision_config(spec: WorldModelSpec):
    from transformers import CLIPVisionConfig

    v = spec.vision
    return CLIPVisionConfig(hidden_size=v.hidden, intermediate_size=v.intermediate, num_hidden_layers=v.layers,
                            num_attention_heads=v.heads, image_size=spec.image_size, patch_size=spec.patch,
                            num_channels=3, projection_dim=v.hidden, hidden_act="quick_gelu", layer_norm_eps=1e-5)


def stage_vision(work: Path, tok, tok_hash: str, pool: ScenePool, spec: WorldModelSpec, check_n: int = 256):
    from transformers import CLIPVisionModel

    from . import catalogue as catmod

    v = spec.vision
    if v.kind not in KINDS:
        raise ValueError(f"WorldModelSpec.vision.kind = {v.kind!r}: expected one of {', '.join(KINDS)}")
    patchcls = v.kind == "contrastive+patchcls"
    layer = spec.connector.vision_feature_layer
    world = spec.world()
    d = Path(work) / key("world-vision", v, tok_hash, spec.image_size, spec.patch, spec.pool, pool_format,
                          *((layer,) if patchcls else ()))
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
    if patchcls:
        heads["cls"] = nn.Linear(D, len(catmod.load().classes) + 1)
    n_params = sum(p.numel() for p in vis.parameters())
    log(f"vision: {n_params / 1e6:.2f}M params, pool {len(pool.captions)} scenes -> {d}")
    t0 = time.time()

    def embed(images: np.ndarray, ids: list[list[int]]):
        out = vis(pixel_values=pixels(images), output_hidden_states=patchcls)
        zi = F.normalize(heads["pi"](out.pooler_output), dim=-1)
        tids, att, _ = pad_batch(ids)
        zt = F.normalize(heads["pt"](heads["txt"](tids, att)), dim=-1)
        # class logits of the patch tokens (CLS dropped) at the block the connector reads
        cls = heads["cls"](out.hidden_states[layer][:, 1:]) if patchcls else None
        return zi, zt, cls

    def loss_fn(step):
        rng = np.random.default_rng([v.seed, 22, step])
        idx = np.sort(rng.choice(len(pool.captions), size=min(v.batch, len(pool.captions)), replace=False))
        # the object maps move with their images (the same offsets), when the patch loss needs them
        images, *objects = shifted([pool.images[idx]] + ([pool.objects[idx]] if patchcls else []), rng, spec.pool.shift)
        zi, zt, cls = embed(images, [cap_ids[i] for i in idx])
        logits = zi @ zt.T * heads.scale.exp().clamp(max=100)
        y = torch.arange(len(idx))
        loss = (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y)) / 2
        msg = f"i2t@1 {(logits.argmax(1) == y).float().mean().item():.2f}"
        if cls is not None:
            t = torch.from_numpy(patch_classes(objects[0], np.asarray(pool.classes[idx]), spec.grid,
                                               world.patch_threshold))
            loss = loss + F.cross_entropy(cls.flatten(0, 1), t.flatten())
            obj = t > 0
            msg += f" patch acc {(cls.argmax(-1)[obj] == t[obj]).float().mean().item():.2f}"
        return loss, msg

    final = train_loop("vision", list(vis.parameters()) + list(heads.parameters()), v.steps, v.lr, loss_fn,
                       d / "ckpt.pt", {"vision": vis, "heads": heads}, ckpt_every=100, log_every=25)
    vis.eval()
    heads.eval()
    with torch.no_grad():
        scenes = training_scenes(HELDOUT_STREAM, 0, check_n, world)
        zi, zt, cls = embed(np.stack([s.render() for s in scenes]), [encode(tok, caption(s)) for s in scenes])
        at1 = float(((zi @ zt.T).argmax(1) == torch.arange(check_n)).float().mean())
    meta = {"spec": asdict(v), "seconds": round(time.time() - t0, 1), "final_loss": final, "params": n_params,
            f"heldout_i2t_at1_of_{check_n}": at1}
    if cls is not None:
        t = torch.from_numpy(patch_classes(np.stack([object_map(s) for s in scenes]),
                                           object_classes(scenes, world.max_objects), spec.grid,
                                           world.patch_threshold))
        obj = t > 0
        meta[f"heldout_patch_class_acc_of_{int(obj.sum())}_object_patches"] = float(
            (cls.argmax(-1)[obj] == t[obj]).float().mean())
    log(f"vision done: {meta}")
    vis.save_pretrained(d / "hf")
    torch.save(heads.state_dict(), d / "heads.pt")
    write_text_atomic(d / "done.json", json.dumps(meta, indent=1) + "\n")
    return vis, d
