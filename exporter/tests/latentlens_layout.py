"""The latentlens package's index writers and its search, reimplemented for tests (not imported by
vislens_export).

Behaviour reproduced from github.com/McGill-NLP/latentlens at commit 36de5cb (written anew here):

- ``build_index`` (latentlens/extract.py): texts in batches of 32, tokenised with
  ``tokenizer(batch, return_tensors="pt", truncation=True, max_length=512, padding=True)``; one
  forward with ``output_hidden_states=True``; for every sentence, positions 2 .. (valid length - 1):
  skip the occurrence if ``hash(tuple(ids[:pos + 1]))`` was seen, skip it if its token string
  (``tokenizer.decode([id])``, untrimmed) already has ``max_contexts_per_token`` (50) rows, else
  mark the prefix seen, count it, and append ``{"token_str", "token_id", "caption", "position"}``
  and ``hidden_states[layer][sent, pos]`` to every layer. Each layer's rows are stacked and
  ``F.normalize``d in float32.
- ``ContextualIndex.save`` (latentlens/index.py): ``metadata.json`` = ``json.dumps({"layers":
  sorted, "hidden_dim": D}, indent=2)``; ``layer_<N>/embeddings_cache.pt`` = ``torch.save({"embeddings":
  Tensor, "metadata": list})``.
- ``reproduce/scripts/extract_embeddings.py`` (the paper's pipeline, position filter off as for
  Visual Genome phrases): every valid position, a reservoir of ``max_captions_per_token`` rows per
  token string (Python ``random`` seeded with 42, one decision for all layers), rows stored in
  float16 (or float32), then ``build_cache_for_layer``: rows grouped by token string in
  first-seen order, converted back to float32, *not* normalised, saved with
  ``{"embeddings", "metadata", "token_to_indices"}``; a rich ``metadata.json``.
- ``ContextualIndex.search``: per contextual layer ``topk(query @ E.T, k)``, then the global top-k of
  the stacked candidates; rows are normalised on load (``from_directory``), queries must be.

``python -m tests.latentlens_layout fixture ...`` (cwd exporter/) builds the index of the shipped
fixture model for the TypeScript test, then searches it as latentlens does.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

Forward = Callable[[torch.Tensor, torch.Tensor], Sequence[torch.Tensor]]


def auto_layers(num_hidden_layers: int) -> list[int]:
    return sorted(
        {v for v in (1, 2, 4, 8, 16, 24) if v < num_hidden_layers} | {num_hidden_layers - 2, num_hidden_layers - 1}
    )


def build_package_index(
    tokenizer,
    forward: Forward,
    texts: list[str],
    layers: list[int],
    max_contexts_per_token: int = 50,
    batch_size: int = 32,
) -> dict[int, dict]:
    """{layer: {"embeddings": float32 [R, D] unit rows, "metadata": [...]}} as build_index makes it."""
    vectors: dict[int, list[torch.Tensor]] = defaultdict(list)
    metas: dict[int, list[dict]] = defaultdict(list)
    seen: set[int] = set()
    per_token: dict[str, int] = defaultdict(int)
    for b in range(0, len(texts), batch_size):
        batch = texts[b : b + batch_size]
        enc = tokenizer(batch, return_tensors="pt", truncation=True, max_length=512, padding=True)
        hidden = forward(enc["input_ids"], enc["attention_mask"])
        for s in range(enc["input_ids"].shape[0]):
            ids = enc["input_ids"][s]
            length = int(enc["attention_mask"][s].sum().item())
            for pos in range(2, length):
                key = hash(tuple(ids[: pos + 1].tolist()))
                if key in seen:
                    continue
                token_id = int(ids[pos].item())
                token_str = tokenizer.decode([token_id])
                if per_token[token_str] >= max_contexts_per_token:
                    continue
                seen.add(key)
                per_token[token_str] += 1
                meta = {"token_str": token_str, "token_id": token_id, "caption": batch[s], "position": pos}
                for layer in layers:
                    vectors[layer].append(hidden[layer][s, pos, :].cpu())
                    metas[layer].append(meta)
    return {
        layer: {"embeddings": F.normalize(torch.stack(vectors[layer]).float(), dim=-1), "metadata": metas[layer]}
        for layer in layers
        if vectors[layer]
    }


def save_package_index(path: Path, layers_data: dict[int, dict]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    layers = sorted(layers_data)
    dim = layers_data[layers[0]]["embeddings"].shape[1]
    (path / "metadata.json").write_text(json.dumps({"layers": layers, "hidden_dim": dim}, indent=2))
    for layer, data in layers_data.items():
        (path / f"layer_{layer}").mkdir(parents=True, exist_ok=True)
        torch.save(
            {"embeddings": data["embeddings"].cpu(), "metadata": data["metadata"]},
            path / f"layer_{layer}" / "embeddings_cache.pt",
        )


def build_research_index(
    path: Path,
    tokenizer,
    forward: Forward,
    texts: list[str],
    layers: list[int],
    model_name: str,
    max_captions_per_token: int = 20,
    embedding_dtype: str = "float16",
    seed: int = 42,
    batch_size: int = 64,
) -> None:
    """The paper's pipeline, position filter off: reservoir per token string, rows unnormalised."""
    random.seed(seed)
    storage = {"float16": np.float16, "float32": np.float32}[embedding_dtype]
    reservoirs: dict[str, list[dict]] = {}
    counts: dict[str, int] = defaultdict(int)
    for b in range(0, len(texts), batch_size):
        batch = texts[b : b + batch_size]
        enc = tokenizer(
            batch, return_tensors="pt", return_token_type_ids=False, truncation=True, max_length=512, padding=True
        )
        hidden = forward(enc["input_ids"], enc["attention_mask"])
        for s, caption in enumerate(batch):
            valid = torch.where(enc["attention_mask"][s] == 1)[0].numpy()
            token_ids = enc["input_ids"][s][valid]
            for pos_idx, token_pos in enumerate(valid):
                token_id = int(token_ids[pos_idx].item())
                token_str = tokenizer.decode([token_id])
                reservoir = reservoirs.setdefault(token_str, [])
                counts[token_str] += 1
                slot = None
                if len(reservoir) < max_captions_per_token:
                    slot = len(reservoir)
                else:
                    j = random.randint(0, counts[token_str] - 1)
                    if j < max_captions_per_token:
                        slot = j
                if slot is None:
                    continue
                entry = {
                    "caption": caption,
                    "position": pos_idx,
                    "token_id": token_id,
                    "vectors": {layer: hidden[layer][s, token_pos].numpy().astype(storage) for layer in layers},
                }
                if slot == len(reservoir):
                    reservoir.append(entry)
                else:
                    reservoir[slot] = entry
    meta = {
        "model_name": model_name,
        "layers_extracted": layers,
        "num_captions_processed": len(texts),
        "max_captions_per_token": max_captions_per_token,
        "total_unique_tokens_across_all_layers": len(reservoirs),
        "total_embeddings_across_all_layers": sum(map(len, reservoirs.values())) * len(layers),
        "embedding_dtype": embedding_dtype,
        "dataset": "vg",
        "position_filtering": {"enabled": False, "description": "All token positions are included (0, 1, 2, ...)"},
        "sampling_method": "Reservoir sampling to limit embeddings per token",
    }
    path.mkdir(parents=True, exist_ok=True)
    (path / "metadata.json").write_text(json.dumps(meta, indent=2))
    for layer in layers:
        rows, metadata, token_to_indices = [], [], defaultdict(list)
        for token_str, reservoir in reservoirs.items():
            for entry in reservoir:
                token_to_indices[token_str].append(len(metadata))
                rows.append(entry["vectors"][layer].astype(np.float32))
                metadata.append(
                    {
                        "token_str": token_str,
                        "token_id": entry["token_id"],
                        "caption": entry["caption"],
                        "position": entry["position"],
                    }
                )
        (path / f"layer_{layer}").mkdir(parents=True, exist_ok=True)
        cache = {
            "embeddings": torch.from_numpy(np.stack(rows)),
            "metadata": metadata,
            "token_to_indices": dict(token_to_indices),
        }
        torch.save(cache, path / f"layer_{layer}" / "embeddings_cache.pt")


def load_index(path: Path) -> dict[int, dict]:
    """As ContextualIndex.from_directory: every layer_* with a cache, rows normalised in float32."""
    out = {}
    for layer_dir in sorted(path.glob("layer_*")):
        cache_file = layer_dir / "embeddings_cache.pt"
        if cache_file.exists():
            cache = torch.load(cache_file, map_location="cpu", weights_only=False)
            out[int(layer_dir.name.split("_")[1])] = {
                "embeddings": F.normalize(cache["embeddings"].float(), dim=-1),
                "metadata": cache["metadata"],
            }
    return out


def search(layers_data: dict[int, dict], queries: torch.Tensor, top_k: int) -> list[list[dict]]:
    """ContextualIndex.search on normalised queries: per-layer top-k, then the merged top-k."""
    layers = sorted(layers_data)
    vals, idxs = [], []
    for layer in layers:
        sim = queries @ layers_data[layer]["embeddings"].T
        v, i = torch.topk(sim, k=min(top_k, sim.shape[1]), dim=-1)
        vals.append(v)
        idxs.append(i)
    all_vals, all_idxs = torch.stack(vals), torch.stack(idxs)  # [C, Q, k]
    k = all_vals.shape[2]
    out = []
    for q in range(queries.shape[0]):
        flat_vals, flat_idxs = all_vals[:, q, :].flatten(), all_idxs[:, q, :].flatten()
        top_vals, top_pos = torch.topk(flat_vals, k=min(top_k, flat_vals.shape[0]))
        out.append(
            [
                {"layer": layers[int(p) // k], "row": int(flat_idxs[p]), "similarity": float(v)}
                for v, p in zip(top_vals.tolist(), top_pos.tolist(), strict=True)
            ]
        )
    return out


# ── the shipped fixture: its HF checkpoint as latentlens would run it ──────────────────────────


def fixture_forward(hf_dir: Path) -> tuple[object, Forward]:
    """The fixture's tokenizer (transformers AutoTokenizer, as latentlens loads it) and a text-only
    forward of its LLM returning every hidden state (HF convention)."""
    from transformers import AutoTokenizer

    from vislens_export.archs import SUPPORTED
    from vislens_export.checkpoint import load_model, read_checkpoint

    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = load_model(read_checkpoint(hf_dir, SUPPORTED))

    def forward(input_ids, attention_mask):
        with torch.no_grad():
            return model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states

    return tokenizer, forward


def write_search_results(index_dir: Path, queries_file: Path, top_k: int, results_file: Path) -> None:
    """Loads the index as from_directory does, searches it as ContextualIndex.search does, and writes
    {"rows": {layer: rows}, "neighbours": [[{layer, row, similarity, token_id, caption, position}]]}."""
    index = load_index(index_dir)
    queries = F.normalize(torch.from_numpy(np.load(queries_file)).float(), dim=-1)
    results = search(index, queries, top_k)
    for neighbours in results:
        for n in neighbours:
            meta = index[n["layer"]]["metadata"][n["row"]]
            n.update(token_id=meta["token_id"], caption=meta["caption"], position=meta["position"])
    results_file.write_text(
        json.dumps({"rows": {str(k): len(v["metadata"]) for k, v in index.items()}, "neighbours": results})
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.latentlens_layout")
    sub = parser.add_subparsers(dest="command", required=True)
    fx = sub.add_parser(
        "fixture", help="build the index of the fixture model (package layout), as build_index + save would"
    )
    fx.add_argument("--hf", type=Path, required=True, help="the fixture's HF checkpoint")
    fx.add_argument("--corpus", type=Path, required=True)
    fx.add_argument("--sentences", type=int, default=100)
    fx.add_argument("--num-layers", type=int, required=True)
    fx.add_argument("--out", type=Path, required=True, help="index directory to write")
    fx.add_argument(
        "--queries",
        type=Path,
        help="then search the index with these float32 [Q, D] queries (waits up to 2 min for the file to appear)",
    )
    fx.add_argument("--top-k", type=int, default=5)
    fx.add_argument("--results", type=Path, help="where to write the search's neighbours (JSON)")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    lines = [line.strip() for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    tokenizer, forward = fixture_forward(args.hf)
    save_package_index(
        args.out, build_package_index(tokenizer, forward, lines[: args.sentences], auto_layers(args.num_layers))
    )
    if args.queries:
        deadline = time.monotonic() + 120
        while not args.queries.exists():  # the caller writes it (atomically) while the index is built
            if time.monotonic() > deadline:
                raise SystemExit(f"{args.queries}: did not appear within 2 minutes")
            time.sleep(0.05)
        write_search_results(args.out, args.queries, args.top_k, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
