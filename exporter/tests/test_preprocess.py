"""vision.preprocess in Python against transformers' own image processors, and the steps they lack."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil

from vislens_export import preprocess
from vislens_export.archs import ARCHS, VisionSpec
from vislens_export.archs.imageproc import CLIP_MEAN, CLIP_STD
from vislens_export.checkpoint import read_checkpoint
from vislens_export.errors import ExportError

PIL_CODES = {"nearest": 0, "bilinear": 2, "bicubic": 3}
LLAVA_PRE = {
    "pad_to_square": None,
    "resize": {"mode": "shortest_edge", "size": 32},
    "resample": "bicubic",
    "center_crop": [32, 32],
    "pad_to": None,
    "rescale_factor": 1 / 255,
    "mean": CLIP_MEAN,
    "std": CLIP_STD,
}
HF_KW = {
    "size": {"shortest_edge": 32},
    "crop_size": {"height": 32, "width": 32},
    "resample": 3,
    "image_mean": CLIP_MEAN,
    "image_std": CLIP_STD,
}


@pytest.fixture(params=[(70, 50), (45, 81)], ids=["wide", "tall"])
def rgb_image(request):
    rng = np.random.default_rng(sum(request.param))
    w, h = request.param
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _hf(processor, image):
    return processor(image, return_tensors="np")["pixel_values"]


def test_resize_and_center_crop_match_clip_processor(rgb_image):
    np.testing.assert_allclose(
        preprocess.apply(rgb_image, LLAVA_PRE), _hf(CLIPImageProcessorPil(**HF_KW), rgb_image), atol=1e-6
    )


def test_pad_to_square_matches_llava_expand_to_square(rgb_image):
    pre = {**LLAVA_PRE, "pad_to_square": {"fill": [int(m * 255) for m in CLIP_MEAN]}}
    hf = _hf(LlavaImageProcessorPil(**HF_KW, do_pad=True), rgb_image)
    np.testing.assert_allclose(preprocess.apply(rgb_image, pre), hf, atol=1e-6)


@pytest.mark.parametrize("resample", ["nearest", "bilinear", "bicubic"])
def test_exact_resize_matches_for_each_filter(rgb_image, resample):
    pre = {
        **LLAVA_PRE,
        "resize": {"mode": "exact", "height": 24, "width": 40},
        "resample": resample,
        "center_crop": None,
    }
    hf = _hf(
        CLIPImageProcessorPil(
            **{**HF_KW, "size": {"height": 24, "width": 40}, "resample": PIL_CODES[resample], "do_center_crop": False}
        ),
        rgb_image,
    )
    assert preprocess.apply(rgb_image, pre).shape == (1, 3, 24, 40)
    np.testing.assert_allclose(preprocess.apply(rgb_image, pre), hf, atol=1e-6)


def test_longest_edge_keeps_aspect_ratio(rgb_image):
    pre = {**LLAVA_PRE, "resize": {"mode": "longest_edge", "size": 35}, "center_crop": None}
    w, h = rgb_image.size
    expected = (35, int(35 * h / w)) if w >= h else (int(35 * w / h), 35)
    assert preprocess.apply(rgb_image, pre).shape[2:] == expected[::-1]


def test_alpha_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[0, 2, 3] = 0, 128, 255  # transparent, half, opaque
    rgb = np.asarray(preprocess.to_rgb(Image.fromarray(rgba, "RGBA")))
    assert rgb[0, 0].tolist() == [255, 255, 255]
    assert rgb[0, 1, 0] == 255 and abs(int(rgb[0, 1, 1]) - 127) <= 1
    assert rgb[0, 2].tolist() == [255, 0, 0]


def test_pad_to_pads_bottom_right_with_zeros_after_normalising(rgb_image):
    pre = {**LLAVA_PRE, "resize": {"mode": "exact", "height": 20, "width": 30}, "center_crop": None, "pad_to": [32, 40]}
    x = preprocess.apply(rgb_image, pre)
    assert x.shape == (1, 3, 32, 40) and x.dtype == np.float32
    assert not x[:, :, 20:].any() and not x[:, :, :, 30:].any()
    np.testing.assert_array_equal(x[:, :, :20, :30], preprocess.apply(rgb_image, {**pre, "pad_to": None}))


def test_unsupported_resample_is_approximated_and_recorded(models):
    ckpt = read_checkpoint(models.hf_dir("idefics3"), tuple(ARCHS))
    pre, source = ARCHS[ckpt.architecture].preprocess(ckpt, VisionSpec((32, 32), 4, 2, (4, 4)))
    assert pre["resample"] == "bicubic"
    assert source.startswith("preprocessor_config.json") and "lanczos" in source
    assert pre["mean"] == [0.5, 0.5, 0.5] and pre["resize"] == {"mode": "exact", "height": 32, "width": 32}


def _llava_preprocess(models, **changes):
    ckpt = read_checkpoint(models.hf_dir("llava"), tuple(ARCHS))
    ckpt.preprocessor = {**ckpt.preprocessor, **changes}
    return ARCHS[ckpt.architecture].preprocess(ckpt, VisionSpec((32, 32), 8, 1, (4, 4)))[0]


def test_llava_exact_size_without_crop(models):
    """The shipped fixture's processor: resize straight to the tower size, no crop."""
    pre = _llava_preprocess(models, size={"height": 32, "width": 32}, do_center_crop=False)
    assert pre["resize"] == {"mode": "exact", "height": 32, "width": 32} and pre["center_crop"] is None


def test_llava_crop_that_misses_the_tower_size_is_an_error(models):
    with pytest.raises(ExportError, match=r'"crop_size" is \{\'height\': 24, \'width\': 24\}.*32x32'):
        _llava_preprocess(models, crop_size={"height": 24, "width": 24})


def test_llava_int_size_means_shortest_edge(models):
    assert _llava_preprocess(models, size=32)["resize"] == {"mode": "shortest_edge", "size": 32}


@pytest.mark.parametrize("size", [(96, 64), (48, 32)], ids=["larger", "at-pinpoint"])
def test_anyres_tiles_match_the_onevision_processor_at_the_pinpoints_aspect(size):
    """An image with the exported pinpoint's aspect ratio: HF picks that pinpoint, resizes into it
    without padding and cuts the tiles; the base tile is the image resized to one tile. vislens's
    `tiles` step gives the same [1 + tiles, 3, h, w] (other aspect ratios differ by design: the
    bundle resizes exactly, HF pads)."""
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil

    w, h = size
    image = Image.fromarray(np.random.default_rng(w).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    pinpoints = [[16, 16], [16, 32], [32, 16], [32, 32], [32, 48]]
    hf = LlavaOnevisionImageProcessorPil(
        size={"height": 16, "width": 16}, image_grid_pinpoints=pinpoints, resample=3, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )(image, return_tensors="np")
    assert hf["image_sizes"].tolist() == [[h, w]]
    pre = {
        **LLAVA_PRE,
        "resize": {"mode": "exact", "height": 32, "width": 48},
        "center_crop": None,
        "mean": [0.5] * 3,
        "std": [0.5] * 3,
        "tiles": {"grid": [2, 3], "size": [16, 16]},
    }
    ours = preprocess.apply(image, pre)
    assert ours.shape == (7, 3, 16, 16)
    np.testing.assert_allclose(ours, hf["pixel_values"][0], atol=1e-6)
