"""ONNX Runtime (bundle files only) against the HF torch model, for every architecture and layer."""

from __future__ import annotations

import numpy as np
import pytest

from vislens_export.archs import ARCHS
from vislens_export.hf_run import hf_forward
from vislens_export.tiny import ARCHES

from .helpers import bundle_inputs, spec_of, write_test_image

TOL = 1e-4  # fp32, absolute
PROMPT = "a red circle above a blue square"


@pytest.fixture(scope="module")
def image_file(tmp_path_factory):
    return write_test_image(tmp_path_factory.mktemp("img") / "test.png")


def _inputs(models, arch, image_file):
    return bundle_inputs(models, arch, image_file, PROMPT)


def _hf(models, arch, runner, pixel_values, rows):
    m = runner.manifest
    return hf_forward(ARCHS[m["architecture"]], models.model(arch), spec_of(m), pixel_values, rows)


@pytest.mark.parametrize("arch", ARCHES)
def test_every_layer_and_logits_match_hf(models, arch, image_file):
    runner, pixel_values, ids = _inputs(models, arch, image_file)
    llm = runner.manifest["llm"]
    ref = _hf(models, arch, runner, pixel_values, [ids])
    hidden, logits = runner.run([ids], pixel_values)

    assert hidden.shape == (llm["num_layers"] + 1, 1, len(ids), llm["hidden_size"])
    assert logits.shape == (1, len(ids), llm["vocab_size"])
    assert ids.count(runner.image_token_id) == runner.manifest["vision"]["num_tokens"]
    assert np.abs(runner.visual_tokens(pixel_values) - ref.visual_tokens).max() < TOL
    for layer in range(llm["num_layers"] + 1):
        diff = np.abs(hidden[layer] - ref.hidden_states[layer]).max()
        assert diff < TOL, f"layer {layer}: max |ONNX - HF| = {diff}"
    assert np.abs(logits - ref.logits).max() < TOL
    # The tolerance means something only if the states are not tiny.
    assert np.abs(ref.hidden_states[-1]).max() > 0.5


@pytest.mark.parametrize("arch", ARCHES)
def test_wrong_position_ids_break_parity(models, arch, image_file):
    """The parity test can fail: positions a careless runtime might use move the outputs far off.

    Plain text positions instead of M-RoPE for Qwen2-VL; for the others a changed spacing (a
    constant shift would not do: RoPE sees only relative positions).
    """
    runner, pixel_values, ids = _inputs(models, arch, image_file)
    ref = _hf(models, arch, runner, pixel_values, [ids])
    embedding = runner.weights[runner.manifest["llm"]["embedding"]]
    embeds = embedding[np.asarray(ids)][None].astype(np.float32)
    embeds[0, np.asarray(ids) == runner.image_token_id] = runner.visual_tokens(pixel_values)
    positions = np.arange(len(ids))[None]
    wrong = (
        np.broadcast_to(positions, (3, 1, len(ids)))
        if runner.manifest["llm"]["rope"]["type"] == "mrope"
        else 2 * positions
    )
    inputs = {"inputs_embeds": embeds, "attention_mask": np.ones((1, len(ids)), np.int64)}
    hidden, _ = runner.llm.run(None, {**inputs, "position_ids": np.ascontiguousarray(wrong, dtype=np.int64)})
    assert np.abs(hidden[-1] - ref.hidden_states[-1]).max() > 100 * TOL


@pytest.mark.parametrize("arch", ARCHES)
def test_right_padded_batch_equals_unpadded_rows(models, arch, image_file):
    runner, pixel_values, _ = _inputs(models, arch, image_file)
    rows = [runner.input_ids("a red circle"), runner.input_ids("What is in the image? Describe the picture.")]
    assert len(rows[0]) < len(rows[1])
    hidden, logits = runner.run(rows, pixel_values)
    for b, row in enumerate(rows):
        alone_hidden, alone_logits = runner.run([row], pixel_values)
        assert np.abs(hidden[:, b, : len(row)] - alone_hidden[:, 0]).max() < 1e-5
        assert np.abs(logits[b, : len(row)] - alone_logits[0]).max() < 1e-5
