"""The runtime's M-RoPE position ids (docs/bundle-format.md) against Qwen2-VL's own get_rope_index."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vislens_export.runtime import mrope_position_ids


@pytest.mark.parametrize("grid", [(2, 3), (3, 2), (4, 4)])
def test_mrope_positions_match_hf_get_rope_index(models, grid):
    model = models.model("qwen2vl")
    cfg = model.config
    merge, image = cfg.vision_config.spatial_merge_size, cfg.image_token_id
    tokens = [image] * (grid[0] * grid[1])
    rows = [
        [7, 8, 9, cfg.vision_start_token_id, *tokens, cfg.vision_end_token_id, 10, 11, 12, 13],  # text on both sides
        [*tokens, 10, 11],  # image first, and shorter: right-padded in the batch
    ]
    seq = max(map(len, rows))
    ids = torch.zeros(len(rows), seq, dtype=torch.long)
    mask = torch.zeros(len(rows), seq, dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)], mask[b, : len(r)] = torch.tensor(r), 1

    hf, _ = model.model.get_rope_index(
        ids,
        mm_token_type_ids=(ids == image).int(),
        image_grid_thw=torch.tensor([[1, grid[0] * merge, grid[1] * merge]] * len(rows)),
        attention_mask=mask,
    )
    for b, r in enumerate(rows):
        ours = mrope_position_ids(r, image, grid)
        np.testing.assert_array_equal(ours, hf[:, b, : len(r)].numpy())


def test_text_after_the_image_resumes_at_start_plus_longest_side():
    ids = [1, 5, 5, 5, 5, 5, 5, 2]  # one text token, a 2 x 3 image, one text token
    pos = mrope_position_ids(ids, image_token_id=5, grid=(2, 3))
    np.testing.assert_array_equal(pos[:, 0], [0, 0, 0])
    np.testing.assert_array_equal(pos[:, 1:7], [[1] * 6, [1, 1, 1, 2, 2, 2], [1, 2, 3, 1, 2, 3]])
    np.testing.assert_array_equal(pos[:, 7], [4, 4, 4])
