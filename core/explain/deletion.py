"""Faithfulness of a step ranking: the class probability as the top-ranked steps are removed one by
one (a deletion curve), against the same curve for each of several random orders, and the area
under each.

Removing a step shortens the clip (the model reads the remaining real steps, in time order), so
the measure does not depend on any method's baseline and treats attention, occlusion and
integrated gradients alike. A faithful ranking makes the probability fall early: a smaller area
than random.

Cost stays bounded on long clips. A curve is measured at most at `MAX_CURVE_POINTS` removal
counts (every count on a clip that short, else evenly spaced counts plus the first `FIRST_POINTS`),
the remaining clips are built batch by batch within `BATCH_ELEMENTS` floats (never all orders x
points x steps x features at once), and a remaining clip shared by several curves (the whole clip
at k = 0, the same top steps of two methods that rank alike) is run once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from core.explain.predictor import BATCH_ELEMENTS, ExplainedPredictor

RANDOM_ORDERS = 16
MAX_CURVE_POINTS = 16
# The top-3 drop the panel quotes needs the curve at k = 1, 2, 3 whatever the subsampling.
FIRST_POINTS = 3


def ranking(scores: np.ndarray) -> np.ndarray:
    """Step indices from the most to the least attributed (ties keep time order)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def curve_points(steps: int) -> np.ndarray:
    """The removal counts k a curve is measured at: 0 … T−1 when T <= MAX_CURVE_POINTS, else
    MAX_CURVE_POINTS evenly spaced counts from 0 to T−1 plus 1 … FIRST_POINTS."""
    if steps <= MAX_CURVE_POINTS:
        return np.arange(steps)
    spaced = np.round(np.linspace(0, steps - 1, MAX_CURVE_POINTS)).astype(np.int64)
    return np.union1d(spaced, np.arange(min(FIRST_POINTS, steps - 1) + 1))


def _kept_steps(orders: Sequence[np.ndarray], points: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct remaining clips (as sorted step indices) and, per order and point, which one."""
    distinct: dict[bytes, int] = {}
    kept_rows: list[np.ndarray] = []
    which = np.zeros((len(orders), len(points)), dtype=np.int64)
    for o, order in enumerate(orders):
        for p, removed in enumerate(points):
            kept = np.sort(order[removed:])
            key = kept.tobytes()
            if key not in distinct:
                distinct[key] = len(kept_rows)
                kept_rows.append(kept)
            which[o, p] = distinct[key]
    return kept_rows, which


def _batches(kept_rows: list[np.ndarray], feature_dim: int) -> Iterator[list[int]]:
    """Rows grouped longest first, each group within BATCH_ELEMENTS floats once padded."""
    by_length = sorted(range(len(kept_rows)), key=lambda r: -len(kept_rows[r]))
    group: list[int] = []
    for row in by_length:
        longest = len(kept_rows[group[0]]) if group else len(kept_rows[row])
        if group and (len(group) + 1) * longest * feature_dim > BATCH_ELEMENTS:
            yield group
            group = []
        group.append(row)
    if group:
        yield group


def _probabilities(
    predictor: ExplainedPredictor, sequence: torch.Tensor, kept_rows: list[np.ndarray]
) -> np.ndarray:
    """p(class) of every remaining clip, its steps gathered from `sequence` batch by batch."""
    steps, feature_dim = sequence.shape
    # Padding gathers the appended zero row; the model masks it anyway.
    with_zero = torch.cat([sequence, sequence.new_zeros(1, feature_dim)])
    values = np.zeros(len(kept_rows), dtype=np.float64)
    with torch.inference_mode():
        for group in _batches(kept_rows, feature_dim):
            longest = len(kept_rows[group[0]])
            index = np.full((len(group), longest), steps, dtype=np.int64)
            for i, row in enumerate(group):
                index[i, : len(kept_rows[row])] = kept_rows[row]
            batch = with_zero[torch.from_numpy(index).to(sequence.device)]
            lengths = torch.tensor([len(kept_rows[r]) for r in group], device=sequence.device)
            values[group] = predictor.target_probability(batch, lengths).double().cpu().numpy()
    return values


def deletion_curves(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    orders: Sequence[np.ndarray],
    points: np.ndarray | None = None,
) -> np.ndarray:
    """[orders, points]: p(class) after removing the first k steps of each order, at each k of
    `points` (default `curve_points(T)`; the last remaining step is never removed: a clip needs
    one). Clips shared by several orders run once."""
    array = np.asarray(sequence, dtype=np.float32)
    points = curve_points(len(array)) if points is None else np.asarray(points, dtype=np.int64)
    kept_rows, which = _kept_steps(orders, points)
    tensor = torch.from_numpy(np.ascontiguousarray(array)).to(predictor.device)
    return _probabilities(predictor, tensor, kept_rows)[which]


def random_orders(steps: int, count: int = RANDOM_ORDERS) -> list[np.ndarray]:
    """`count` random step orders, the same for the same length (seeds 0..count-1)."""
    return [np.random.default_rng(seed).permutation(steps) for seed in range(count)]


def curve_area(curve: np.ndarray, points: np.ndarray | None = None, steps: int | None = None) -> float:
    """Area under a deletion curve over the removed fraction k / (T−1), 0..1 (its mean height):
    0 means the probability vanished at once, p(class) means removing steps never changed it.
    Without `points` the curve holds every k = 0 … T−1."""
    values = np.asarray(curve, dtype=np.float64)
    if len(values) == 1:
        return float(values[0])
    if points is None:
        return float(np.trapezoid(values, dx=1.0 / (len(values) - 1)))
    last = (len(values) if steps is None else steps) - 1
    return float(np.trapezoid(values, x=np.asarray(points, dtype=np.float64) / last))


def drop_after(curve: np.ndarray, removed: int, points: np.ndarray | None = None) -> float:
    """How much the probability fell once `removed` steps were removed (at the last measured
    count up to `removed`)."""
    values = np.asarray(curve, dtype=np.float64)
    counts = np.arange(len(values)) if points is None else np.asarray(points)
    return float(values[0] - values[np.flatnonzero(counts <= removed)[-1]])
