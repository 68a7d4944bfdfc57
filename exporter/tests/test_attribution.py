"""attribution.onnx against the HF model in eager mode: every output, the head writes and the head mask."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vislens_export.__main__ import main
from vislens_export.archs import ARCHS
from vislens_export.hf_run import hf_attribution
from vislens_export.manifest import validate_bundle
from vislens_export.runtime import BundleRunner
from vislens_export.tiny import ATTRIBUTION_ARCHES

from .helpers import bundle_inputs, spec_of, write_test_image

TOL = 1e-4  # fp32, absolute
PROMPT = "a red circle above a blue"


@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    return write_test_image(tmp_path_factory.mktemp("img") / "test.png")


def _setup(models, arch, image_file):
    runner, pixel_values, ids = bundle_inputs(models, arch, image_file, PROMPT)
    m = runner.manifest
    ref = hf_attribution(ARCHS[m["architecture"]], models.model(arch), spec_of(m), pixel_values, ids)
    return runner, pixel_values, ids, ref


@pytest.mark.parametrize("arch", ATTRIBUTION_ARCHES)
def test_outputs_and_head_writes_match_hf_eager(models, arch, image_file):
    runner, pixel_values, ids, ref = _setup(models, arch, image_file)
    m = runner.manifest
    att = m["llm"]["attention"]
    n, heads, kv = m["llm"]["num_layers"], att["num_heads"], att["num_kv_heads"]
    assert kv < heads, "the tiny models use grouped-query attention, so the head -> kv-head map is exercised"
    out = runner.attribute(ids, pixel_values)
    assert out["attn_weights_last"].shape == (n, 1, heads, len(ids))
    assert out["values"].shape == (n, 1, kv, len(ids), att["head_dim"])
    np.testing.assert_allclose(out["attn_weights_last"][:, 0], ref.attn_weights_last, atol=TOL, rtol=0)
    np.testing.assert_allclose(out["values"][:, 0], ref.values, atol=TOL, rtol=0)
    np.testing.assert_allclose(out["attn_output_last"][:, 0], ref.attn_output_last, atol=TOL, rtol=0)
    np.testing.assert_allclose(out["mlp_output_last"][:, 0], ref.mlp_output_last, atol=TOL, rtol=0)
    np.testing.assert_allclose(out["logits_last"][0], ref.logits_last, atol=TOL, rtol=0)
    writes = runner.head_writes(out)
    assert writes.shape == (n, heads, len(ids), m["llm"]["hidden_size"])
    diff = np.abs(writes - ref.head_writes).max()
    assert diff < TOL, f"head writes: max |ONNX - torch| = {diff}"
    assert np.abs(ref.head_writes).max() > 0.05, "the tolerance means something only if the writes are not tiny"
    # The plain LLM graph and the attribution graph agree on the hidden states.
    hidden, _ = runner.run([ids], pixel_values)
    np.testing.assert_allclose(out["hidden_states"], hidden, atol=1e-5, rtol=0)


@pytest.mark.parametrize("arch", ATTRIBUTION_ARCHES)
def test_the_writes_add_up_to_the_residual_stream(models, arch, image_file):
    """Σ_j writes = the head's output (HF's o_proj input, projected); Σ_h outputs = attention output;
    residual in + attention + FFN = residual out, all at the last position."""
    runner, pixel_values, ids, ref = _setup(models, arch, image_file)
    m = runner.manifest
    att = m["llm"]["attention"]
    out = runner.attribute(ids, pixel_values)
    writes = runner.head_writes(out)
    hidden = out["hidden_states"][:, 0, -1]  # [N+1, D]
    for layer, name in enumerate(att["o_proj"]):
        w_o = runner.weights[name].reshape(m["llm"]["hidden_size"], att["num_heads"], att["head_dim"])
        head_out = np.einsum("dhk,hk->hd", w_o, ref.head_inputs_last[layer])
        np.testing.assert_allclose(writes[layer].sum(axis=1), head_out, atol=TOL, rtol=0)
        np.testing.assert_allclose(head_out.sum(axis=0), out["attn_output_last"][layer, 0], atol=TOL, rtol=0)
        step = out["attn_output_last"][layer, 0] + out["mlp_output_last"][layer, 0]
        np.testing.assert_allclose(hidden[layer] + step, hidden[layer + 1], atol=TOL, rtol=0)


@pytest.mark.parametrize("arch", ATTRIBUTION_ARCHES)
def test_head_mask_silences_exactly_one_head(models, arch, image_file):
    runner, pixel_values, ids, _ = _setup(models, arch, image_file)
    m = runner.manifest
    n, heads = m["llm"]["num_layers"], m["llm"]["attention"]["num_heads"]
    full = runner.attribute(ids, pixel_values)
    writes = runner.head_writes(full)
    layer, head = n - 1, heads - 1
    mask = np.ones((1, n, heads), np.float32)
    mask[0, layer, head] = 0
    masked = runner.attribute(ids, pixel_values, mask)
    expected = full["attn_output_last"][layer, 0] - writes[layer, head].sum(axis=0)
    np.testing.assert_allclose(masked["attn_output_last"][layer, 0], expected, atol=TOL, rtol=0)
    np.testing.assert_allclose(masked["hidden_states"][:layer + 1], full["hidden_states"][:layer + 1], atol=1e-6)
    assert np.abs(masked["logits_last"] - full["logits_last"]).max() > 1e-3, "masking a head changed nothing"
    silent = runner.attribute(ids, pixel_values, np.zeros((1, n, heads), np.float32))
    assert np.abs(silent["attn_output_last"]).max() < 1e-6  # no output-projection bias in these models


def test_a_bundle_without_attribution_says_so(models, tmp_path):
    out = tmp_path / "plain"
    assert main([str(models.hf_dir("llava")), str(out), "--no-check", "--no-attribution"]) == 0
    validate_bundle(out)
    m = json.loads((out / "manifest.json").read_text())
    assert "attribution" not in m["onnx"] and "attention" not in m["llm"]
    assert not (out / "attribution.onnx").exists()
    with pytest.raises(ValueError, match="no attribution graph"):
        BundleRunner(out).attribute([1, 2, 3], np.zeros((1, 3, 32, 32), np.float32))
