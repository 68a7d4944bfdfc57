"""Running a bundle from Python the way the vislens runtime does: from its files alone.

Used to check an export against the HF model and to produce reference outputs; it is also the
executable statement of the runtime-side conventions of docs/bundle-format.md (prompt expansion,
right padding, position ids, splicing visual tokens into the embeddings).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from .manifest import MANIFEST, lean_session_options


def mrope_position_ids(ids: list[int], image_token_id: int, grid: tuple[int, int]) -> np.ndarray:
    """[3, len(ids)] M-RoPE (temporal, height, width) ids for one unpadded row.

    Text advances all three by one per token. An image starting at position s puts visual token
    (row, col) at (s, s + row, s + col); the text after it resumes at s + max(rows, cols).
    """
    rows, cols = grid
    out = np.zeros((3, len(ids)), dtype=np.int64)
    i, pos = 0, 0
    while i < len(ids):
        if ids[i] == image_token_id:
            r, c = np.divmod(np.arange(rows * cols), cols)
            out[:, i : i + rows * cols] = np.stack([np.full_like(r, pos), pos + r, pos + c])
            i, pos = i + rows * cols, pos + max(rows, cols)
        else:
            out[:, i] = pos
            i, pos = i + 1, pos + 1
    return out


def prompt_ids(prompt_spec: dict, num_tokens: int, tokenizer: Tokenizer, prompt: str) -> list[int]:
    """BundleRunner.input_ids from the manifest's `prompt` and `vision.num_tokens` alone (usable
    before the bundle exists: the export check computes its HF reference first)."""
    p = prompt_spec
    before, after = (part.replace("{prompt}", prompt) for part in p["template"].split("{image}"))
    ids = [p["bos_token_id"]] if p["add_bos"] else []
    ids += tokenizer.encode(before, add_special_tokens=False).ids
    ids += [p["image_token_id"]] * num_tokens
    return ids + tokenizer.encode(after, add_special_tokens=False).ids


class BundleRunner:
    """The graphs open on first use (each session holds its own copy of the weights); `release`
    closes them, so that a check of a large bundle holds one graph at a time."""

    def __init__(self, bundle: str | Path, lean: bool = False):
        """lean: sessions without pre-packed weights or a memory arena (the export check of a large
        model holds about one copy of a graph's weights instead of two)."""
        self.dir, self.lean = Path(bundle), lean
        self.manifest = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(self.dir / "tokenizer.json"))
        self.weights = load_file(str(self.dir / "weights.safetensors"))
        self._sessions: dict[str, ort.InferenceSession] = {}

    def _session(self, key: str) -> ort.InferenceSession:
        if key not in self._sessions:
            graph = self.dir / self.manifest["onnx"][key]["file"]
            options = lean_session_options() if self.lean else None
            self._sessions[key] = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        return self._sessions[key]

    @property
    def vision(self) -> ort.InferenceSession:
        return self._session("vision")

    @property
    def llm(self) -> ort.InferenceSession:
        return self._session("llm")

    @property
    def attribution(self) -> ort.InferenceSession | None:
        """None for bundles exported without the attribution graph."""
        return self._session("attribution") if "attribution" in self.manifest["onnx"] else None

    def release(self, *keys: str) -> None:
        """Close the named graphs' sessions (all when none are named); they reopen on next use."""
        for key in keys or list(self._sessions):
            self._sessions.pop(key, None)

    @property
    def image_token_id(self) -> int:
        return self.manifest["prompt"]["image_token_id"]

    def input_ids(self, prompt: str) -> list[int]:
        """BOS if add_bos, then the template with {prompt} filled in and {image} as num_tokens image tokens.

        The text on either side of {image} is tokenized on its own, without special tokens: the
        same ids HF's processor gets, since its tokenizer splits around the added image token.
        """
        return prompt_ids(self.manifest["prompt"], self.manifest["vision"]["num_tokens"], self.tokenizer, prompt)

    def visual_tokens(self, pixel_values: np.ndarray) -> np.ndarray:
        """[T, D] from pixel_values [1, 3, H, W]."""
        return self.vision.run(None, {"pixel_values": pixel_values.astype(np.float32)})[0][0]

    def position_ids(self, rows: list[list[int]], seq: int) -> np.ndarray:
        """[B, S] holding s everywhere, or M-RoPE [3, B, S] with 0 at padding (masked, never attended to)."""
        rope = self.manifest["llm"]["rope"]
        if rope["type"] == "default":
            return np.tile(np.arange(seq, dtype=np.int64), (len(rows), 1))
        out = np.zeros((3, len(rows), seq), dtype=np.int64)
        for b, ids in enumerate(rows):
            out[:, b, : len(ids)] = mrope_position_ids(ids, self.image_token_id, self.manifest["vision"]["grid"])
        return out

    def embed(self, rows: list[list[int]], pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """inputs_embeds [B, S, D] (visual tokens spliced in) and attention_mask [B, S] of right-padded rows."""
        seq = max(len(r) for r in rows)
        embedding = self.weights[self.manifest["llm"].get("embedding", "embed_tokens")]
        visual = self.visual_tokens(pixel_values)
        embeds = np.zeros((len(rows), seq, embedding.shape[1]), dtype=np.float32)
        mask = np.zeros((len(rows), seq), dtype=np.int64)
        for b, ids in enumerate(rows):
            ids_arr = np.asarray(ids)
            embeds[b, : len(ids)] = embedding[ids_arr] * np.float32(self.manifest["llm"].get("embedding_scale", 1.0))
            embeds[b, np.flatnonzero(ids_arr == self.image_token_id)] = visual
            mask[b, : len(ids)] = 1
        return embeds, mask

    def run(self, rows: list[list[int]], pixel_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """hidden_states [N+1, B, S, D] and logits [B, S, V] for right-padded rows sharing one image."""
        hidden, logits = self.llm.run(None, self.llm_feeds(rows, pixel_values))
        return hidden, logits

    def llm_feeds(self, rows: list[list[int]], pixel_values: np.ndarray) -> dict:
        """llm.onnx's inputs for right-padded rows sharing one image (token_type_ids where the graph takes them)."""
        embeds, mask = self.embed(rows, pixel_values)
        seq = embeds.shape[1]
        feeds = {"inputs_embeds": embeds, "attention_mask": mask, "position_ids": self.position_ids(rows, seq)}
        if "token_type_ids" in self.manifest["onnx"]["llm"]["inputs"]:
            # 1 at visual tokens (Gemma 3 attends bidirectionally within an image), 0 elsewhere and at padding.
            feeds["token_type_ids"] = np.zeros((len(rows), seq), dtype=np.int64)
            for b, ids in enumerate(rows):
                feeds["token_type_ids"][b, : len(ids)] = np.asarray(ids) == self.image_token_id
        return feeds

    def attribute(self, ids: list[int], pixel_values: np.ndarray, head_mask: np.ndarray | None = None) -> dict:
        """attribution.onnx on one unpadded row: its outputs by name (docs/bundle-format.md), at the last position."""
        if self.attribution is None:
            raise ValueError(f"{self.dir}: the bundle has no attribution graph (exported with --no-attribution)")
        embeds, mask = self.embed([ids], pixel_values)
        attention = self.manifest["llm"]["attention"]
        if head_mask is None:
            head_mask = np.ones((1, self.manifest["llm"]["num_layers"], attention["num_heads"]), np.float32)
        feeds = {
            "inputs_embeds": embeds,
            "attention_mask": mask,
            "position_ids": self.position_ids([ids], len(ids)),
            "head_mask": head_mask.astype(np.float32),
        }
        names = [o.name for o in self.attribution.get_outputs()]
        return dict(zip(names, self.attribution.run(None, feeds)))

    def head_writes(self, out: dict, positions=None) -> np.ndarray:
        """[N, H, S, D]: head h's write a_{T,j} W_O^h v_j into the residual at T, per source position j (row 0);
        `positions` picks the j (default all)."""
        attention = self.manifest["llm"]["attention"]
        heads, group, hd = attention["num_heads"], attention["num_heads"] // attention["num_kv_heads"], attention["head_dim"]
        j = slice(None) if positions is None else np.asarray(positions)
        layers = []
        for layer, name in enumerate(attention["o_proj"]):
            w_o = self.weights[name]  # [D, H * hd]
            per_head = [
                out["attn_weights_last"][layer, 0, h][j, None]
                * (out["values"][layer, 0, h // group][j] @ w_o[:, h * hd : (h + 1) * hd].T)
                for h in range(heads)
            ]
            layers.append(np.stack(per_head))
        return np.stack(layers)
