"""Reference outputs: files, formats and values that the TypeScript tests read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vislens_export import preprocess
from vislens_export.reference import main
from vislens_export.runtime import BundleRunner
from vislens_export.tiny import build

from .helpers import write_test_image

PROMPT = "describe the image"


@pytest.fixture(scope="module")
def reference(models, tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    image = write_test_image(root / "shapes.png")  # outside the output directory: it gets copied
    bundle = models.bundle("qwen2vl")
    out = root / "out"
    assert (
        main(
            [
                str(bundle),
                "--hf",
                str(models.hf_dir("qwen2vl")),
                "--image",
                str(image),
                "--prompt",
                PROMPT,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return bundle, image, out


def _load(path):
    with open(path, "rb") as f:
        assert np.lib.format.read_magic(f) == (1, 0)
    array = np.load(path)
    assert array.dtype.str == "<f4"
    return array


def test_reference_files_agree_with_the_bundle(reference):
    bundle, image, out = reference
    runner = BundleRunner(bundle)
    m = runner.manifest
    ids = json.loads((out / "input_ids.json").read_text())
    meta = json.loads((out / "meta.json").read_text())
    pixel_values = _load(out / "pixel_values.npy")
    visual, hidden, logits_last = (
        _load(out / f) for f in ("visual_tokens.npy", "hidden_states.npy", "logits_last.npy")
    )

    assert ids == runner.input_ids(PROMPT)
    np.testing.assert_array_equal(pixel_values, preprocess.load(image, m["vision"]["preprocess"]))
    assert visual.shape == (m["vision"]["num_tokens"], m["llm"]["hidden_size"])
    assert hidden.shape == (m["llm"]["num_layers"] + 1, len(ids), m["llm"]["hidden_size"])
    assert logits_last.shape == (m["llm"]["vocab_size"],)
    assert meta["image"] == "shapes.png" and meta["prompt"] == PROMPT
    assert (out / "shapes.png").read_bytes() == image.read_bytes()
    assert meta["image_token_positions"] == [i for i, t in enumerate(ids) if t == m["prompt"]["image_token_id"]]
    assert all(d < 1e-4 for d in meta["max_abs_diff_vs_onnx"].values())

    # The HF numbers agree with the bundle run independently here.
    onnx_hidden, onnx_logits = runner.run([ids], pixel_values)
    assert np.abs(onnx_hidden[:, 0] - hidden).max() < 1e-4
    assert np.abs(onnx_logits[0, -1] - logits_last).max() < 1e-4
    assert np.abs(runner.visual_tokens(pixel_values) - visual).max() < 1e-4


def test_reference_refuses_other_weights(models, reference, tmp_path, capsys):
    bundle, image, _ = reference
    other = build("qwen2vl", tmp_path / "other", seed=1)
    args = [str(bundle), "--image", str(image), "--prompt", PROMPT, "--out", str(tmp_path / "out")]
    assert main([*args, "--hf", str(other)]) == 1
    assert "checkpoint_sha256" in capsys.readouterr().err
    assert main([*args, "--hf", str(models.hf_dir("llava"))]) == 1
    assert "LlavaForConditionalGeneration" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
