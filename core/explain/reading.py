"""What one clip's explanations support saying, beyond faithfulness: which methods rank the steps
alike (Spearman's rank correlation), and which frames the pooling attention favours measured
against the uniform share 1/T every step would get if the model favoured none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.stats import spearmanr

from core.explain.explanation import Explanation
from core.explain.frames import scores_by_frame
from core.features.recipe import FeatureRecipe

RANKS_ALIKE = 0.95
# Below this a frame's attention is within a tenth of uniform: not named as favoured.
ABOVE_UNIFORM = 1.1
NAMED_FRAMES = 5


@dataclass(frozen=True)
class Agreement:
    first: str
    second: str
    spearman: float


def rank_correlation(first: np.ndarray, second: np.ndarray) -> float | None:
    """Spearman's rho of two score vectors; None when either is constant (no ranking to compare)."""
    if len(first) < 2 or np.ptp(first) == 0 or np.ptp(second) == 0:
        return None
    rho = float(spearmanr(first, second).statistic)
    return None if np.isnan(rho) else rho


def methods_ranking_alike(explanations: Mapping[str, Explanation]) -> list[Agreement]:
    """Pairs of methods whose step scores have Spearman's rho >= RANKS_ALIKE on this clip."""
    pairs = []
    for (first, a), (second, b) in combinations(explanations.items(), 2):
        rho = rank_correlation(a.steps, b.steps)
        if rho is not None and rho >= RANKS_ALIKE:
            pairs.append(Agreement(first, second, rho))
    return pairs


@dataclass(frozen=True)
class FavouredFrame:
    index: int
    """The decoded frame (or the step, without a recipe)."""
    times_uniform: float
    """Its attention divided by its uniform share."""


def uniform_share(steps: int, recipe: FeatureRecipe | None) -> np.ndarray:
    """Each frame's (or step's) attention if every step got 1/T."""
    uniform = np.full(steps, 1.0 / steps)
    by_frame = scores_by_frame(uniform, recipe)
    return uniform if by_frame is None else by_frame


def attention_above_uniform(attention: np.ndarray, recipe: FeatureRecipe | None) -> list[FavouredFrame]:
    """The frames (steps without a recipe) whose attention is at least ABOVE_UNIFORM times their
    uniform share, most favoured first, at most NAMED_FRAMES of them."""
    by_frame = scores_by_frame(attention, recipe)
    shares = by_frame if by_frame is not None else np.asarray(attention, dtype=np.float64)
    uniform = uniform_share(len(attention), recipe)
    ratio = np.divide(shares, uniform, out=np.zeros_like(shares), where=uniform > 0)
    favoured = [i for i in np.argsort(-ratio, kind="stable") if ratio[i] >= ABOVE_UNIFORM]
    return [FavouredFrame(int(i), float(ratio[i])) for i in favoured[:NAMED_FRAMES]]
