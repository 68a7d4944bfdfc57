"""The PyTorch-eager peer of bench/real-size.ts, on the HF checkpoint a bundle was exported from.

  torch_real_size.py hidden    <hf-dir> <bundle> <image> <threads> <repeat>
  torch_real_size.py interpret <hf-dir> <bundle> <image> <threads> <repeat> <bank-dir> <k>
  torch_real_size.py bank      <hf-dir> <bundle> <batches.json> <threads>

Inputs are built from the bundle the way vislens builds them (preprocessing, prompt ids), so both
sides run the same sequence. `interpret` does in torch what vislens's three lenses do at every layer
for every visual token: LatentLens (cosine against each bank layer's rows, top-k per layer, then the
global top-k), EmbeddingLens (cosine against the input embeddings, top-k), LogitLens (final norm,
unembedding, top-k and the log-sum-exp for probabilities). Like vislens, the bank's float16 rows
and the normalised embedding matrix are prepared once, outside the clock. Prints JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "exporter"))

from vislens_export import preprocess  # noqa: E402
from vislens_export.archs import ARCHS, SUPPORTED, VisionSpec  # noqa: E402
from vislens_export.checkpoint import load_model, read_checkpoint  # noqa: E402
from vislens_export.runtime import BundleRunner  # noqa: E402


def setup(hf_dir: str, bundle: str):
    runner = BundleRunner(bundle)
    ckpt = read_checkpoint(hf_dir, SUPPORTED)
    arch, model = ARCHS[ckpt.architecture], load_model(ckpt)
    v = runner.manifest["vision"]
    spec = VisionSpec(tuple(v["image_size"]), v["patch_size"], v["merge"], tuple(v["grid"]))
    return runner, arch, model, spec


def forward(runner, arch, model, spec, image: str):
    """Image file -> hidden states [N+1, S, D] (pre-norm last) and the visual positions."""
    ids = runner.input_ids("")
    pixel_values = torch.from_numpy(preprocess.load(image, runner.manifest["vision"]["preprocess"]))
    decoder = arch.text_model(model)
    captured = {}
    hook = decoder.norm.register_forward_pre_hook(lambda m, a: captured.update(pre=a[0]))
    input_ids = torch.tensor([ids])
    try:
        out = model(input_ids=input_ids, output_hidden_states=True, use_cache=False, **arch.hf_inputs(model, spec, pixel_values, input_ids))
    finally:
        hook.remove()
    hidden = torch.stack([*out.hidden_states[:-1], captured["pre"]])[:, 0]
    visual = [i for i, t in enumerate(ids) if t == runner.image_token_id]
    return hidden, visual


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    what = sys.argv[1]
    torch.set_num_threads(int(sys.argv[5]))
    if what == "bank":
        hf_dir, bundle, batches_file = sys.argv[2], sys.argv[3], sys.argv[4]
        runner, arch, model, _ = setup(hf_dir, bundle)
        decoder = arch.text_model(model)
        batches = json.load(open(batches_file))
        tokens = sum(len(ids) for batch in batches for ids in batch)

        def run_all() -> None:
            for batch in batches:
                width = max(len(ids) for ids in batch)
                ids = torch.tensor([s + [0] * (width - len(s)) for s in batch])
                mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch])
                out = decoder(inputs_embeds=decoder.embed_tokens(ids), attention_mask=mask, output_hidden_states=True, use_cache=False)
                torch.stack(out.hidden_states)  # every layer materialised, as vislens' graph does

        with torch.inference_mode():
            run_all()  # warm-up
            (seconds,) = timed(run_all, 1)
        print(json.dumps({"tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}))
        return

    hf_dir, bundle, image, repeat = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[6])
    runner, arch, model, spec = setup(hf_dir, bundle)
    with torch.inference_mode():
        if what == "hidden":
            forward(runner, arch, model, spec, image)  # warm-up
            print(json.dumps({"seconds": timed(lambda: forward(runner, arch, model, spec, image), repeat)}))
            return
        bank_dir, k = Path(sys.argv[7]), int(sys.argv[8])
        bank = json.loads((bank_dir / "bank.json").read_text())
        rows = {l: torch.from_numpy(np.load(bank_dir / f"layer_{l:02d}.npy").astype(np.float32)) for l in bank["layers"]}
        decoder = arch.text_model(model)
        emb = decoder.embed_tokens.weight
        emb_unit = emb / emb.norm(dim=1, keepdim=True)
        w_u, norm = model.lm_head.weight, decoder.norm

        def interpret():
            hidden, visual = forward(runner, arch, model, spec, image)
            start = time.perf_counter()
            for layer in range(hidden.shape[0]):
                q = hidden[layer, visual]  # [T, D]
                unit = q / q.norm(dim=1, keepdim=True)
                per_layer = [torch.topk(unit @ r.T, min(k, r.shape[0]), dim=1) for r in rows.values()]
                torch.topk(torch.cat([t.values for t in per_layer], dim=1), k, dim=1)  # LatentLens
                torch.topk(unit @ emb_unit.T, k, dim=1)  # EmbeddingLens
                logits = norm(q) @ w_u.T  # LogitLens
                torch.topk(logits, k, dim=1)
                torch.logsumexp(logits, dim=1)
            return time.perf_counter() - start

        interpret()  # warm-up
        total, lenses = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            lenses.append(interpret())
            total.append(time.perf_counter() - start)
        print(json.dumps({"seconds": total, "lens_seconds": lenses}))


if __name__ == "__main__":
    main()
