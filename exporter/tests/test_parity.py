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
    positions = np.arange(len(ids))[None]
    wrong = (
        np.broadcast_to(positions, (3, 1, len(ids)))
        if runner.manifest["llm"]["rope"]["type"] == "mrope"
        else 2 * positions
    )
    feeds = {**runner.llm_feeds([ids], pixel_values), "position_ids": np.ascontiguousarray(wrong, dtype=np.int64)}
    hidden, _ = runner.llm.run(None, feeds)
    assert np.abs(hidden[-1] - ref.hidden_states[-1]).max() > 100 * TOL


def test_gemma3_image_block_and_embedding_scale_matter(models, image_file):
    """Gemma 3's two departures from a plain causal LM are exercised: without token_type_ids the
    image's tokens cannot see later image tokens, and without the embedding scale the text rows
    are sqrt(hidden) too small; either moves the outputs far beyond the parity tolerance."""
    runner, pixel_values, ids = _inputs(models, "gemma3", image_file)
    ref = _hf(models, "gemma3", runner, pixel_values, [ids])
    feeds = runner.llm_feeds([ids], pixel_values)
    image = np.asarray(ids) == runner.image_token_id
    assert feeds["token_type_ids"][0].tolist() == image.astype(int).tolist()
    hidden, _ = runner.llm.run(None, feeds)
    assert np.abs(hidden[-1] - ref.hidden_states[-1]).max() < TOL
    # The tiny model's window (8) is shorter than the sequence: the sliding layer is really sliding.
    assert runner.llm.get_inputs()[3].name == "token_type_ids" and len(ids) > 2 * 8
    causal, _ = runner.llm.run(None, {**feeds, "token_type_ids": np.zeros_like(feeds["token_type_ids"])})
    first_image = int(np.flatnonzero(image)[0])
    assert np.abs(causal[1, 0, first_image] - ref.hidden_states[1][0, first_image]).max() > 100 * TOL
    unscaled = feeds["inputs_embeds"].copy()
    unscaled[0, ~image] /= runner.manifest["llm"]["embedding_scale"]
    assert runner.manifest["llm"]["embedding_scale"] == 8.0  # sqrt(64)
    plain, _ = runner.llm.run(None, {**feeds, "inputs_embeds": unscaled})
    assert np.abs(plain[-1] - ref.hidden_states[-1]).max() > 100 * TOL


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


def test_onevision_token_layout_is_base_tile_then_tiled_rows_with_newlines(models, image_file):
    """The layout the manifest records, checked against the HF tower run on each tile alone: the base
    tile's 4 x 4 tokens first, then the 8 x 12 grid of the 2 x 3 tiles row by row, each row closed by
    the learned image_newline."""
    import torch

    runner, pixel_values, _ = _inputs(models, "onevision", image_file)
    model = models.model("onevision")
    v = runner.manifest["vision"]
    (rows, cols), (base_rows, base_cols) = v["grid"], v["layout"]["base_grid"]
    tokens = runner.visual_tokens(pixel_values)
    assert tokens.shape[0] == v["num_tokens"] == base_rows * base_cols + rows * (cols + 1)
    with torch.no_grad():
        # vision_feature_layer -1: the last block's output (before SigLIP's post-layernorm)
        features = model.model.vision_tower(torch.from_numpy(pixel_values), output_hidden_states=True).hidden_states[-1]
        per_tile = model.model.multi_modal_projector(features).numpy()  # [1 + tiles, 16, D]: tile 0 is the base
    np.testing.assert_allclose(tokens[: base_rows * base_cols], per_tile[0], atol=TOL)
    grid = tokens[base_rows * base_cols :].reshape(rows, cols + 1, -1)
    newline = model.model.image_newline.detach().numpy()
    np.testing.assert_allclose(grid[:, cols], np.broadcast_to(newline, grid[:, cols].shape), atol=0)
    tile_rows, tile_cols = v["preprocess"]["tiles"]["grid"]
    per_side = rows // tile_rows
    for t in range(tile_rows * tile_cols):
        r0, c0 = (t // tile_cols) * per_side, (t % tile_cols) * per_side
        block = grid[r0 : r0 + per_side, c0 : c0 + per_side].reshape(per_side * per_side, -1)
        np.testing.assert_allclose(block, per_tile[1 + t], atol=TOL, err_msg=f"tile {t}")
