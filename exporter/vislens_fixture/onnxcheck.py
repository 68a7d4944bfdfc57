"""Greedy captions from the exported bundle (onnxruntime, following manifest.json alone), compared
with the HF checkpoint's greedy captions stored in eval/metrics.json."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def onnx_check(out: Path) -> dict:
    import onnxruntime as ort
    from PIL import Image
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer
    man = json.loads((out / "manifest.json").read_text())
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    vis = ort.InferenceSession(str(out / man["onnx"]["vision"]["file"]), so)
    llm = ort.InferenceSession(str(out / man["onnx"]["llm"]["file"]), so)
    E = load_file(str(out / "weights.safetensors"))[man["llm"]["embedding"]]
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    pr, pp, n = man["prompt"], man["vision"]["preprocess"], man["vision"]["num_tokens"]
    ids = ([pr["bos_token_id"]] if pr["add_bos"] else []) + tok.encode(
        pr["template"].format(image=pr["image_token"] * n, prompt=""), add_special_tokens=False).ids
    eos = tok.token_to_id("</s>")
    anns = json.loads((out / "eval" / "annotations.json").read_text())["images"]
    hf_preds = json.loads((out / "eval" / "metrics.json").read_text())["predictions"]
    agree, preds = 0, []
    for a, hp in zip(anns, hf_preds):
        x = np.asarray(Image.open(out / "eval" / a["file"]).convert("RGB")).astype(np.float32)
        x = (x * pp["rescale_factor"] - np.array(pp["mean"])) / np.array(pp["std"])
        x = x.transpose(2, 0, 1)[None].astype(np.float32)
        vt = vis.run(None, {"pixel_values": x})[0][0]
        seq, gen = list(ids), []
        for _ in range(24):
            emb = E[seq].copy()
            emb[np.array(seq) == pr["image_token_id"]] = vt
            _, logits = llm.run(None, {"inputs_embeds": emb[None],
                                       "attention_mask": np.ones((1, len(seq)), np.int64),
                                       "position_ids": np.arange(len(seq))[None]})
            t = int(logits[0, -1].argmax())
            if t == eos:
                break
            seq.append(t)
            gen.append(t)
        p = tok.decode(gen).strip()
        preds.append(p)
        agree += p == hp
    return {"images": len(anns), "onnx_equals_hf_greedy": agree}
