"""The LLaVA model of the world: assembled from the trained LM and vision tower, and saved as a Hugging Face
checkpoint the exporter reads (config + weights, tokenizer.json and its config, preprocessor_config.json,
vislens.json with the prompt template), as the shapes fixture's hf/ directory.

Preprocessing: images are image_size x image_size RGB (world images need no resizing), x/255, then
(x - 0.5)/0.5 per channel (vislens_fixture.recipe.pixels). Prompt: "{image}\\n{prompt}" after <s>; an empty
prompt asks for the caption, a question ("what is left of the dog ?") for its answer.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from vislens_fixture.recipe import MEAN, STD, TEMPLATE

from .model_spec import WorldModelSpec
from .tokenizer import IMAGE


def build_llava(lm, vis, spec: WorldModelSpec):
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    c = spec.connector
    cfg = LlavaConfig(vision_config=vis.config, text_config=lm.config, image_token_index=IMAGE,
                      vision_feature_layer=c.vision_feature_layer, vision_feature_select_strategy="default",
                      projector_hidden_act="gelu", multimodal_projector_bias=True,
                      image_seq_length=spec.grid * spec.grid, tie_word_embeddings=False)
    torch.manual_seed(c.seed)
    m = LlavaForConditionalGeneration(cfg)
    m.model.vision_tower.load_state_dict(vis.state_dict())
    m.model.language_model.load_state_dict(lm.model.state_dict())
    m.lm_head.load_state_dict(lm.lm_head.state_dict())
    m.eval()
    return m


def save_hf(llava, tok_file: Path, out: Path, spec: WorldModelSpec) -> Path:
    """Writes <out>/hf (through <out>/.hf.tmp and a rename, so a half-written checkpoint is never left)."""
    hf, tmp = Path(out) / "hf", Path(out) / ".hf.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    llava.save_pretrained(tmp)
    (tmp / "tokenizer.json").write_bytes(Path(tok_file).read_bytes())
    S = spec.image_size
    pre = {"image_processor_type": "CLIPImageProcessor", "do_convert_rgb": True,
           "do_resize": True, "size": {"height": S, "width": S}, "resample": 3, "do_center_crop": False,
           "crop_size": {"height": S, "width": S}, "do_rescale": True, "rescale_factor": 1 / 255,
           "do_normalize": True, "image_mean": MEAN, "image_std": STD}
    (tmp / "preprocessor_config.json").write_text(json.dumps(pre, indent=2) + "\n")
    tc = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
          "pad_token": "<pad>", "extra_special_tokens": {"image_token": "<image>"}, "add_bos_token": False,
          "model_max_length": 256}
    (tmp / "tokenizer_config.json").write_text(json.dumps(tc, indent=2) + "\n")
    (tmp / "vislens.json").write_text(json.dumps({"template": TEMPLATE, "add_bos": True}, indent=2) + "\n")
    for f in tmp.iterdir():
        f.chmod(0o644)
    if hf.exists():
        old = Path(out) / ".hf.old"
        if old.exists():
            shutil.rmtree(old)
        os.replace(hf, old)
        os.replace(tmp, hf)
        shutil.rmtree(old)
    else:
        os.replace(tmp, hf)
    return hf

