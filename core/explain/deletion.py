"""Faithfulness of a step ranking: the class probability as the top-ranked steps are removed one by
one (a deletion curve), against the same curve for random orders, and the area under each.

Removing a step shortens the clip (the model reads the remaining real steps, in time order), so
the measure does not depend on any method's baseline and treats attention, occlusion and
integrated gradients alike. A faithful ranking makes the probability fall early: a smaller area
than random.
"""

from __future__ import annotations

import numpy as np
import torch

from core.explain.predictor import ExplainedPredictor

RANDOM_ORDERS = 8
# Sequences per forward pass: 73-step clips of a full-size member stay within a few hundred MB.
CURVE_BATCH = 64


def ranking(scores: np.ndarray) -> np.ndarray:
    """Step indices from the most to the least attributed (ties keep time order)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def _remaining_sequences(sequence: np.ndarray, orders: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each order and each k = 0..T-1: the clip without the first k steps of the order, padded."""
    steps = len(sequence)
    padded = np.zeros((len(orders) * steps, steps, sequence.shape[1]), dtype=np.float32)
    lengths = np.zeros(len(orders) * steps, dtype=np.int64)
    row = 0
    for order in orders:
        for removed in range(steps):
            kept = np.sort(order[removed:])
            padded[row, : len(kept)] = sequence[kept]
            lengths[row] = len(kept)
            row += 1
    return padded, lengths


def deletion_curves(
    predictor: ExplainedPredictor, sequence: np.ndarray, orders: list[np.ndarray]
) -> np.ndarray:
    """[orders, T]: p(class) after removing the first k steps of each order, k = 0..T-1 (the last
    remaining step is never removed: a clip needs one)."""
    padded, lengths = _remaining_sequences(np.asarray(sequence, dtype=np.float32), orders)
    device = predictor.device
    values = []
    with torch.inference_mode():
        for start in range(0, len(padded), CURVE_BATCH):
            rows = slice(start, start + CURVE_BATCH)
            size = int(lengths[rows].max())
            batch = torch.from_numpy(padded[rows, :size]).to(device)
            values.append(predictor.target_probability(batch, torch.from_numpy(lengths[rows]).to(device)))
    return torch.cat(values).float().cpu().numpy().reshape(len(orders), len(sequence))


def deletion_curve(predictor: ExplainedPredictor, sequence: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """[T]: the curve for the ranking of `scores`."""
    return deletion_curves(predictor, sequence, [ranking(scores)])[0]


def random_orders(steps: int, count: int = RANDOM_ORDERS) -> list[np.ndarray]:
    """`count` random step orders, the same for the same length (seeds 0..count-1)."""
    return [np.random.default_rng(seed).permutation(steps) for seed in range(count)]


def random_deletion_curve(
    predictor: ExplainedPredictor, sequence: np.ndarray, count: int = RANDOM_ORDERS
) -> np.ndarray:
    """[T]: the mean deletion curve over `count` random orders."""
    return deletion_curves(predictor, sequence, random_orders(len(sequence), count)).mean(axis=0)


def curve_area(curve: np.ndarray) -> float:
    """Area under a deletion curve over the removed fraction 0..1 (its mean height): 0 means the
    probability vanished at once, p(class) means removing steps never changed it."""
    values = np.asarray(curve, dtype=np.float64)
    if len(values) == 1:
        return float(values[0])
    return float(np.trapezoid(values, dx=1.0 / (len(values) - 1)))


def drop_after(curve: np.ndarray, removed: int) -> float:
    """How much the probability fell once `removed` steps were removed (capped at the last point)."""
    values = np.asarray(curve, dtype=np.float64)
    return float(values[0] - values[min(removed, len(values) - 1)])
