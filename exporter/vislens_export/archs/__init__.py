"""The supported architectures, by Hugging Face class name."""

from __future__ import annotations

from .base import Arch, VisionSpec
from .gemma3 import Gemma3
from .idefics3 import Idefics3
from .internvl import InternVL
from .llava import Llava
from .llava_onevision import LlavaOnevision
from .qwen2vl import Qwen2VL
from .qwen25vl import Qwen25VL

ARCHS: dict[str, Arch] = {a.architecture: a for a in (Llava(), Qwen2VL(), Qwen25VL(), Idefics3(), InternVL(), Gemma3(), LlavaOnevision())}
SUPPORTED = tuple(ARCHS)

__all__ = ["ARCHS", "SUPPORTED", "Arch", "VisionSpec"]
