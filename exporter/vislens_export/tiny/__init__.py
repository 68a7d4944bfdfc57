"""Tiny random-weight checkpoints of the supported architectures, built offline (see `build`)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import transformers

from ..archs import ARCHS
from .models import BUILDERS
from .real_size import REAL_SIZE
from .tokenizer import train_bpe

ARCHES = tuple(BUILDERS)  # the tiny test models; REAL_SIZE holds random models at published sizes
# Those whose bundles have an attribution graph (an Arch with an attribution_note gets none).
ATTRIBUTION_ARCHES = tuple(a for a in ARCHES if ARCHS[BUILDERS[a]().model_class].attribution_note is None)


def build(arch: str, out_dir: str | Path, seed: int = 0) -> Path:
    """Write a loadable HF checkpoint directory: config, safetensors weights, tokenizer, preprocessor."""
    builders = {**BUILDERS, **REAL_SIZE}
    if arch not in builders:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(builders)}")
    spec = builders[arch]()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    tokenizer = train_bpe(spec.special_tokens, spec.bos_token if spec.prepend_bos else None)
    config = spec.make_config(tokenizer.get_vocab_size())
    torch.manual_seed(seed)
    model = getattr(transformers, spec.model_class)(config).eval()
    if spec.randomise is not None:
        spec.randomise(model)
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(out)

    tokenizer.save(str(out / "tokenizer.json"))
    tokenizer_config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512}
    if spec.bos_token is not None:
        tokenizer_config["bos_token"] = spec.bos_token
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2) + "\n")
    (out / "preprocessor_config.json").write_text(json.dumps(spec.preprocessor_config, indent=2) + "\n")
    return out
