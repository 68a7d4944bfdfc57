"""The manifest's prompt: vislens.json override, chat templates of the real checkpoints, defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from vislens_export.archs import ARCHS, SUPPORTED
from vislens_export.checkpoint import read_checkpoint
from vislens_export.errors import ExportError
from vislens_export.prompt import resolve_prompt

DATA = Path(__file__).parent / "data"
# Chat templates as the public checkpoints ship them.
LLAVA_CHAT = (DATA / "llava-1.5.jinja").read_text()  # llava-hf/llava-1.5-7b-hf
QWEN2VL_CHAT = (DATA / "qwen2-vl.jinja").read_text()  # Qwen/Qwen2-VL-2B-Instruct
SMOLVLM_CHAT = (DATA / "smolvlm.jinja").read_text()  # HuggingFaceTB/SmolVLM-256M-Instruct


def _resolve(hf: Path) -> dict:
    ckpt = read_checkpoint(hf, SUPPORTED)
    config = json.loads((hf / "config.json").read_text())
    image_id = config.get("image_token_id", config.get("image_token_index"))
    return resolve_prompt(ckpt, ARCHS[ckpt.architecture], Tokenizer.from_file(str(hf / "tokenizer.json")), image_id)


def _copy(models, arch, tmp_path) -> Path:
    return Path(shutil.copytree(models.hf_dir(arch), tmp_path / arch))


@pytest.mark.parametrize(
    "arch, chat, template, add_bos",
    [
        ("llava", LLAVA_CHAT, "USER: {image}\n{prompt} ASSISTANT:", True),  # BOS from the tokenizer's post-processor
        (
            "qwen2vl",
            QWEN2VL_CHAT,
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
            "<|vision_start|>{image}<|vision_end|>{prompt}<|im_end|>\n<|im_start|>assistant\n",
            False,
        ),
        # SmolVLM's template starts with its BOS text: it becomes add_bos.
        (
            "idefics3",
            SMOLVLM_CHAT,
            "User:<fake_token_around_image><global-img>{image}<fake_token_around_image>"
            "{prompt}<end_of_utterance>\nAssistant:",
            True,
        ),
    ],
)
def test_chat_template_becomes_the_prompt_template(models, tmp_path, arch, chat, template, add_bos):
    hf = _copy(models, arch, tmp_path)
    (hf / "chat_template.jinja").write_text(chat)
    prompt, source = _resolve(hf)
    assert source == "chat template"
    assert prompt["template"] == template and prompt["add_bos"] is add_bos


def test_chat_template_in_tokenizer_config(models, tmp_path):
    hf = _copy(models, "llava", tmp_path)
    config = json.loads((hf / "tokenizer_config.json").read_text())
    (hf / "tokenizer_config.json").write_text(json.dumps({**config, "chat_template": LLAVA_CHAT}))
    assert _resolve(hf)[0]["template"] == "USER: {image}\n{prompt} ASSISTANT:"


def test_vislens_json_overrides_chat_template_and_bos(models, tmp_path):
    hf = _copy(models, "llava", tmp_path)
    (hf / "chat_template.jinja").write_text(LLAVA_CHAT)
    (hf / "vislens.json").write_text(json.dumps({"template": "{image}\n{prompt}", "add_bos": False}))
    prompt, source = _resolve(hf)
    assert source == "vislens.json"
    assert prompt == {
        "template": "{image}\n{prompt}",
        "image_token": "<image>",
        "image_token_id": 4,
        "add_bos": False,
        "bos_token_id": 1,
        "eos_token_ids": [2],
    }


@pytest.mark.parametrize(
    "arch, image_token, add_bos",
    [("llava", "<image>", True), ("qwen2vl", "<|image_pad|>", False), ("idefics3", "<image>", False)],
)
def test_defaults_without_chat_template(models, arch, image_token, add_bos):
    prompt, source = _resolve(models.hf_dir(arch))
    assert source.endswith("default")
    assert prompt["image_token"] == image_token and prompt["add_bos"] is add_bos


def test_chat_template_without_an_image_slot_is_rejected(models, tmp_path):
    hf = _copy(models, "llava", tmp_path)
    (hf / "chat_template.jinja").write_text("{% for m in messages %}{{ m['role'] }}{% endfor %}")
    with pytest.raises(ExportError, match="chat template: expected one '<image>'"):
        _resolve(hf)


def test_eos_ids_come_from_generation_config_then_config(models, tmp_path):
    hf = _copy(models, "llava", tmp_path)
    gen = json.loads((hf / "generation_config.json").read_text())
    (hf / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": [2, 0, 2]}))
    assert _resolve(hf)[0]["eos_token_ids"] == [2, 0]  # a list, duplicates dropped, order kept
    (hf / "generation_config.json").unlink()
    assert _resolve(hf)[0]["eos_token_ids"] == [2]  # text_config.eos_token_id
    config = json.loads((hf / "config.json").read_text())
    del config["text_config"]["eos_token_id"]
    (hf / "config.json").write_text(json.dumps(config))
    assert "eos_token_ids" not in _resolve(hf)[0]  # none named: generation stops at its length limit


def test_eos_id_outside_the_tokenizer_is_rejected(models, tmp_path):
    hf = _copy(models, "llava", tmp_path)
    gen = json.loads((hf / "generation_config.json").read_text())
    (hf / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": 99999}))
    with pytest.raises(ExportError, match='generation_config.json: field "eos_token_id" names token id 99999'):
        _resolve(hf)
    (hf / "generation_config.json").write_text(json.dumps({**gen, "eos_token_id": "</s>"}))
    with pytest.raises(ExportError, match="expected a token id or a list of them"):
        _resolve(hf)
