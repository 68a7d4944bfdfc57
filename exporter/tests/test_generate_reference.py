"""Greedy reference captions (vislens_export.generate_reference) on the tiny LLaVA checkpoint."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from vislens_export import preprocess
from vislens_export.archs import ARCHS, VisionSpec
from vislens_export.errors import ExportError
from vislens_export.generate_reference import main, write_greedy_reference
from vislens_export.runtime import BundleRunner


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    rng = np.random.default_rng(3)
    d = tmp_path_factory.mktemp("images")
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)).save(d / f"{i}.png")
    return d


def _argmax_loop(models, bundle, image, steps: int) -> list[int]:
    """Greedy decoding by hand: full forward of the HF model at every step, no cache, no generate()."""
    runner = BundleRunner(bundle)
    v = runner.manifest["vision"]
    spec = VisionSpec.from_manifest(v)
    model, arch = models.model("llava"), ARCHS["LlavaForConditionalGeneration"]
    pixels = torch.from_numpy(preprocess.load(image, v["preprocess"]))
    ids = runner.input_ids("a")
    new: list[int] = []
    with torch.no_grad():
        for _ in range(steps):
            x = torch.tensor([ids + new])
            logits = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False, **arch.hf_inputs(model, spec, pixels, x)).logits
            new.append(int(logits[0, -1].argmax()))
    return new


def test_reference_equals_a_hand_written_greedy_loop(models, images, tmp_path):
    bundle = models.bundle("llava")
    out = tmp_path / "sub" / "greedy.json"
    result = write_greedy_reference(bundle, models.hf_dir("llava"), sorted(images.iterdir()), "a", 6, out)
    assert json.loads(out.read_text()) == result
    assert result["prompt_ids"] == BundleRunner(bundle).input_ids("a")
    assert result["eos_token_ids"] == [2]  # from the tiny checkpoint's generation_config.json
    # paths relative to the JSON file's directory
    assert [(out.parent / r["file"]).resolve() for r in result["images"]] == [(images / f"{i}.png").resolve() for i in range(3)]
    for i, r in enumerate(result["images"]):
        expected = _argmax_loop(models, bundle, images / f"{i}.png", 6)
        if 2 in expected:  # the random model may emit its EOS: generation stops there
            expected = expected[: expected.index(2) + 1]
        assert r["ids"] == expected
        assert r["stop"] == ("eos" if expected[-1] == 2 else "max-new-tokens")
        text_ids = r["ids"][:-1] if r["stop"] == "eos" else r["ids"]
        assert r["text"] == BundleRunner(bundle).tokenizer.decode(text_ids, skip_special_tokens=False)


def test_generation_stops_at_the_manifests_eos_ids(models, images, tmp_path):
    bundle = shutil.copytree(models.bundle("llava"), tmp_path / "bundle", ignore=shutil.ignore_patterns("hf"))
    first = write_greedy_reference(bundle, models.hf_dir("llava"), [images / "0.png"], "a", 5, tmp_path / "a.json")
    ids = first["images"][0]["ids"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["prompt"]["eos_token_ids"] = [ids[1]]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    stopped = write_greedy_reference(bundle, models.hf_dir("llava"), [images / "0.png"], "a", 5, tmp_path / "b.json")
    cut = ids.index(ids[1]) + 1
    assert stopped["images"][0] == {**first["images"][0], "ids": ids[:cut], "stop": "eos", "text": stopped["images"][0]["text"]}
    del manifest["prompt"]["eos_token_ids"]  # an old bundle: only the length limit stops generation
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    unlimited = write_greedy_reference(bundle, models.hf_dir("llava"), [images / "0.png"], "a", 5, tmp_path / "c.json")
    assert unlimited["eos_token_ids"] == [] and len(unlimited["images"][0]["ids"]) == 5
    assert unlimited["images"][0]["stop"] == "max-new-tokens"


def test_bad_arguments_exit_1_naming_the_problem(models, images, tmp_path, capsys):
    bundle = models.bundle("llava")
    hf = models.hf_dir("llava")
    assert main([str(bundle), "--hf", str(hf), "--images", str(tmp_path / "nope"), "--out", str(tmp_path / "x.json")]) == 1
    assert "nope: no such image file or directory" in capsys.readouterr().err
    with pytest.raises(ExportError, match="--max-new-tokens must be at least 1, got 0"):
        write_greedy_reference(bundle, hf, [images / "0.png"], "", 0, tmp_path / "x.json")
    with pytest.raises(ExportError, match="is a Qwen2VLForConditionalGeneration, the bundle a LlavaForConditionalGeneration"):
        write_greedy_reference(bundle, models.hf_dir("qwen2vl"), [images / "0.png"], "", 2, tmp_path / "x.json")
