"""Reading the image-processor fields that all architectures share from preprocessor_config.json."""

from __future__ import annotations

from ..errors import ExportError

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
HALF = [0.5, 0.5, 0.5]

# PIL's integer resample codes as stored in preprocessor_config.json. The bundle format knows three
# filters; the others are mapped to the closest one the runtime can apply, and the export says so.
_PIL_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}
_PIL_APPROX = {1: "lanczos", 4: "box", 5: "hamming"}


class ProcessorFields:
    """Field reader over an optional preprocessor_config.json that records what it approximated."""

    def __init__(self, pre: dict | None):
        self.pre = pre or {}
        self.source = "preprocessor_config.json" if pre is not None else "architecture defaults"
        self.notes: list[str] = []

    def get(self, key: str, default):
        return self.pre.get(key, default)

    def resample(self, default: int) -> str:
        code = self.pre.get("resample", default)
        if code in _PIL_RESAMPLE:
            return _PIL_RESAMPLE[code]
        if code in _PIL_APPROX:
            self.notes.append(f"resample {_PIL_APPROX[code]} ({code}) approximated by bicubic")
            return "bicubic"
        raise ExportError(f'preprocessor_config.json: field "resample" is {code!r}; expected a PIL filter code 0..5')

    def normalisation(self, mean: list[float], std: list[float]) -> dict:
        """rescale_factor, mean and std; do_rescale/do_normalize false become the identity."""
        rescale = self.pre.get("rescale_factor", 1 / 255) if self.pre.get("do_rescale", True) else 1.0
        if self.pre.get("do_normalize", True):
            mean, std = self.pre.get("image_mean", mean), self.pre.get("image_std", std)
        else:
            mean, std = [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
        return {"rescale_factor": float(rescale), "mean": [float(x) for x in mean], "std": [float(x) for x in std]}

    def exact_resize(self, size, resample: int, mean: list[float], std: list[float]) -> dict:
        """vision.preprocess for a processor that resizes every image exactly to `size` [H, W] and
        normalises it (no padding or crop); `resample`, `mean` and `std` are the defaults."""
        return {
            "pad_to_square": None,
            "resize": {"mode": "exact", "height": int(size[0]), "width": int(size[1])},
            "resample": self.resample(default=resample),
            "center_crop": None,
            "pad_to": None,
            **self.normalisation(mean, std),
        }

    def describe(self) -> str:
        return "; ".join([self.source, *self.notes])

    def require(self, condition: bool, field: str, value, expected: str) -> None:
        if not condition:
            raise ExportError(f'preprocessor_config.json: field "{field}" is {value!r}; {expected}')
