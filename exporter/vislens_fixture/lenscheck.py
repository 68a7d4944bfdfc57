"""A quick sanity check that the fixture's visual tokens carry word-like meaning (not the vislens
implementation; a small independent reference in torch).

For every object patch of the held-out images and every LLM layer L (0 = connector output), take the
visual token's hidden state and ask three lenses for their top-1 word:
  EmbeddingLens: nearest input-embedding row (cosine);
  LogitLens:     argmax of lm_head(final_norm(h));
  LatentLens:    nearest contextual token (cosine) among the LM's hidden states of every token of
                 corpus.txt at contextual layers {1, 2, 4, N-2, N-1} (positions 0 and 1 skipped).
A hit = the word names the patch's object colour or shape. Control: the same words scored against
the labels of a random other object patch (shuffled control)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import tok as tokmod
from . import world
from .recipe import TEMPLATE, pixels


@torch.no_grad()
def lens_check(out: Path, n_images: int = 100, max_corpus: int = 6000) -> dict:
    from PIL import Image
    from tokenizers import Tokenizer
    from transformers import LlavaForConditionalGeneration
    torch.manual_seed(0)
    model = LlavaForConditionalGeneration.from_pretrained(out / "hf").eval()
    tok = Tokenizer.from_file(str(out / "hf" / "tokenizer.json"))
    lm = model.model.language_model
    N = lm.config.num_hidden_layers
    words = [tok.decode([i]).strip() for i in range(tok.get_vocab_size())]

    def states(ids=None, embeds=None, att=None):
        # transformers v5 returns the last entry after the final norm; callers replace hs[N] by
        # the final norm's input (block N's pre-norm output), captured by the hook below
        return list(lm(input_ids=ids, inputs_embeds=embeds, attention_mask=att,
                       output_hidden_states=True).hidden_states)

    captured = {}
    h = lm.norm.register_forward_hook(lambda m, i, o: captured.__setitem__("pre", i[0]))

    # contextual bank
    ctx_layers = sorted({1, 2, 4, N - 2, N - 1} & set(range(1, N + 1)))
    lines = (out / "corpus.txt").read_text().splitlines()[:max_corpus]
    bank = {L: [] for L in ctx_layers}
    bank_tok = []
    for i in range(0, len(lines), 256):
        seqs = [[tokmod.BOS] + tokmod.encode(tok, s) for s in lines[i:i + 256]]
        L_ = max(map(len, seqs))
        ids = torch.full((len(seqs), L_), tokmod.PAD)
        att = torch.zeros((len(seqs), L_), dtype=torch.long)
        for j, s in enumerate(seqs):
            ids[j, :len(s)] = torch.tensor(s)
            att[j, :len(s)] = 1
        hs = states(ids=ids, att=att)
        hs[N] = captured["pre"]
        keep = att.bool().clone()
        keep[:, :2] = False  # skip positions 0 (BOS) and 1, as the package does
        for L in ctx_layers:
            bank[L].append(F.normalize(hs[L][keep], dim=-1))
        bank_tok.append(ids[keep])
    bank = {L: torch.cat(v) for L, v in bank.items()}
    bank_tok = torch.cat(bank_tok)
    allbank = torch.cat([bank[L] for L in ctx_layers])
    allbank_tok = bank_tok.repeat(len(ctx_layers))

    ann = json.loads((out / "eval" / "annotations.json").read_text())["images"][:n_images]
    imgs = np.stack([np.asarray(Image.open(out / "eval" / a["file"]).convert("RGB")) for a in ann])
    n = world.GRID * world.GRID
    prompt = [tokmod.BOS] + tokmod.encode(tok, TEMPLATE.format(image="<image>" * n, prompt=""))
    ids = torch.tensor([prompt] * len(ann))
    img_pos = (ids[0] == tokmod.IMAGE).nonzero().flatten()
    feats = model.model.get_image_features(pixel_values=pixels(imgs)).pooler_output
    emb = lm.embed_tokens(ids)
    emb[:, img_pos] = torch.stack(list(feats))
    hs = states(embeds=emb)
    hs[N] = captured["pre"]
    h.remove()
    targets, patch_idx = [], []
    for i, a in enumerate(ann):
        for t, k in enumerate(np.array(a["patch_labels"]).reshape(-1)):
            if k:
                o = a["objects"][k - 1]
                targets.append({o["colour"], o["shape"]})
                patch_idx.append((i, t))
    rng = np.random.default_rng(0)
    shuffled = [targets[j] for j in rng.permutation(len(targets))]
    bi = torch.tensor([p[0] for p in patch_idx])
    ti = img_pos[torch.tensor([p[1] for p in patch_idx])]
    E = F.normalize(lm.embed_tokens.weight, dim=-1)
    res = {"n_patches": len(targets), "contextual_layers": ctx_layers, "layers": {}}
    for L in range(N + 1):
        x = hs[L][bi, ti]
        tops = {
            "EmbeddingLens": (F.normalize(x, dim=-1) @ E.T).argmax(-1),
            "LogitLens": model.lm_head(lm.norm(x)).argmax(-1),
            "LatentLens": allbank_tok[(F.normalize(x, dim=-1) @ allbank.T).argmax(-1)],
        }
        row = {}
        for name, top in tops.items():
            w = [words[int(t)] for t in top]
            hit = np.mean([wi in tg for wi, tg in zip(w, targets)])
            ctl = np.mean([wi in tg for wi, tg in zip(w, shuffled)])
            vals, cnt = np.unique(w, return_counts=True)
            row[name] = {"top1_hit": round(float(hit), 4), "shuffled_control": round(float(ctl), 4),
                         "most_common_word": str(vals[cnt.argmax()]),
                         "most_common_share": round(float(cnt.max() / len(w)), 3)}
        res["layers"][L] = row
    (out / "eval" / "lens_check.json").write_text(json.dumps(res, indent=1) + "\n")
    return res
