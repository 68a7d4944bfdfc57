"""Stage 2 of the recipe: the LM (LlamaForCausalLM) trained from scratch on the world's corpus and on scene
markup (lm_docs.py), with the shapes fixture's training loop (warmup + cosine, resumable checkpoints).

Cached under <work>/world-lm-<hash of the spec and the tokenizer>/: hf/ (the LM) and done.json (spec,
seconds, final loss, and a check: greedy captions from the markup of 100 new scenes, exact share).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

import torch

from vislens_fixture.recipe import greedy, key, log, pad_batch, train_loop

from .caption import caption
from .files import write_text_atomic
from .imageset import training_scenes
from .lm_docs import lm_batch
from .markup import markup
from .model_spec import WorldModelSpec
from .tokenizer import BOS, EOS, PAD, encode

CHECK_STREAM = 3  # scenes for the markup -> caption check


def lm_config(spec: WorldModelSpec, vocab: int):
    from transformers import LlamaConfig

    s = spec.lm
    return LlamaConfig(vocab_size=vocab, hidden_size=s.hidden, intermediate_size=s.intermediate,
                       num_hidden_layers=s.layers, num_attention_heads=s.heads, num_key_value_heads=s.heads,
                       max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
                       tie_word_embeddings=False, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)


@torch.no_grad()
def markup_check(model, tok, spec: WorldModelSpec, n: int) -> float:
    """Share of n new scenes whose greedy continuation of <s> markup \\n is exactly the caption."""
    scenes = training_scenes(CHECK_STREAM, 0, n, spec.world())
    prefixes = [[BOS] + encode(tok, markup(s)) + encode(tok, "\n") for s in scenes]
    hits = 0
    for length in sorted({len(p) for p in prefixes}):  # greedy() wants prefixes of one length
        idx = [i for i, p in enumerate(prefixes) if len(p) == length]
        preds = greedy(lambda x: model(input_ids=x).logits, torch.tensor([prefixes[i] for i in idx]), max_new=48)
        hits += sum(tok.decode(p).strip() == caption(scenes[i]) for p, i in zip(preds, idx))
    return hits / n


def lm_from_checkpoint(hf: Path, tok, tok_hash: str, spec: WorldModelSpec):
    """The LM of a world model's shipped HF checkpoint (<model>/hf, a LlavaForConditionalGeneration), as the
    LlamaForCausalLM this stage would have trained: its language model and LM head, byte for byte. A second
    tower or connector can then be trained on the very LM a shipped model has, without the LM's hour.
    Refuses a checkpoint whose tokenizer or LM sizes differ from this recipe's (naming the file and field)."""
    from safetensors.torch import load_file
    from transformers import LlamaForCausalLM

    hf = Path(hf)
    tok_file, cfg_file, weights = hf / "tokenizer.json", hf / "config.json", hf / "model.safetensors"
    for f in (tok_file, cfg_file, weights):
        if not f.is_file():
            raise ValueError(f"{f}: missing (--lm-from wants a world model's hf/ directory)")
    got = hashlib.sha256(tok_file.read_bytes()).hexdigest()[:10]
    if got != tok_hash:
        raise ValueError(f"{tok_file}: tokenizer sha256 {got}... is not this recipe's ({tok_hash}...); "
                         "the LM only fits the tokenizer it was trained with")
    text = json.loads(cfg_file.read_text()).get("text_config", {})
    want = lm_config(spec, tok.get_vocab_size()).to_dict()
    for field in ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"):
        if text.get(field) != want[field]:
            raise ValueError(f"{cfg_file}: text_config.{field} is {text.get(field)!r}, this recipe's LM has "
                             f"{want[field]!r}")
    state = load_file(str(weights))
    # LLaVA checkpoints name the LM's tensors language_model.model.* / language_model.lm_head.* (as saved by
    # transformers 4.x) or model.language_model.* / lm_head.* (the newer layout); both map onto the Llama's.
    prefixes = (("language_model.model.", "model."), ("language_model.lm_head.", "lm_head."),
                ("model.language_model.", "model."), ("lm_head.", "lm_head."))
    lm_state = {new + k[len(old):]: v for k, v in state.items()
                for old, new in prefixes if k.startswith(old)}
    model = LlamaForCausalLM(lm_config(spec, tok.get_vocab_size()))
    missing, unexpected = model.load_state_dict(lm_state, strict=False)
    missing = [k for k in missing if "rotary_emb" not in k]
    if missing or unexpected:
        raise ValueError(f"{weights}: the language model's tensors do not fit this recipe's LM "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.eval()
    return model


def stage_lm_from(work: Path, tok, tok_hash: str, spec: WorldModelSpec, check_n: int, hf: Path):
    """The LM stage from a shipped model's hf/ checkpoint (lm_from_checkpoint), in a stage directory keyed by
    the checkpoint's weights, so a loaded LM and a trained one never share a cache entry."""
    t0 = time.time()
    model = lm_from_checkpoint(hf, tok, tok_hash, spec)
    source = hashlib.sha256((Path(hf) / "model.safetensors").read_bytes()).hexdigest()[:10]
    d = Path(work) / key("world-lm-from", spec.lm, tok_hash, source)
    if (d / "done.json").exists():
        return model, d
    meta = {"spec": asdict(spec.lm), "from_checkpoint": str(hf), "checkpoint_sha256": source,
            "seconds": round(time.time() - t0, 1), "params": sum(p.numel() for p in model.parameters()),
            "markup_to_caption_exact": markup_check(model, tok, spec, check_n)}
    log(f"lm from {hf}: {meta}")
    model.save_pretrained(d / "hf")
    write_text_atomic(d / "done.json", json.dumps(meta, indent=1) + "\n")
    return model, d


def stage_lm(work: Path, tok, tok_hash: str, corpus_ids: list[list[int]], spec: WorldModelSpec, check_n: int = 100,
             lm_from: Path | None = None):
    """Trains the LM (or resumes it), or with lm_from takes it from a shipped model's hf/ checkpoint; either way
    the stage's directory holds hf/ and done.json, and the markup -> caption check is run on what it holds."""
    from transformers import LlamaForCausalLM

    if lm_from is not None:
        return stage_lm_from(work, tok, tok_hash, spec, check_n, Path(lm_from))
    s = spec.lm
    d = Path(work) / key("world-lm", s, tok_hash, spec.image_size, spec.patch, spec.qa_frac)
    if (d / "done.json").exists():
        return LlamaForCausalLM.from_pretrained(d / "hf"), d
    d.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(s.seed)
    model = LlamaForCausalLM(lm_config(spec, tok.get_vocab_size()))
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    log(f"lm: {n_params / 1e6:.2f}M params -> {d}")
    cfg = spec.world()
    t0 = time.time()

    def loss_fn(step):
        rows = lm_batch(tok, corpus_ids, step, batch=s.batch, seq=s.seq, markup_frac=s.markup_frac,
                        qa_frac=spec.qa_frac, seed=s.seed, config=cfg)
        ids, att, lab = pad_batch(rows)
        return model(input_ids=ids, attention_mask=att, labels=lab).loss, ""

    final = train_loop("lm", list(model.parameters()), s.steps, s.lr, loss_fn, d / "ckpt.pt", {"model": model},
                       ckpt_every=100, log_every=25)
    model.eval()
    meta = {"spec": asdict(s), "seconds": round(time.time() - t0, 1), "final_loss": final, "params": n_params,
            "markup_to_caption_exact": markup_check(model, tok, spec, check_n)}
    log(f"lm done: {meta}")
    model.save_pretrained(d / "hf")
    write_text_atomic(d / "done.json", json.dumps(meta, indent=1) + "\n")
    return model, d
