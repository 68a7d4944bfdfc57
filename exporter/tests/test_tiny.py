"""Tiny checkpoints: real architectures, real BPE tokenizers, consistent ids, deterministic weights."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer
from transformers import AutoConfig

from vislens_export.tiny import ARCHES, build
from vislens_export.tiny.__main__ import main

IMAGE_TOKEN = {"llava": "<image>", "qwen2vl": "<|image_pad|>", "qwen25vl": "<|image_pad|>", "idefics3": "<image>", "internvl": "<IMG_CONTEXT>", "gemma3": "<image_soft_token>", "onevision": "<image>"}
CLASS = {
    "llava": "LlavaForConditionalGeneration",
    "qwen2vl": "Qwen2VLForConditionalGeneration",
    "qwen25vl": "Qwen2_5_VLForConditionalGeneration",
    "idefics3": "Idefics3ForConditionalGeneration",
    "internvl": "InternVLForConditionalGeneration",
    "gemma3": "Gemma3ForConditionalGeneration",
    "onevision": "LlavaOnevisionForConditionalGeneration",
}


@pytest.mark.parametrize("arch", ARCHES)
def test_checkpoint_is_consistent(models, arch):
    hf = models.hf_dir(arch)
    config = AutoConfig.from_pretrained(hf)
    tokenizer_json = json.loads((hf / "tokenizer.json").read_text())
    tokenizer = Tokenizer.from_file(str(hf / "tokenizer.json"))

    assert config.architectures == [CLASS[arch]]
    # The TypeScript tokenizer library reads BPE but not WordLevel.
    assert tokenizer_json["model"]["type"] == "BPE" and tokenizer_json["pre_tokenizer"]["type"] == "ByteLevel"
    assert tokenizer.id_to_token(config.image_token_id) == IMAGE_TOKEN[arch]
    assert config.get_text_config().vocab_size == tokenizer.get_vocab_size()
    assert 2 <= config.get_text_config().num_hidden_layers <= 3
    preprocessor = json.loads((hf / "preprocessor_config.json").read_text())
    assert preprocessor["image_processor_type"].endswith("ImageProcessor")
    # Words of the built-in corpus are single tokens; special tokens are never split.
    assert len(tokenizer.encode(" circle", add_special_tokens=False).ids) == 1
    assert tokenizer.encode(f"a{IMAGE_TOKEN[arch]}b", add_special_tokens=False).ids[1] == config.image_token_id


def test_seed_determines_the_weights(tmp_path):
    a, b, c = (build("llava", tmp_path / name, seed=seed) for name, seed in (("a", 0), ("b", 0), ("c", 1)))
    weights = [(d / "model.safetensors").read_bytes() for d in (a, b, c)]
    assert weights[0] == weights[1] != weights[2]
    assert (a / "tokenizer.json").read_bytes() == (c / "tokenizer.json").read_bytes()


def test_command_line(tmp_path, capsys):
    assert main(["idefics3", str(tmp_path / "tiny"), "--seed", "3"]) == 0
    assert (tmp_path / "tiny" / "config.json").is_file()
    with pytest.raises(SystemExit):
        main(["gpt2", str(tmp_path / "other")])
