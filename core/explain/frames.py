"""Where stored time steps come from in the decoded clip (the multi-scale recipe, docs/formats.md).

Step t averages, over the scales, the frame each scale picks at position t (scale 1.0 picks frame
t; a shorter scale runs out early, a longer one picks frames again, resampled). A step's score is
shared among the frames it averages, in proportion to how often each is picked there, so a frame's
score is the sum of its shares of every step that contains it.
"""

from __future__ import annotations

import numpy as np

from core.features.recipe import FeatureRecipe, scale_indices


def decoded_frame_count(steps: int, recipe: FeatureRecipe) -> int | None:
    """How many decoded frames produce a `steps`-long sequence with this recipe: its frame count
    when that fits, else the largest smaller count that does (a clip shorter than asked); None when
    no count fits (the sequence was not made with this recipe)."""
    for frames in range(recipe.num_frames, 0, -1):
        if max(recipe.scale_lengths(frames)) == steps:
            return frames
    return None


def step_frame_weights(steps: int, frames: int, scales: tuple[float, ...]) -> np.ndarray:
    """[steps, frames]: the share of each decoded frame in each step; every row sums to 1."""
    weights = np.zeros((steps, frames), dtype=np.float64)
    for scale in scales:
        picks = scale_indices(frames, scale)[:steps]
        weights[np.arange(len(picks)), picks] += 1.0
    return weights / np.maximum(weights.sum(axis=1, keepdims=True), 1.0)


def frames_of_step(weights: np.ndarray, step: int) -> list[int]:
    """The decoded frames a step averages."""
    return [int(f) for f in np.flatnonzero(weights[step])]


def scores_by_frame(step_scores: np.ndarray, recipe: FeatureRecipe | None) -> np.ndarray | None:
    """[frames]: the step scores carried onto the decoded frames; None without a fitting recipe."""
    if recipe is None:
        return None
    frames = decoded_frame_count(len(step_scores), recipe)
    if frames is None:
        return None
    weights = step_frame_weights(len(step_scores), frames, recipe.scales)
    return np.asarray(step_scores, dtype=np.float64) @ weights
