"""Configs for tiny, random-weight instances of the three supported architectures.

Each builder returns everything a checkpoint directory needs besides the weights: the model config,
the tokenizer's special tokens (their ids are their positions in the list), and a
preprocessor_config.json shaped like the real checkpoint's, scaled down to a small image.
Sizes are chosen so that every export path is exercised (GQA, untied and tied embeddings, a
non-trivial merged grid) while a full build + export stays around a second.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from transformers import (
    CLIPVisionConfig,
    Gemma3Config,
    Gemma3TextConfig,
    Qwen2_5_VLConfig,
    SiglipVisionConfig,
    Idefics3Config,
    Idefics3VisionConfig,
    InternVLConfig,
    InternVLVisionConfig,
    LlavaOnevisionConfig,
    Qwen2Config,
    LlamaConfig,
    LlavaConfig,
    PretrainedConfig,
    Qwen2VLConfig,
)

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
PIL_BICUBIC, PIL_LANCZOS = 3, 1


# Weight init std ~ 1/sqrt(width) instead of HF's 0.02: activations then stay of order 1 through the
# layers, so a wrong position id or mask moves the outputs far beyond the 1e-4 parity tolerance.
TEXT_INIT, VISION_INIT = 0.125, 0.18


@dataclass
class TinySpec:
    model_class: str
    special_tokens: list[str]  # id = position in this list
    bos_token: str | None
    prepend_bos: bool  # the tokenizer's post-processor prepends bos_token, as Llama's does
    preprocessor_config: dict
    make_config: Callable[[int], PretrainedConfig]  # vocab_size -> config
    # Called on the freshly initialised model (under the build's seed) where HF initialises a part
    # to a constant that would hide it from parity tests (zeros, or norms at exactly 1).
    randomise: Callable[[torch.nn.Module], None] | None = None


def _text(vocab_size: int, tie: bool, **extra) -> dict:
    return dict(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,  # grouped-query attention, as in the real models
        max_position_embeddings=512,
        initializer_range=TEXT_INIT,
        tie_word_embeddings=tie,
        **extra,
    )


def llava() -> TinySpec:
    specials = ["<unk>", "<s>", "</s>", "<pad>", "<image>"]

    def make(vocab_size: int) -> PretrainedConfig:
        vision = CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
            projection_dim=32,
            initializer_range=VISION_INIT,
        )
        text = LlamaConfig(**_text(vocab_size, tie=False, bos_token_id=1, eos_token_id=2, pad_token_id=3))
        return LlavaConfig(
            vision_config=vision,
            text_config=text,
            image_token_index=specials.index("<image>"),
            image_seq_length=16,
            vision_feature_layer=-2,
            vision_feature_select_strategy="default",
            tie_word_embeddings=False,
        )

    # llava-hf/llava-1.5-7b-hf's CLIPImageProcessor, at 32 px instead of 336.
    pre = {
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor",
        "do_resize": True,
        "size": {"shortest_edge": 32},
        "resample": PIL_BICUBIC,
        "do_center_crop": True,
        "crop_size": {"height": 32, "width": 32},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
        "do_convert_rgb": True,
    }
    return TinySpec("LlavaForConditionalGeneration", specials, "<s>", True, pre, make)


def qwen2vl() -> TinySpec:
    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]

    def make(vocab_size: int) -> PretrainedConfig:
        vision = dict(
            depth=2,
            embed_dim=32,
            hidden_size=64,
            num_heads=2,
            mlp_ratio=2,
            patch_size=4,
            spatial_merge_size=2,
            temporal_patch_size=2,
            initializer_range=VISION_INIT,
        )
        # head_dim 16 -> 8 rotary frequencies, split over (temporal, height, width).
        text = _text(
            vocab_size,
            tie=True,
            bos_token_id=0,
            eos_token_id=2,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        )
        return Qwen2VLConfig(
            vision_config=vision,
            text_config=text,
            tie_word_embeddings=True,
            image_token_id=specials.index("<|image_pad|>"),
            video_token_id=specials.index("<|video_pad|>"),
            vision_start_token_id=specials.index("<|vision_start|>"),
            vision_end_token_id=specials.index("<|vision_end|>"),
        )

    # Qwen/Qwen2-VL-2B-Instruct's processor with a pixel budget that allows 32 x 32 .. 32 x 64.
    pre = {
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2VLProcessor",
        "min_pixels": 32 * 32,
        "max_pixels": 32 * 64,
        "patch_size": 4,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "resample": PIL_BICUBIC,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
        "do_convert_rgb": True,
    }
    return TinySpec("Qwen2VLForConditionalGeneration", specials, None, False, pre, make)


def qwen25vl() -> TinySpec:
    """Qwen2.5-VL: Qwen2-VL's layout with windowed vision attention (windows of 2 x 2 merged tokens,
    so a 32 x 48 image has 6 windows) and one full-attention block."""
    q = qwen2vl()

    def make(vocab_size: int) -> PretrainedConfig:
        base = q.make_config(vocab_size)
        vision = dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=64,
            patch_size=4,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=16,
            fullatt_block_indexes=[1],
            initializer_range=VISION_INIT,
        )
        return Qwen2_5_VLConfig(
            vision_config=vision,
            text_config=base.text_config.to_dict(),
            tie_word_embeddings=True,
            image_token_id=base.image_token_id,
            video_token_id=base.video_token_id,
            vision_start_token_id=base.vision_start_token_id,
            vision_end_token_id=base.vision_end_token_id,
        )

    return TinySpec("Qwen2_5_VLForConditionalGeneration", q.special_tokens, q.bos_token, q.prepend_bos, q.preprocessor_config, make)


def idefics3() -> TinySpec:
    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<end_of_utterance>",
        "<fake_token_around_image>",
        "<image>",
        "<global-img>",
    ]

    def make(vocab_size: int) -> PretrainedConfig:
        vision = Idefics3VisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=32,
            patch_size=4,
            initializer_range=VISION_INIT,
        )
        text = LlamaConfig(**_text(vocab_size, tie=True, bos_token_id=1, eos_token_id=2, pad_token_id=0))
        return Idefics3Config(
            vision_config=vision,
            text_config=text,
            image_token_id=specials.index("<image>"),
            scale_factor=2,
            tie_word_embeddings=True,
            pad_token_id=0,
        )

    # HuggingFaceTB/SmolVLM-256M-Instruct's Idefics3ImageProcessor, at 32 px instead of 512.
    pre = {
        "image_processor_type": "Idefics3ImageProcessor",
        "processor_class": "Idefics3Processor",
        "do_resize": True,
        "size": {"longest_edge": 128},
        "max_image_size": {"longest_edge": 32},
        "do_image_splitting": True,
        "resample": PIL_LANCZOS,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "do_pad": True,
        "do_convert_rgb": True,
    }
    return TinySpec("Idefics3ForConditionalGeneration", specials, "<|im_start|>", False, pre, make)


def internvl() -> TinySpec:
    """InternVL 3 (transformers' InternVLForConditionalGeneration): InternViT + pixel shuffle + MLP, a
    Qwen2 LM; 32 px in patches of 4 -> 8 x 8 patches -> 4 x 4 tokens."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<img>", "</img>", "<IMG_CONTEXT>"]

    def make(vocab_size: int) -> PretrainedConfig:
        vision = InternVLVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=[32, 32],
            patch_size=[4, 4],
            initializer_range=VISION_INIT,
        )
        text = Qwen2Config(**_text(vocab_size, tie=True, bos_token_id=0, eos_token_id=2))
        return InternVLConfig(
            vision_config=vision,
            text_config=text,
            image_token_id=specials.index("<IMG_CONTEXT>"),
            image_seq_length=16,
            downsample_ratio=0.5,
            vision_feature_layer=-1,
            vision_feature_select_strategy="default",
            tie_word_embeddings=True,
        )

    # OpenGVLab/InternVL3-1B-hf's GotOcr2ImageProcessor, at 32 px instead of 448, one tile.
    pre = {
        "image_processor_type": "GotOcr2ImageProcessor",
        "processor_class": "InternVLProcessor",
        "do_resize": True,
        "size": {"height": 32, "width": 32},
        "resample": PIL_BICUBIC,
        "crop_to_patches": False,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
        "do_convert_rgb": True,
    }
    return TinySpec("InternVLForConditionalGeneration", specials, None, False, pre, make)


def gemma3() -> TinySpec:
    """Gemma 3: SigLIP at 32 px in patches of 4 (8 x 8), average-pooled to 4 x 4 = 16 tokens; a Gemma 3
    LM with a sliding layer (window 8, shorter than the test sequences) and a full layer, q/k norms
    and sandwich norms, tied embeddings scaled by sqrt(hidden)."""
    specials = ["<pad>", "<eos>", "<bos>", "<start_of_image>", "<end_of_image>", "<image_soft_token>"]

    def make(vocab_size: int) -> PretrainedConfig:
        text = Gemma3TextConfig(
            vocab_size=vocab_size,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=16,
            query_pre_attn_scalar=16,
            sliding_window=8,
            layer_types=["sliding_attention", "full_attention"],
            max_position_embeddings=512,
            initializer_range=TEXT_INIT,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=2,
        )
        vision = SiglipVisionConfig(
            hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=4, initializer_range=VISION_INIT
        )
        return Gemma3Config(
            text_config=text,
            vision_config=vision,
            mm_tokens_per_image=16,
            image_token_index=specials.index("<image_soft_token>"),
            boi_token_index=specials.index("<start_of_image>"),
            eoi_token_index=specials.index("<end_of_image>"),
            tie_word_embeddings=True,
        )

    # google/gemma-3-4b-it's Gemma3ImageProcessor, at 32 px instead of 896, without pan-and-scan.
    pre = {
        "image_processor_type": "Gemma3ImageProcessor",
        "processor_class": "Gemma3Processor",
        "do_resize": True,
        "size": {"height": 32, "width": 32},
        "resample": 2,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "do_pan_and_scan": False,
        "do_convert_rgb": True,
    }

    def randomise(model: torch.nn.Module) -> None:
        # HF starts the projector at zero and every Gemma RMSNorm weight w at zero (a scale of
        # 1 + w = 1): random values make the visual tokens non-zero and the (1 + w) scaling visible.
        with torch.no_grad():
            proj = model.model.multi_modal_projector.mm_input_projection_weight
            proj.normal_(0.0, proj.shape[0] ** -0.5)
            for name, param in model.named_parameters():
                if name.endswith("norm.weight") and "vision_tower" not in name:
                    param.normal_(0.0, 0.2)

    return TinySpec("Gemma3ForConditionalGeneration", specials, "<bos>", True, pre, make, randomise)


def llava_onevision() -> TinySpec:
    """LLaVA-OneVision: SigLIP at 16 px in patches of 4 (4 x 4 tokens per tile), pinpoints up to 2 x 2
    tiles, a Qwen2 LM. At the default 32 x 32 pinpoint: 16 base-tile tokens, then an 8 x 8 tiled
    grid with a newline token after each row: 16 + 8 x 9 = 88 visual tokens."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]

    def make(vocab_size: int) -> PretrainedConfig:
        vision = SiglipVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=16,
            patch_size=4,
            vision_use_head=False,
            initializer_range=VISION_INIT,
        )
        text = Qwen2Config(**_text(vocab_size, tie=False, bos_token_id=0, eos_token_id=2))
        return LlavaOnevisionConfig(
            vision_config=vision,
            text_config=text,
            image_token_index=specials.index("<image>"),
            image_grid_pinpoints=[[16, 16], [16, 32], [32, 16], [32, 32], [32, 48]],
            vision_feature_select_strategy="full",
            vision_feature_layer=-1,
            vision_aspect_ratio="anyres_max_9",
            tie_word_embeddings=False,
        )

    # llava-hf/llava-onevision-qwen2-0.5b-ov-hf's LlavaOnevisionImageProcessor, at 16 px tiles instead of 384.
    pre = {
        "image_processor_type": "LlavaOnevisionImageProcessor",
        "processor_class": "LlavaOnevisionProcessor",
        "do_resize": True,
        "size": {"height": 16, "width": 16},
        "image_grid_pinpoints": [[16, 16], [16, 32], [32, 16], [32, 32], [32, 48]],
        "resample": PIL_BICUBIC,
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "do_pad": True,
        "do_convert_rgb": True,
    }

    def randomise(model: torch.nn.Module) -> None:
        # HF's init draws image_newline at 1/sqrt(hidden): keep it, but make sure it is not tiny.
        with torch.no_grad():
            model.model.image_newline.normal_(0.0, 1.0)

    return TinySpec("LlavaOnevisionForConditionalGeneration", specials, None, False, pre, make, randomise)


BUILDERS = {"llava": llava, "qwen2vl": qwen2vl, "qwen25vl": qwen25vl, "idefics3": idefics3, "internvl": internvl, "gemma3": gemma3, "onevision": llava_onevision}
