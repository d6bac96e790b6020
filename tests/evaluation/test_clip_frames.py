"""The Classify page's frame strip, chosen members' attention and stored clips' recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.evaluation.clip_frames import chosen_attention, frame_strip_of, stored_clip_recipe
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import load_checkpoint
from tests.factories import TINY_RECIPE, write_ensemble


def test_frame_strip_spreads_at_most_sixteen_thumbnails() -> None:
    frames = np.stack([np.full((64, 64, 3), i, dtype=np.uint8) for i in range(31)])
    strip = frame_strip_of(frames)
    assert strip.positions.tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
    assert [image.shape for image in strip.images] == [(96, 96, 3)] * 16
    assert [int(image[0, 0, 0]) for image in strip.images] == strip.positions.tolist()


def test_short_clip_strip_shows_every_frame() -> None:
    strip = frame_strip_of(np.zeros((5, 32, 32, 3), dtype=np.uint8))
    assert strip.positions.tolist() == [0, 1, 2, 3, 4]


def test_chosen_attention_keeps_the_chosen_members_in_order() -> None:
    attention = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2]])
    result = chosen_attention(attention, ["a", "b", "c"], ["c", "a"], num_frames=2)
    np.testing.assert_allclose(result.per_frame, [[20.0, 60.0], [50.0, 30.0]])
    assert result.tail_share.tolist() == pytest.approx([20.0, 20.0])


def test_stored_clip_recipe_prefers_the_files_then_a_members(tmp_path: Path) -> None:
    members = [load_checkpoint(p) for p in write_ensemble(tmp_path, members=2)]
    own = FeatureRecipe(num_frames=16, image_size=128)
    assert stored_clip_recipe(own, members) == own
    assert stored_clip_recipe(None, members) == TINY_RECIPE
    unrecorded = [load_checkpoint(p) for p in write_ensemble(tmp_path / "none", members=1, recipe=None)]
    assert stored_clip_recipe(None, unrecorded) is None
