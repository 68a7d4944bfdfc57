"""What the world model's recipe trains: the sizes, steps and seeds of every stage, as plain dataclasses.

The LM, vision and connector specs are the shapes fixture recipe's (vislens_fixture.recipe), so its
training loop, stage caching (a stage's directory is keyed by a hash of its spec) and resumable
checkpoints apply unchanged. The full sizes were chosen to fit about 2 hours on 2 cores (see
models/objects-llava/README.md, "Wall time"); quick() keeps every stage but makes each a few steps of a
tiny model, for the smoke test.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from vislens_fixture.recipe import ConnectorSpec, LMSpec, VisionSpec

from .config import WorldConfig
from .seeds import CORPUS_N, EVAL_N


@dataclass
class TokenizerSpec:
    vocab_size: int = 4000  # BPE stops near 3,700: every vocabulary word is one token


@dataclass
class PoolSpec:
    """Scenes rendered once (stream stage 5 of imageset.training_scenes) for the vision tower and connector."""
    scenes: int = 20000
    shift: int = 4  # vision training shifts each image by up to this many px (edge-padded); captions stay true


@dataclass
class WorldModelSpec:
    name: str = "objects-llava"
    image_size: int = 96
    patch: int = 12  # 8 x 8 = 64 visual tokens
    corpus_n: int = CORPUS_N  # distinct sentences drawn before the held-out split
    n_eval: int = EVAL_N
    qa_frac: float = 0.3  # of the LM's markup documents: a question and its answer instead of the caption
    check_scenes: int = 100  # new scenes for the LM's markup -> caption check (reported only)
    retrieval_scenes: int = 256  # new scenes for the tower's image -> caption retrieval@1 (reported only)
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    pool: PoolSpec = field(default_factory=PoolSpec)
    lm: LMSpec = field(default_factory=lambda: LMSpec(hidden=256, layers=8, heads=8, intermediate=1024, seed=0,
                                                      steps=1500, batch=32, seq=96, lr=1e-3, markup_frac=0.5))
    # vision.kind: "contrastive+patchcls" (default) or "contrastive" (train_vision.KINDS)
    vision: VisionSpec = field(default_factory=lambda: VisionSpec(kind="contrastive+patchcls", hidden=192, layers=6, heads=3,
                                                                  intermediate=768, seed=0, steps=1200, batch=128,
                                                                  lr=1e-3))
    connector: ConnectorSpec = field(default_factory=lambda: ConnectorSpec(seed=0, n_images=20000, steps=1000,
                                                                           batch=32, lr=2e-3,
                                                                           vision_feature_layer=-2))

    def world(self) -> WorldConfig:
        return WorldConfig(image_size=self.image_size, patch=self.patch)

    @property
    def grid(self) -> int:
        return self.image_size // self.patch

    def to_json(self) -> dict:
        return asdict(self)


def quick(spec: WorldModelSpec | None = None) -> WorldModelSpec:
    """Every stage, a few steps each, on tiny models and data (the smoke test; well under 2 minutes)."""
    s = spec or WorldModelSpec()
    return replace(
        s, corpus_n=1500, n_eval=6, check_scenes=4, retrieval_scenes=8,
        tokenizer=TokenizerSpec(vocab_size=1200),
        pool=PoolSpec(scenes=48, shift=s.pool.shift),
        lm=replace(s.lm, hidden=64, layers=2, heads=2, intermediate=128, steps=3, batch=8),
        vision=replace(s.vision, hidden=64, layers=2, heads=2, intermediate=128, steps=3, batch=8),
        connector=replace(s.connector, n_images=48, steps=3, batch=8),
    )
