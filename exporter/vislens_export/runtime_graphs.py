"""Model-independent ONNX graphs that the TypeScript runtime runs on its own data (graphs/ at the repo root).

python -m vislens_export.runtime_graphs [<out-dir>]   (default: the repository's graphs/)

unembed.onnx turns many vectors into next-token statistics in one GEMM, so that no caller loops over
vocabulary x width in JavaScript. The unembedding matrix is an input, not a weight: one file serves
every bundle, old ones included.

  inputs   x        float32 [n, D]   vectors, already through the (frozen) final norm
           w        float32 [V, D]   the unembedding
           k        int64   [1]      how many top tokens to return (1 <= k <= V)
           target   int64   [n, 1]   one token id per row whose logit to return
  outputs  lse      float64 [n, 1]   log Σ_v exp(logit_v), summed in float64: log softmax[t] = logit_t - lse
           target_logit float32 [n, 1]
           top_logits   float32 [n, k]   the k largest logits, largest first
           top_ids      int64   [n, k]

matmul.onnx is a batched matrix product, for the per-head projections of answer attribution:

  inputs   a   float32 [b, m, k]
           b   float32 [b, k, n]
  outputs  c   float32 [b, m, n]

The files are committed; tests check that they equal what this module builds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import onnx
from onnx import TensorProto, helper

OPSET = 18
GRAPHS_DIR = Path(__file__).resolve().parents[2] / "graphs"


def unembed_model() -> onnx.ModelProto:
    f32, i64 = TensorProto.FLOAT, TensorProto.INT64
    nodes = [
        helper.make_node("Gemm", ["x", "w"], ["logits"], transB=1),
        helper.make_node("Constant", [], ["axes"], value=helper.make_tensor("axes", i64, [1], [1])),
        # The log-sum-exp in float64: a float32 sum over a large vocabulary drifts by ~1e-6, which
        # shows in probabilities near 1.
        helper.make_node("Cast", ["logits"], ["logits64"], to=TensorProto.DOUBLE),
        helper.make_node("ReduceLogSumExp", ["logits64", "axes"], ["lse"], keepdims=1),
        helper.make_node("GatherElements", ["logits", "target"], ["target_logit"], axis=1),
        helper.make_node("TopK", ["logits", "k"], ["top_logits", "top_ids"], axis=1, largest=1, sorted=1),
    ]
    graph = helper.make_graph(
        nodes,
        "vislens_unembed",
        [
            helper.make_tensor_value_info("x", f32, ["n", "d"]),
            helper.make_tensor_value_info("w", f32, ["v", "d"]),
            helper.make_tensor_value_info("k", i64, [1]),
            helper.make_tensor_value_info("target", i64, ["n", 1]),
        ],
        [
            helper.make_tensor_value_info("lse", TensorProto.DOUBLE, ["n", 1]),
            helper.make_tensor_value_info("target_logit", f32, ["n", 1]),
            helper.make_tensor_value_info("top_logits", f32, ["n", "k_out"]),
            helper.make_tensor_value_info("top_ids", i64, ["n", "k_out"]),
        ],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vislens_export.runtime_graphs"
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def matmul_model() -> onnx.ModelProto:
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "vislens_matmul",
        [
            helper.make_tensor_value_info("a", f32, ["batch", "m", "k"]),
            helper.make_tensor_value_info("b", f32, ["batch", "k", "n"]),
        ],
        [helper.make_tensor_value_info("c", f32, ["batch", "m", "n"])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vislens_export.runtime_graphs"
    )
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


GRAPHS = {"unembed.onnx": unembed_model, "matmul.onnx": matmul_model}


def build_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in GRAPHS.items():
        path = out / name
        path.write_bytes(make().SerializeToString(deterministic=True))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in build_all(Path(sys.argv[1]) if len(sys.argv) > 1 else GRAPHS_DIR):
        print(f"wrote {p} ({p.stat().st_size} bytes)")
