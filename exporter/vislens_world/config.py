"""WorldConfig: the knobs of scene generation (image size, object count and size, spacing)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class WorldConfig:
    image_size: int = 96  # square RGB images, in px
    patch: int = 8  # patch size of the default annotation grid (image_size // patch per side)
    min_objects: int = 1
    max_objects: int = 4
    min_extent: float = 0.26  # drawn sprite side, as a fraction of image_size
    max_extent: float = 0.46
    big_from: float = 0.36  # extent from which an object is "big" rather than "small"
    max_overlap: float = 0.05  # boxes may share at most this fraction of the smaller box's area
    min_separation: float = 0.08  # centres of any two objects differ by this much (x axis, and |dx| vs |dy|)
    patch_threshold: float = 0.25  # a patch belongs to the object covering most of it, if at least this much
    noise: float = 4.0  # std of the Gaussian pixel noise added to the whole image
    placement_tries: int = 200

    def __post_init__(self):
        def bad(field, value, why):
            raise ValueError(f"WorldConfig.{field} = {value!r}: {why}")

        if not 16 <= self.image_size <= 1024:
            bad("image_size", self.image_size, "expected 16..1024")
        if self.patch < 1 or self.image_size % self.patch:
            bad("patch", self.patch, f"expected a divisor of image_size {self.image_size}")
        if not 1 <= self.min_objects <= self.max_objects <= 6:
            bad("max_objects", self.max_objects, f"expected 1 <= min_objects ({self.min_objects}) <= max_objects <= 6")
        if not 0.05 <= self.min_extent <= self.max_extent <= 0.9:
            bad("max_extent", self.max_extent, f"expected 0.05 <= min_extent ({self.min_extent}) <= max_extent <= 0.9")
        if not 0 <= self.max_overlap < 1:
            bad("max_overlap", self.max_overlap, "expected 0 <= value < 1")
        if not 0 < self.patch_threshold <= 1:
            bad("patch_threshold", self.patch_threshold, "expected 0 < value <= 1")

    @property
    def grid(self) -> int:
        return self.image_size // self.patch

    def to_json(self) -> dict:
        return asdict(self)
