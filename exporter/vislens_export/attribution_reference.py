"""Answer attribution computed in PyTorch eager on the HF model: the reference for vislens's own.

python -m vislens_export.attribution_reference <bundle> --hf <hf-dir> --image <png> --prompt "<text>"
    [--heads 10] [--no-ablate] [--baseline mean|zero] [--repeat R] --out result.json

The method (Yu & Ananiadou 2024, docs/attribution.md), written independently of the TypeScript
implementation and of the attribution graph: HF's own output_attentions, forward hooks on v_proj,
o_proj and the MLPs, and torch matmuls for every score. The target is the argmax at the last
position. The inputs (preprocessing, prompt ids, M-RoPE positions) are built from the bundle the way
the runtime builds them, so that both sides attribute the same sequence.

`--repeat` times the whole computation (image file to result: preprocessing, forward pass, scores,
ablations) R times, for the benchmark.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import preprocess
from .archs import ARCHS, SUPPORTED, VisionSpec
from .checkpoint import load_model, read_checkpoint
from .runtime import BundleRunner


def _log_prob(logits: torch.Tensor, target: int) -> torch.Tensor:
    return torch.log_softmax(logits.double(), dim=-1)[..., target]


class TorchAttribution:
    """The HF model's decoder, driven with inputs_embeds so that patches can be ablated."""

    def __init__(self, arch, model, runner: BundleRunner):
        self.model, self.runner = model, runner
        v = runner.manifest["vision"]
        self.spec = VisionSpec.from_manifest(v)
        self.vision = arch.vision_graph(model, self.spec)
        self.decoder = arch.text_model(model)
        self.lm_head = model.lm_head
        config = self.decoder.config
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = self.decoder.layers[0].self_attn.head_dim
        self.silenced: tuple[int, int] | None = None

    def _forward(self, embeds: torch.Tensor, positions: torch.Tensor, record: dict | None):
        handles = []
        for index, block in enumerate(self.decoder.layers):
            attn = block.self_attn

            def pre_o(module, args, index=index):
                x = args[0]
                if record is not None:
                    record["context"].append(x[0, -1].unflatten(-1, (self.heads, self.head_dim)))
                if self.silenced and self.silenced[0] == index:
                    x = x.unflatten(-1, (self.heads, self.head_dim)).clone()
                    x[..., self.silenced[1], :] = 0
                    return (x.flatten(-2),)
                return None

            handles.append(attn.o_proj.register_forward_pre_hook(pre_o))
            if record is not None:
                handles += [
                    attn.v_proj.register_forward_hook(lambda m, a, o: record["values"].append(o[0])),
                    attn.register_forward_hook(lambda m, a, o: record["attn"].append(o[0][0, -1])),
                    block.mlp.register_forward_hook(lambda m, a, o: record["mlp"].append(o[0, -1])),
                ]
        norm = self.decoder.norm
        captured = {}
        handles.append(norm.register_forward_pre_hook(lambda m, a: captured.update(pre=a[0])))
        try:
            out = self.decoder(
                inputs_embeds=embeds,
                attention_mask=torch.ones(embeds.shape[:2], dtype=torch.long),
                position_ids=positions,
                output_hidden_states=record is not None,
                output_attentions=record is not None,
                use_cache=False,
            )
        finally:
            for h in handles:
                h.remove()
        logits = self.lm_head(out.last_hidden_state[:, -1])
        return out, captured["pre"], logits

    @torch.no_grad()
    def run(self, ids: list[int], pixel_values: np.ndarray, top_heads: int, ablate: bool, baseline: str) -> dict:
        rows, image_id = [ids], self.runner.image_token_id
        positions = torch.from_numpy(self.runner.position_ids(rows, len(ids)))
        image = [i for i, t in enumerate(ids) if t == image_id]  # every visual token (a tiled image's base tile and newlines too)
        embeds = self.decoder.embed_tokens(torch.tensor(rows))
        embeds[0, image] = self.vision(torch.from_numpy(pixel_values))[0]
        visual = [image[i] for i in self.spec.patch_token_indices()]  # the grid patches, scored and ablated
        record = {"context": [], "values": [], "attn": [], "mlp": []}
        out, pre_norm, logits = self._forward(embeds, positions, record)
        target = int(logits[0].argmax())
        n, h, hd = len(self.decoder.layers), self.heads, self.head_dim

        # The frozen final norm at T: one scale for every vector.
        final = pre_norm[0, -1]
        norm = self.decoder.norm
        eps = float(getattr(norm, "variance_epsilon", getattr(norm, "eps", 1e-6)))
        scale = torch.rsqrt(final.pow(2).mean() + eps)

        def log_prob_phi(vectors: torch.Tensor) -> torch.Tensor:
            return _log_prob(self.lm_head(norm.weight * (vectors * scale)), target)

        residual_in = torch.stack([hs[0, -1] for hs in out.hidden_states[:n]])  # [N, D] entering block l
        base = log_prob_phi(residual_in)  # [N]
        w_o = torch.stack([b.self_attn.o_proj.weight.unflatten(1, (h, hd)) for b in self.decoder.layers])  # [N, D, H, hd]
        context = torch.stack(record["context"])  # [N, H, hd]
        head_out = torch.einsum("ldhk,lhk->lhd", w_o, context)  # [N, H, D]
        head_scores = log_prob_phi(residual_in[:, None] + head_out) - base[:, None]  # [N, H]
        attn_out, mlp_out = torch.stack(record["attn"]), torch.stack(record["mlp"])
        attn_scores = log_prob_phi(residual_in + attn_out) - base
        mid = residual_in + attn_out
        ffn_scores = log_prob_phi(mid + mlp_out) - log_prob_phi(mid)

        order = sorted(range(n * h), key=lambda i: (-float(head_scores.flatten()[i]), i))[:top_heads]
        chosen = [(i // h, i % h) for i in order]
        attentions = torch.stack([a[0, :, -1] for a in out.attentions])  # [N, H, S]
        position_scores = []
        for layer, head in chosen:
            v = record["values"][layer].unflatten(-1, (self.kv_heads, hd))[:, head // (h // self.kv_heads)]  # [S, hd]
            writes = attentions[layer, head][:, None] * (v @ w_o[layer, :, head].T)  # [S, D]
            position_scores.append((log_prob_phi(residual_in[layer] + writes) - base[layer]).tolist())

        result = {
            "target": target,
            "log_prob": float(_log_prob(logits[0], target)),
            "head_scores": head_scores.tolist(),
            "attention_scores": attn_scores.tolist(),
            "ffn_scores": ffn_scores.tolist(),
            "heads": [list(c) for c in chosen],
            "position_scores": position_scores,
            "visual_positions": visual,
            "mean_attention": attentions[:, :, visual].mean(dim=(0, 1)).tolist(),
        }
        if ablate:
            fill = embeds[0, visual].mean(0) if baseline == "mean" else torch.zeros(embeds.shape[-1])
            batch = embeds.repeat(len(visual), 1, 1)
            for row, p in enumerate(visual):
                batch[row, p] = fill
            _, _, ablated = self._forward(batch, positions.expand(*positions.shape[:-2], len(visual), -1), None)
            result["patch_drops"] = (result["log_prob"] - _log_prob(ablated, target)).tolist()
            drops = []
            for layer, head in chosen:
                self.silenced = (layer, head)
                try:
                    _, _, silenced = self._forward(embeds, positions, None)
                finally:
                    self.silenced = None
                drops.append(result["log_prob"] - float(_log_prob(silenced[0], target)))
            result["head_drops"] = drops
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vislens_export.attribution_reference", description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--hf", type=Path, required=True)
    parser.add_argument("--image", type=Path, required=True)
    parser.add_argument("--prompt", default="")
    parser.add_argument("--heads", type=int, default=10)
    parser.add_argument("--no-ablate", dest="ablate", action="store_false")
    parser.add_argument("--baseline", choices=("mean", "zero"), default="mean")
    parser.add_argument("--repeat", type=int, default=1, help="time the whole computation this many times")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    runner = BundleRunner(args.bundle)
    ckpt = read_checkpoint(args.hf, SUPPORTED)
    arch, model = ARCHS[ckpt.architecture], load_model(ckpt)
    attribution = TorchAttribution(arch, model, runner)
    times = []
    for _ in range(max(1, args.repeat)):
        # Timed from the image file to the result, as vislens's attributeAnswer is.
        start = time.perf_counter()
        ids = runner.input_ids(args.prompt)
        pixel_values = preprocess.load(args.image, runner.manifest["vision"]["preprocess"])
        result = attribution.run(ids, pixel_values, args.heads, args.ablate, args.baseline)
        times.append(time.perf_counter() - start)
    result["seconds"] = times
    args.out.write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
