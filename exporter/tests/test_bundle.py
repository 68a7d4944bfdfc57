"""What an exported bundle holds: schema-valid manifest, checksums, graph signatures, lens weights."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

from vislens_export import preprocess
from vislens_export.manifest import file_entry, validate_bundle
from vislens_export.runtime import BundleRunner
from vislens_export.tiny import ARCHES, ATTRIBUTION_ARCHES

from .helpers import write_test_image

EXPECTED = {
    # arch: (grid, tied embeddings, template)
    "llava": ([4, 4], False, "USER: {image}\n{prompt} ASSISTANT:"),
    "qwen2vl": ([4, 6], True, "<|vision_start|>{image}<|vision_end|>{prompt}"),
    "qwen25vl": ([4, 6], True, "<|vision_start|>{image}<|vision_end|>{prompt}"),
    "internvl": ([4, 4], True, "<img>{image}</img>\n{prompt}"),
    "onevision": ([8, 12], False, "{image}\n{prompt}"),
    "gemma3": ([4, 4], True, "\n\n<start_of_image>{image}<end_of_image>\n\n{prompt}"),
    "idefics3": ([4, 4], True, "<fake_token_around_image><global-img>{image}<fake_token_around_image>{prompt}"),
}


def _manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


@pytest.mark.parametrize("arch", ARCHES)
def test_manifest_is_valid_and_describes_the_files(models, arch):
    bundle = models.bundle(arch)
    validate_bundle(bundle)  # schema, checksums, weights header, graph names
    m = _manifest(bundle)
    graphs = {"vision.onnx", "llm.onnx", *(["attribution.onnx"] if arch in ATTRIBUTION_ARCHES else [])}
    assert set(m["files"]) == {*graphs, "weights.safetensors", "tokenizer.json"}
    # A family without an attribution graph says why, where `vislens info` and the errors read it.
    assert ("attribution" in m["source"]) == (arch not in ATTRIBUTION_ARCHES)
    for name, entry in m["files"].items():
        assert entry == file_entry(bundle / name)
    assert (bundle / "tokenizer.json").read_bytes() == (models.hf_dir(arch) / "tokenizer.json").read_bytes()
    assert not list(bundle.parent.glob(".*partial")), "temporary build directories were left behind"
    hf = models.hf_dir(arch).resolve()
    assert (hf / "config.json").is_file()  # LLaVA's lives inside the bundle directory, and stays
    assert m["source"]["checkpoint"] == ("hf" if hf.parent == bundle.resolve() else str(hf))

    grid, tied, template = EXPECTED[arch]
    assert m["vision"]["grid"] == grid
    if "layout" in m["vision"]:  # OneVision: a 4 x 4 base tile, then 8 rows of 12 tokens and a newline
        assert m["vision"]["layout"] == {"base_grid": [4, 4], "newline": True}
        assert m["vision"]["num_tokens"] == 16 + grid[0] * (grid[1] + 1) == 120
        assert m["onnx"]["vision"]["inputs"]["pixel_values"] == [7, 3, 16, 16]
    else:
        assert m["vision"]["num_tokens"] == grid[0] * grid[1]
    assert m["prompt"]["template"] == template
    assert (m["llm"]["unembedding"] == m["llm"]["embedding"]) == tied
    assert ("lm_head" in m["weights"]) != tied  # tied matrices are stored once
    assert all(d < 1e-4 for d in m["source"]["check"]["max_abs_diff"].values())


@pytest.mark.parametrize("arch", ARCHES)
def test_graph_signatures_match_the_manifest(models, arch):
    bundle = models.bundle(arch)
    m = _manifest(bundle)
    for key in ("vision", "llm", "attribution")[: 3 if arch in ATTRIBUTION_ARCHES else 2]:
        session = ort.InferenceSession(str(bundle / m["onnx"][key]["file"]))
        for kind, args in (("inputs", session.get_inputs()), ("outputs", session.get_outputs())):
            assert {a.name: a.shape for a in args} == m["onnx"][key][kind]
    pos = m["onnx"]["llm"]["inputs"]["position_ids"]
    assert pos == ([3, "batch", "seq"] if arch in ("qwen2vl", "qwen25vl") else ["batch", "seq"])


@pytest.mark.parametrize("arch", ARCHES)
def test_lens_weights_reproduce_the_logits(models, arch, tmp_path):
    """LogitLens from weights.safetensors alone: unembedding(final_norm(hidden_states[N])) == logits."""
    runner = BundleRunner(models.bundle(arch))
    llm = runner.manifest["llm"]
    pixel_values = preprocess.load(write_test_image(tmp_path / "i.png"), runner.manifest["vision"]["preprocess"])
    hidden, logits = runner.run([runner.input_ids("a blue square")], pixel_values)

    norm = llm["final_norm"]
    assert norm["type"] == "rmsnorm"
    h = hidden[-1].astype(np.float32)
    normed = h / np.sqrt((h * h).mean(-1, keepdims=True) + norm["eps"]) * runner.weights[norm["weight"]]
    lens_logits = normed @ runner.weights[llm["unembedding"]].T
    assert np.abs(lens_logits - logits).max() < 1e-4
    # ... and hidden_states[N] really is pre-norm: the norm is not the identity on it.
    assert np.abs(normed - h).max() > 1e-2
