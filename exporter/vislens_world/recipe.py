"""The world model's recipe: one command re-creates models/objects-llava the LLaVA way.

    corpus      corpus.txt + corpus-heldout.txt in <out> (seeded; the LM reads the training part)
    tokenizer   byte-level BPE on the corpus                       (tokenizer.py)
    eval set    <out>/eval: held-out images + annotations at the bundle's grid (imageset.write_image_set)
    pool        training scenes rendered once                      (pool.py)
    lm          LlamaForCausalLM on the corpus and scene markup    (train_lm.py; or, with --lm-from, the LM
                of a shipped model's hf/ checkpoint, byte for byte: how the grid's second tower shares the LM)
    vision      CLIPVisionModel, contrastive (scenes vs captions), by default with a per-patch object-class
                loss on the block the connector reads              (train_vision.py)
    connector   the projector on captioning, LM and tower frozen   (train_connector.py)
    hf          <out>/hf, a LlavaForConditionalGeneration checkpoint (llava.py)
    evaluate    held-out caption accuracy -> <out>/eval/metrics.json (evaluate.py)

Stages are cached under <work> (default ~/.cache/vislens-world, or $VISLENS_WORLD_CACHE) in directories
keyed by a hash of their spec, and resume from their last checkpoint when killed, through the shapes
fixture recipe's machinery (vislens_fixture.recipe: key, train_loop, ...). Threads: $VISLENS_THREADS
(default 2).
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer

from vislens_fixture.recipe import key, log

from . import catalogue as catmod
from .caption import caption
from .corpusfile import TRAIN_FILE, write_corpus
from .evaluate import evaluate
from .files import write_text_atomic
from .imageset import image_set, write_image_set
from .llava import save_hf
from .model_spec import WorldModelSpec
from .pool import FORMAT as POOL_FORMAT, cached_pool
from .seeds import CORPUS_SEED, EVAL_SEED
from .tokenizer import check_tokenizer, encode, token_stats, train_tokenizer
from .train_connector import stage_connector
from .train_lm import stage_lm
from .train_vision import stage_vision
from .vocabulary import vocabulary

def stage_tokenizer(work: Path, lines: list[str], spec: WorldModelSpec):
    corpus_hash = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:10]
    d = Path(work) / key("world-tokenizer", spec.tokenizer, corpus_hash)
    f = d / "tokenizer.json"
    if not f.is_file():
        tok = train_tokenizer(lines, vocabulary(), spec.tokenizer.vocab_size)
        write_text_atomic(f, tok.to_str())
    tok = Tokenizer.from_file(str(f))
    check_tokenizer(tok, caption(image_set(EVAL_SEED, 1, spec.world())[0]))
    return tok, f, hashlib.sha256(f.read_bytes()).hexdigest()[:10]


def train(out: Path, work: Path, spec: WorldModelSpec | None = None, lm_from: Path | None = None) -> dict:
    """Runs the recipe into <out>; lm_from (a world model's hf/ directory) takes the LM from that checkpoint
    instead of training it (stage_lm)."""
    spec = spec or WorldModelSpec()
    torch.set_num_threads(int(os.environ.get("VISLENS_THREADS", "2")))
    out, work = Path(out), Path(work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}

    def timed(name, fn, *args, **kw):
        t = time.time()
        res = fn(*args, **kw)
        times[name] = round(time.time() - t, 1)
        return res

    timed("corpus", write_corpus, out, CORPUS_SEED, spec.corpus_n)
    lines = (out / TRAIN_FILE).read_text(encoding="utf-8").split("\n")[:-1]
    tok, tok_file, tok_hash = timed("tokenizer", stage_tokenizer, work, lines, spec)
    stats = token_stats(tok, vocabulary(), [c.name for c in catmod.load().classes])
    log(f"tokenizer: {stats}")
    corpus_ids = [encode(tok, s) for s in lines]
    timed("eval_set", write_image_set, out / "eval", EVAL_SEED, spec.n_eval, spec.world())
    pool = timed("pool", cached_pool, work / key("world-pool", spec.pool.scenes, spec.world().to_json(), POOL_FORMAT),
                 spec.pool.scenes, spec.world(), log)
    lm, lm_dir = timed("lm", stage_lm, work, tok, tok_hash, corpus_ids, spec, spec.check_scenes, lm_from)
    vis, vis_dir = timed("vision", stage_vision, work, tok, tok_hash, pool, spec, spec.retrieval_scenes)
    llava, c_dir = timed("connector", stage_connector, work, tok, lm, vis, lm_dir, vis_dir, pool, spec)
    timed("save_hf", save_hf, llava, tok_file, out, spec)
    record = {"spec": spec.to_json(), "tokenizer": stats, "times_this_run": times,
              "stages": {n: json.loads((p / "done.json").read_text()) for n, p in
                         (("lm", lm_dir), ("vision", vis_dir), ("connector", c_dir))}}
    log(f"train done: {times}")
    t = time.time()
    res = evaluate(out, record)
    log(f"eval done in {time.time() - t:.0f}s: {json.dumps(res['heldout'])}")
    write_text_atomic(work / "last_train.json", json.dumps(record, indent=1) + "\n")
    return res
