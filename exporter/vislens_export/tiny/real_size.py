"""Random-weight instances of the supported architectures at real, published sizes, for benchmarks.

The tiny builders (models.py) make ~2 M-parameter models for tests; these make models of the sizes
researchers use, from the published configs, offline: the weights are random (HF's own init), the
tokenizer is the tiny byte-level BPE (its ids are a subset of the published vocabulary), and the
preprocessor matches the real checkpoint's at the real image size. Nothing is downloaded.

  smolvlm-256m  Idefics3: SigLIP-B/16 at 512 px (12 layers, 768 wide), pixel shuffle x4 -> 64 tokens,
                SmolLM2-135M-sized Llama (30 layers, 576 wide, 9 heads / 3 KV heads, vocab 49,280)
  llava-1b      LLaVA: CLIP ViT-L/14 at 336 px (24 layers, 1024 wide) -> 576 tokens, TinyLlama-1.1B-sized
                Llama (22 layers, 2048 wide, 32 heads / 4 KV heads, vocab 32,000)
"""

from __future__ import annotations

from transformers import CLIPVisionConfig, Idefics3Config, Idefics3VisionConfig, LlamaConfig, LlavaConfig, PretrainedConfig

from .models import CLIP_MEAN, CLIP_STD, PIL_BICUBIC, PIL_LANCZOS, TinySpec, idefics3, llava


def smolvlm_256m() -> TinySpec:
    tiny = idefics3()

    def make(_vocab: int) -> PretrainedConfig:
        # HuggingFaceTB/SmolVLM-256M-Instruct's published config (text: SmolLM2-135M).
        vision = Idefics3VisionConfig(
            hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12, image_size=512, patch_size=16
        )
        text = LlamaConfig(
            vocab_size=49280,
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            max_position_embeddings=8192,
            rope_theta=100000.0,
            rms_norm_eps=1e-5,
            tie_word_embeddings=True,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=0,
        )
        return Idefics3Config(
            vision_config=vision,
            text_config=text,
            image_token_id=tiny.special_tokens.index("<image>"),
            scale_factor=4,
            tie_word_embeddings=True,
            pad_token_id=0,
        )

    pre = {**tiny.preprocessor_config, "size": {"longest_edge": 2048}, "max_image_size": {"longest_edge": 512}, "resample": PIL_LANCZOS}
    return TinySpec(tiny.model_class, tiny.special_tokens, tiny.bos_token, tiny.prepend_bos, pre, make)


def llava_1b() -> TinySpec:
    tiny = llava()

    def make(_vocab: int) -> PretrainedConfig:
        # llava-1.5's CLIP ViT-L/14-336 tower with a TinyLlama-1.1B-sized LM.
        vision = CLIPVisionConfig(
            hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16, image_size=336, patch_size=14, projection_dim=768
        )
        text = LlamaConfig(
            vocab_size=32000,
            hidden_size=2048,
            intermediate_size=5632,
            num_hidden_layers=22,
            num_attention_heads=32,
            num_key_value_heads=4,
            max_position_embeddings=2048,
            rms_norm_eps=1e-5,
            tie_word_embeddings=False,
            bos_token_id=1,
            eos_token_id=2,
            pad_token_id=3,
        )
        return LlavaConfig(
            vision_config=vision,
            text_config=text,
            image_token_index=tiny.special_tokens.index("<image>"),
            image_seq_length=576,
            vision_feature_layer=-2,
            vision_feature_select_strategy="default",
            tie_word_embeddings=False,
        )

    pre = {
        **tiny.preprocessor_config,
        "size": {"shortest_edge": 336},
        "crop_size": {"height": 336, "width": 336},
        "resample": PIL_BICUBIC,
        "image_mean": CLIP_MEAN,
        "image_std": CLIP_STD,
    }
    return TinySpec(tiny.model_class, tiny.special_tokens, tiny.bos_token, tiny.prepend_bos, pre, make)


REAL_SIZE = {"smolvlm-256m": smolvlm_256m, "llava-1b": llava_1b}
