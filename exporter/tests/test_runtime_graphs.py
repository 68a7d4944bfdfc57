"""The model-independent graphs in graphs/: committed bytes are current, and they compute what they say."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from vislens_export.runtime_graphs import GRAPHS, GRAPHS_DIR, build_all


def test_committed_graphs_equal_a_fresh_build(tmp_path):
    build_all(tmp_path)
    for name in GRAPHS:
        assert (GRAPHS_DIR / name).read_bytes() == (tmp_path / name).read_bytes(), (
            f"graphs/{name} is stale: run python -m vislens_export.runtime_graphs"
        )


def test_unembed_gives_log_sum_exp_target_logits_and_top_k():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 24)).astype(np.float32)
    w = rng.standard_normal((300, 24)).astype(np.float32)
    target = rng.integers(0, 300, (7, 1))
    session = ort.InferenceSession(str(GRAPHS_DIR / "unembed.onnx"))
    lse, target_logit, top_logits, top_ids = session.run(None, {"x": x, "w": w, "k": np.array([4]), "target": target})
    logits = x.astype(np.float64) @ w.T.astype(np.float64)
    expected_lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    assert lse.dtype == np.float64
    # Only the float32 logits' own rounding remains (the sum is in float64).
    np.testing.assert_allclose(lse[:, 0], np.log(np.exp((x @ w.T).astype(np.float64)).sum(1)), atol=1e-9)
    np.testing.assert_allclose(lse[:, 0], expected_lse, atol=1e-4)
    np.testing.assert_allclose(target_logit, np.take_along_axis(logits, target, 1), atol=1e-4)
    np.testing.assert_array_equal(top_ids, np.argsort(-logits, 1)[:, :4])
    np.testing.assert_allclose(top_logits, -np.sort(-logits, 1)[:, :4], atol=1e-4)


def test_matmul_is_a_batched_product():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((3, 5, 8)).astype(np.float32), rng.standard_normal((3, 8, 6)).astype(np.float32)
    (c,) = ort.InferenceSession(str(GRAPHS_DIR / "matmul.onnx")).run(None, {"a": a, "b": b})
    np.testing.assert_allclose(c, a @ b, atol=1e-5)
