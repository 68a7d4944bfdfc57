"""Training recipe for a tiny LLaVA on the shapes world, as separate cached stages.

Stages (each cached under <work>/<stage-key>/, keyed by its spec, resumable from checkpoints):
  tokenizer  -> tokenizer.json
  lm         -> LlamaForCausalLM pretrained on world text (half the docs are scene markup)
  vision     -> CLIPVisionModel, trained contrastively against a small text encoder ("contrastive")
                or by per-patch colour/shape classification ("patchcls", for a later grid)
  connector  -> LLaVA multi_modal_projector trained on captioning with LM and vision tower frozen
  assemble   -> HF LlavaForConditionalGeneration checkpoint in <out>/hf
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import tok as tokmod
from . import world

MEAN = [0.5, 0.5, 0.5]
STD = [0.5, 0.5, 0.5]
TEMPLATE = "{image}\n{prompt}"


@dataclass
class LMSpec:
    hidden: int = 128
    layers: int = 6
    heads: int = 4
    intermediate: int = 384
    seed: int = 0
    steps: int = 1500
    batch: int = 48
    seq: int = 96  # packed length of text docs
    lr: float = 2e-3
    markup_frac: float = 0.5


@dataclass
class VisionSpec:
    kind: str = "contrastive"  # or "patchcls"
    hidden: int = 128
    layers: int = 4
    heads: int = 4
    intermediate: int = 384
    seed: int = 0
    steps: int = 600
    batch: int = 192
    lr: float = 1e-3


@dataclass
class ConnectorSpec:
    seed: int = 0
    n_images: int = 12000
    steps: int = 1200
    batch: int = 48
    lr: float = 2e-3
    vision_feature_layer: int = -2


@dataclass
class FixtureSpec:
    name: str = "shapes-llava"
    tokenizer_seed: int = 0
    lm: LMSpec = field(default_factory=LMSpec)
    vision: VisionSpec = field(default_factory=VisionSpec)
    connector: ConnectorSpec = field(default_factory=ConnectorSpec)
    eval_seed: int = 12345
    n_eval: int = 250
    corpus_seed: int = 777
    corpus_n: int = 6000


def key(prefix: str, *objs) -> str:
    h = hashlib.sha256(json.dumps([asdict(o) if hasattr(o, "__dataclass_fields__") else o
                                   for o in objs], sort_keys=True).encode()).hexdigest()[:10]
    return f"{prefix}-{h}"


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def lr_at(step: int, steps: int, lr: float, warmup: int = 50) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def train_loop(name, params, steps, lr, loss_fn, ckpt: Path, modules: dict, ckpt_every=200,
               log_every=50):
    """Generic AdamW loop with warmup+cosine, periodic resumable checkpoints."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    start = 0
    if ckpt.exists():
        st = torch.load(ckpt, weights_only=False)
        for k, m in modules.items():
            m.load_state_dict(st["modules"][k])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        log(f"{name}: resumed at step {start}")
    t0 = time.time()
    run = 0.0
    for step in range(start, steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr)
        loss, info = loss_fn(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        run = 0.9 * run + 0.1 * loss.item() if step > start else loss.item()
        if step % log_every == 0 or step == steps - 1:
            el = time.time() - t0
            log(f"{name} step {step}/{steps} loss {run:.4f} {info} "
                f"({el / (step - start + 1):.2f}s/step)")
        if (step + 1) % ckpt_every == 0 and step + 1 < steps:
            torch.save({"modules": {k: m.state_dict() for k, m in modules.items()},
                        "opt": opt.state_dict(), "step": step + 1}, ckpt)
    return run


# ------------------------------------------------------------------------------------- data

def pixels(imgs: np.ndarray) -> torch.Tensor:
    """uint8 [B,H,W,3] -> normalised float [B,3,H,W] (rescale 1/255, then (x-mean)/std)."""
    x = torch.from_numpy(imgs).float().permute(0, 3, 1, 2) / 255.0
    m = torch.tensor(MEAN).view(1, 3, 1, 1)
    s = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - m) / s


def pad_batch(seqs: list[list[int]], label_from: list[int] | None = None):
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), tokmod.PAD, dtype=torch.long)
    att = torch.zeros((len(seqs), L), dtype=torch.long)
    lab = torch.full((len(seqs), L), -100, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        att[i, :len(s)] = 1
        lab[i, :len(s)] = torch.tensor(s)
        if label_from is not None:
            lab[i, :label_from[i]] = -100
    return ids, att, lab


# ---------------------------------------------------------------------------------- stages

def stage_tokenizer(work: Path, seed: int):
    d = work / f"tokenizer-s{seed}"
    f = d / "tokenizer.json"
    if not f.exists():
        d.mkdir(parents=True, exist_ok=True)
        t = tokmod.train_tokenizer(seed)
        t.save(str(f))
    from tokenizers import Tokenizer
    t = Tokenizer.from_file(str(f))
    tokmod.check_tokenizer(t)
    return t, f


def lm_config(spec: LMSpec, vocab: int):
    from transformers import LlamaConfig
    return LlamaConfig(vocab_size=vocab, hidden_size=spec.hidden, intermediate_size=spec.intermediate,
                       num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
                       num_key_value_heads=spec.heads, max_position_embeddings=160,
                       rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                       bos_token_id=tokmod.BOS, eos_token_id=tokmod.EOS, pad_token_id=tokmod.PAD)


def lm_batch(tok, spec: LMSpec, rng: np.random.Generator) -> list[list[int]]:
    seqs = []
    nl = tokmod.encode(tok, "\n")
    for _ in range(spec.batch):
        if rng.random() < spec.markup_frac:
            s = world.sample_scene(rng)
            seqs.append([tokmod.BOS] + tokmod.encode(tok, s.markup()) + nl
                        + tokmod.encode(tok, s.caption()) + [tokmod.EOS])
        else:  # packed plain sentences, each <s> ... </s>
            seq: list[int] = []
            while True:
                ids = [tokmod.BOS] + tokmod.encode(tok, world.sentence(rng)) + [tokmod.EOS]
                if seq and len(seq) + len(ids) > spec.seq:
                    break
                seq += ids
            seqs.append(seq)
    return seqs


@torch.no_grad()
def greedy(lm_forward, prefix: torch.Tensor, max_new: int = 24) -> list[list[int]]:
    """Simple batched greedy decoding without cache (prefixes all the same length)."""
    out = prefix
    done = torch.zeros(len(prefix), dtype=torch.bool)
    for _ in range(max_new):
        nxt = lm_forward(out)[:, -1].argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, tokmod.PAD), nxt)
        out = torch.cat([out, nxt[:, None]], 1)
        done |= nxt == tokmod.EOS
        if done.all():
            break
    res = []
    for row in out[:, prefix.shape[1]:].tolist():
        res.append(row[:row.index(tokmod.EOS)] if tokmod.EOS in row else row)
    return res


def stage_lm(work: Path, tok, spec: LMSpec):
    from transformers import LlamaForCausalLM
    d = work / key("lm", spec)
    if (d / "done.json").exists():
        return LlamaForCausalLM.from_pretrained(d / "hf"), d
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(lm_config(spec, tok.get_vocab_size()))
    model.train()
    log(f"lm: {sum(p.numel() for p in model.parameters()) / 1e6:.3f}M params -> {d}")
    t0 = time.time()

    def loss_fn(step):
        rng = np.random.default_rng([spec.seed, 11, step])
        ids, att, lab = pad_batch(lm_batch(tok, spec, rng))
        out = model(input_ids=ids, attention_mask=att, labels=lab)
        return out.loss, ""

    final = train_loop("lm", list(model.parameters()), spec.steps, spec.lr, loss_fn, d / "ckpt.pt",
                       {"model": model})
    model.eval()
    # diagnostic: can the LM read a scene from markup? (greedy caption after markup)
    rng = np.random.default_rng([spec.seed, 99])
    scenes = [world.sample_scene(rng) for _ in range(100)]
    nl = tokmod.encode(tok, "\n")
    # group by markup length (all markups have 64 words, one token each)
    prefix = torch.tensor([[tokmod.BOS] + tokmod.encode(tok, s.markup()) + nl for s in scenes])
    preds = greedy(lambda x: model(input_ids=x).logits, prefix)
    exact = float(np.mean([tok.decode(p).strip() == s.caption() for p, s in zip(preds, scenes)]))
    meta = {"spec": asdict(spec), "seconds": time.time() - t0, "final_loss": final,
            "markup_to_caption_exact": exact,
            "params": sum(p.numel() for p in model.parameters())}
    log(f"lm done: {meta}")
    model.save_pretrained(d / "hf")
    (d / "done.json").write_text(json.dumps(meta, indent=1))
    return model, d


def vision_config(spec: VisionSpec):
    from transformers import CLIPVisionConfig
    return CLIPVisionConfig(hidden_size=spec.hidden, intermediate_size=spec.intermediate,
                            num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
                            image_size=world.IMAGE_SIZE, patch_size=world.PATCH, num_channels=3,
                            projection_dim=spec.hidden, hidden_act="quick_gelu",
                            layer_norm_eps=1e-5)


class TextEncoder(nn.Module):
    """Small transformer text encoder for contrastive training (not shipped)."""

    def __init__(self, vocab: int, d: int, layers: int = 2, heads: int = 4, max_len: int = 40):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(max_len, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, 4 * d, dropout=0.0, batch_first=True,
                                           norm_first=True, activation="gelu")
        self.enc = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d)

    def forward(self, ids, att):
        x = self.emb(ids) + self.pos[: ids.shape[1]]
        x = self.enc(x, src_key_padding_mask=att == 0)
        x = self.norm(x)
        m = att.unsqueeze(-1).float()
        return (x * m).sum(1) / m.sum(1)


def stage_vision(work: Path, tok, spec: VisionSpec):
    from transformers import CLIPVisionModel
    d = work / key("vision", spec)
    if (d / "done.json").exists():
        return CLIPVisionModel.from_pretrained(d / "hf"), d
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(spec.seed)
    vis = CLIPVisionModel(vision_config(spec))
    vis.train()
    D = spec.hidden
    log(f"vision[{spec.kind}]: {sum(p.numel() for p in vis.parameters()) / 1e6:.3f}M params -> {d}")
    mods: dict[str, nn.Module] = {"vision": vis}
    if spec.kind == "contrastive":
        txt = TextEncoder(tok.get_vocab_size(), D)
        proj_i, proj_t = nn.Linear(D, D, bias=False), nn.Linear(D, D, bias=False)
        scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        heads = nn.ModuleDict({"txt": txt, "pi": proj_i, "pt": proj_t})
        heads.register_parameter("scale", scale)
    elif spec.kind == "patchcls":
        heads = nn.ModuleDict({"colour": nn.Linear(D, len(world.COLOURS) + 1),
                               "shape": nn.Linear(D, len(world.SHAPES) + 1),
                               "size": nn.Linear(D, len(world.SIZES) + 1)})
    else:
        raise ValueError(spec.kind)
    mods["heads"] = heads
    params = list(vis.parameters()) + list(heads.parameters())
    t0 = time.time()

    def embed_pair(scenes):
        px = pixels(np.stack([s.render() for s in scenes]))
        out = vis(pixel_values=px)
        zi = F.normalize(heads["pi"](out.pooler_output), dim=-1)
        ids, att, _ = pad_batch([tokmod.encode(tok, s.caption()) for s in scenes])
        zt = F.normalize(heads["pt"](heads["txt"](ids, att)), dim=-1)
        return zi, zt

    def patch_targets(scenes):
        col, shp, siz = [], [], []
        cidx = {c: i + 1 for i, c in enumerate(world.COLOURS)}
        sidx = {c: i + 1 for i, c in enumerate(world.SHAPES)}
        zidx = {c: i + 1 for i, c in enumerate(world.SIZES)}
        for s in scenes:
            lab = s.labels.reshape(-1)
            col.append([0 if k == 0 else cidx[s.objects[k - 1].colour] for k in lab])
            shp.append([0 if k == 0 else sidx[s.objects[k - 1].shape] for k in lab])
            siz.append([0 if k == 0 else zidx[s.objects[k - 1].size] for k in lab])
        return torch.tensor(col), torch.tensor(shp), torch.tensor(siz)

    def loss_fn(step):
        rng = np.random.default_rng([spec.seed, 22, step])
        scenes = [world.sample_scene(rng) for _ in range(spec.batch)]
        if spec.kind == "contrastive":
            zi, zt = embed_pair(scenes)
            logits = zi @ zt.T * heads.scale.exp().clamp(max=100)
            y = torch.arange(len(scenes))
            loss = (F.cross_entropy(logits, y) + F.cross_entropy(logits.T, y)) / 2
            acc = (logits.argmax(1) == y).float().mean().item()
            return loss, f"i2t@1 {acc:.2f}"
        px = pixels(np.stack([s.render() for s in scenes]))
        h = vis(pixel_values=px).last_hidden_state[:, 1:]
        c, s_, z = patch_targets(scenes)
        loss = sum(F.cross_entropy(heads[k](h).flatten(0, 1), t.flatten())
                   for k, t in (("colour", c), ("shape", s_), ("size", z)))
        return loss, ""

    final = train_loop("vision", params, spec.steps, spec.lr, loss_fn, d / "ckpt.pt", mods,
                       ckpt_every=100, log_every=25)
    vis.eval()
    heads.eval()
    meta = {"spec": asdict(spec), "seconds": time.time() - t0, "final_loss": final,
            "params": sum(p.numel() for p in vis.parameters())}
    if spec.kind == "contrastive":
        with torch.no_grad():
            rng = np.random.default_rng([spec.seed, 98])
            zi, zt = embed_pair([world.sample_scene(rng) for _ in range(256)])
            meta["heldout_i2t_at1_of_256"] = float(((zi @ zt.T).argmax(1) == torch.arange(256))
                                                   .float().mean())
    log(f"vision done: {meta}")
    vis.save_pretrained(d / "hf")
    torch.save(heads.state_dict(), d / "heads.pt")
    (d / "done.json").write_text(json.dumps(meta, indent=1))
    return vis, d


def build_llava(lm, vis, tok, cspec: ConnectorSpec):
    from transformers import LlavaConfig, LlavaForConditionalGeneration
    cfg = LlavaConfig(vision_config=vis.config, text_config=lm.config,
                      image_token_index=tokmod.IMAGE, vision_feature_layer=cspec.vision_feature_layer,
                      vision_feature_select_strategy="default", projector_hidden_act="gelu",
                      multimodal_projector_bias=True, image_seq_length=world.GRID * world.GRID,
                      tie_word_embeddings=False)
    torch.manual_seed(cspec.seed)
    m = LlavaForConditionalGeneration(cfg)
    m.model.vision_tower.load_state_dict(vis.state_dict())
    m.model.language_model.load_state_dict(lm.model.state_dict())
    m.lm_head.load_state_dict(lm.lm_head.state_dict())
    m.eval()
    return m


@torch.no_grad()
def vision_features(llava, imgs: np.ndarray, layer: int, chunk: int = 256) -> torch.Tensor:
    outs = []
    for i in range(0, len(imgs), chunk):
        hs = llava.model.vision_tower(pixel_values=pixels(imgs[i:i + chunk]),
                                      output_hidden_states=True).hidden_states
        outs.append(hs[layer][:, 1:].to(torch.float16))  # "default" strategy: drop CLS
    return torch.cat(outs)


def caption_seq(tok, caption: str) -> tuple[list[int], int]:
    n = world.GRID * world.GRID
    pre = [tokmod.BOS] + [tokmod.IMAGE] * n + tokmod.encode(tok, "\n")
    return pre + tokmod.encode(tok, caption) + [tokmod.EOS], len(pre)


def splice_forward(llava, ids, att, feats):
    """LM logits with image placeholders replaced by the projected features (as LLaVA does)."""
    emb = llava.model.language_model.embed_tokens(ids)
    vt = llava.model.multi_modal_projector(feats.float())
    mask = (ids == tokmod.IMAGE).unsqueeze(-1)
    emb = emb.masked_scatter(mask, vt.to(emb.dtype))
    h = llava.model.language_model(inputs_embeds=emb, attention_mask=att).last_hidden_state
    return llava.lm_head(h)


def stage_connector(work: Path, tok, lm, vis, lm_dir: Path, vis_dir: Path, cspec: ConnectorSpec):
    d = work / f"connector-{lm_dir.name}-{vis_dir.name}-{key('c', cspec)}"
    llava = build_llava(lm, vis, tok, cspec)
    if (d / "done.json").exists():
        llava.model.multi_modal_projector.load_state_dict(torch.load(d / "projector.pt"))
        return llava, d
    d.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    rng = np.random.default_rng([cspec.seed, 33])
    scenes = [world.sample_scene(rng) for _ in range(cspec.n_images)]
    imgs = np.stack([s.render() for s in scenes])
    feats = vision_features(llava, imgs, cspec.vision_feature_layer)
    seqs = [caption_seq(tok, s.caption()) for s in scenes]
    log(f"connector: precomputed {tuple(feats.shape)} features in {time.time() - t0:.0f}s -> {d}")
    for p in llava.parameters():
        p.requires_grad_(False)
    proj = llava.model.multi_modal_projector
    for p in proj.parameters():
        p.requires_grad_(True)
    llava.model.language_model.config._attn_implementation = "sdpa"

    def loss_fn(step):
        r = np.random.default_rng([cspec.seed, 44, step])
        idx = r.choice(len(scenes), size=cspec.batch, replace=False)
        ids, att, lab = pad_batch([seqs[i][0] for i in idx], [seqs[i][1] for i in idx])
        logits = splice_forward(llava, ids, att, feats[idx])
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1), lab[:, 1:].flatten())
        return loss, ""

    final = train_loop("connector", list(proj.parameters()), cspec.steps, cspec.lr, loss_fn,
                       d / "ckpt.pt", {"proj": proj}, ckpt_every=200)
    meta = {"spec": asdict(cspec), "seconds": time.time() - t0, "final_loss": final,
            "params": sum(p.numel() for p in proj.parameters())}
    log(f"connector done: {meta}")
    torch.save(proj.state_dict(), d / "projector.pt")
    (d / "done.json").write_text(json.dumps(meta, indent=1))
    return llava, d


def save_hf(llava, tok_file: Path, out: Path):
    hf = out / "hf"
    hf.mkdir(parents=True, exist_ok=True)
    llava.save_pretrained(hf)
    for f in hf.iterdir():
        f.chmod(0o644)
    (hf / "tokenizer.json").write_bytes(tok_file.read_bytes())
    pre = {
        "image_processor_type": "CLIPImageProcessor",
        "do_convert_rgb": True,
        "do_resize": True, "size": {"height": world.IMAGE_SIZE, "width": world.IMAGE_SIZE},
        "resample": 3,
        "do_center_crop": False,
        "crop_size": {"height": world.IMAGE_SIZE, "width": world.IMAGE_SIZE},
        "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": MEAN, "image_std": STD,
    }
    (hf / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    tc = {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
        "pad_token": "<pad>", "extra_special_tokens": {"image_token": "<image>"},
        "add_bos_token": False, "model_max_length": 160,
    }
    (hf / "tokenizer_config.json").write_text(json.dumps(tc, indent=2) + "\n")
    (hf / "vislens.json").write_text(json.dumps({"template": TEMPLATE, "add_bos": True}, indent=2)
                                     + "\n")
    return hf


def write_eval_and_corpus(out: Path, spec: FixtureSpec):
    from .imageset import write_image_set
    write_image_set(out / "eval", spec.eval_seed, spec.n_eval)
    crng = np.random.default_rng(spec.corpus_seed)
    lines = world.corpus(crng, spec.corpus_n)
    (out / "corpus.txt").write_text("\n".join(lines) + "\n")


def train(out: Path, work: Path, spec: FixtureSpec | None = None):
    spec = spec or FixtureSpec()
    torch.set_num_threads(int(os.environ.get("VISLENS_THREADS", "2")))
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    times = {}
    t = time.time()
    tok, tok_file = stage_tokenizer(work, spec.tokenizer_seed)
    times["tokenizer"] = time.time() - t
    t = time.time()
    write_eval_and_corpus(out, spec)
    times["eval_set_and_corpus"] = time.time() - t
    t = time.time()
    lm, lm_dir = stage_lm(work, tok, spec.lm)
    times["lm"] = time.time() - t
    t = time.time()
    vis, vis_dir = stage_vision(work, tok, spec.vision)
    times["vision"] = time.time() - t
    t = time.time()
    llava, c_dir = stage_connector(work, tok, lm, vis, lm_dir, vis_dir, spec.connector)
    times["connector"] = time.time() - t
    t = time.time()
    hf = save_hf(llava, tok_file, out)
    times["save"] = time.time() - t
    stage_meta = {n: json.loads((p / "done.json").read_text())
                  for n, p in (("lm", lm_dir), ("vision", vis_dir), ("connector", c_dir))}
    (out / "eval").mkdir(exist_ok=True)
    (work / "last_train.json").write_text(json.dumps({"times_this_run": times, "stages": stage_meta,
                                                      "spec": asdict(spec)}, indent=1))
    log(f"train done: {times}")
    from .evaluate import evaluate
    t = time.time()
    evaluate(out, train_info={"times_this_run": times, "stages": stage_meta, "spec": asdict(spec)})
    log(f"eval done in {time.time() - t:.0f}s")
    from .lenscheck import lens_check
    t = time.time()
    lens_check(out)
    log(f"lens check done in {time.time() - t:.0f}s")
