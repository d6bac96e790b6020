"""Which frames of one clip the Classify page draws: the strip of thumbnails, and the chosen
members' pooling attention mapped onto the decoded frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.evaluation.clip_verdict import FrameAttention, attention_by_frame, strip_positions, thumbnails
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import LoadedCheckpoint


@dataclass(frozen=True)
class FrameStrip:
    positions: np.ndarray
    """Indices of the decoded frames the strip shows."""
    images: list[np.ndarray]
    """One small RGB thumbnail per position."""


def frame_strip_of(frames: np.ndarray) -> FrameStrip:
    """The strip of a clip's decoded frames [N, H, W, 3]."""
    positions = strip_positions(len(frames))
    return FrameStrip(positions, thumbnails(frames, positions))


def chosen_attention(
    attention: np.ndarray, member_names: Sequence[str], chosen: Sequence[str], num_frames: int
) -> FrameAttention:
    """The attention [members, T] of the chosen members only, in the order chosen, per frame."""
    rows = [list(member_names).index(name) for name in chosen]
    return attention_by_frame(attention[rows], num_frames)


def stored_clip_recipe(
    features_recipe: FeatureRecipe | None, members: Sequence[LoadedCheckpoint]
) -> FeatureRecipe | None:
    """How a stored clip was featurised: its file's recipe, else the first member's that records one."""
    if features_recipe is not None:
        return features_recipe
    return next((m.recipe for m in members if m.recipe is not None), None)
