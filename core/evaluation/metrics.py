"""Classification metrics (scikit-learn definitions, percentages) and significance tools."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import cohen_kappa_score


@dataclass(frozen=True)
class ConfidenceInterval:
    low: float
    high: float


@dataclass(frozen=True)
class Scores:
    """One predictor's scores on a split, in percent; the confusion matrix has rows = true class.
    The intervals are set where the scores were bootstrapped (stored evaluation runs)."""

    accuracy: float
    f1_weighted: float
    precision_per_class: tuple[float, ...]
    recall_per_class: tuple[float, ...]
    f1_per_class: tuple[float, ...]
    support_per_class: tuple[int, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]
    accuracy_ci: ConfidenceInterval | None = None
    f1_weighted_ci: ConfidenceInterval | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and numbers, for JSON and checkpoints."""
        out = {
            "accuracy": self.accuracy,
            "f1_weighted": self.f1_weighted,
            "precision_per_class": list(self.precision_per_class),
            "recall_per_class": list(self.recall_per_class),
            "f1_per_class": list(self.f1_per_class),
            "support_per_class": list(self.support_per_class),
            "confusion_matrix": [list(row) for row in self.confusion_matrix],
        }
        for name, interval in (("accuracy_ci", self.accuracy_ci), ("f1_weighted_ci", self.f1_weighted_ci)):
            if interval is not None:
                out[name] = [interval.low, interval.high]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scores:
        """The inverse of `to_dict`; keys it does not know (old runs' per-video probabilities) are
        ignored."""
        return cls(
            accuracy=float(data["accuracy"]),
            f1_weighted=float(data["f1_weighted"]),
            precision_per_class=tuple(map(float, data["precision_per_class"])),
            recall_per_class=tuple(map(float, data["recall_per_class"])),
            f1_per_class=tuple(map(float, data["f1_per_class"])),
            support_per_class=tuple(map(int, data["support_per_class"])),
            confusion_matrix=tuple(tuple(map(int, row)) for row in data["confusion_matrix"]),
            accuracy_ci=_interval(data.get("accuracy_ci")),
            f1_weighted_ci=_interval(data.get("f1_weighted_ci")),
        )


def _interval(bounds: Sequence[float] | None) -> ConfidenceInterval | None:
    return None if bounds is None else ConfidenceInterval(float(bounds[0]), float(bounds[1]))


def compute_metrics(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> Scores:
    """Accuracy, weighted F1, per-class precision/recall/F1 (percent, scikit-learn's definitions
    with zero_division=0) and the confusion matrix, all from one bincount: fast at 100k videos."""
    true = np.asarray(y_true, dtype=np.int64)
    codes = true * num_classes + np.asarray(y_pred, dtype=np.int64)
    matrix = np.bincount(codes, minlength=num_classes * num_classes).reshape(num_classes, num_classes)
    true_positive = np.diagonal(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    denominator = support + predicted
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    return Scores(
        accuracy=100.0 * float(true_positive.sum() / max(1, len(true))),
        f1_weighted=100.0 * float(_weighted_f1_of(matrix[None])[0]),
        precision_per_class=tuple((100.0 * precision).tolist()),
        recall_per_class=tuple((100.0 * recall).tolist()),
        f1_per_class=tuple((100.0 * f1).tolist()),
        support_per_class=tuple(support.astype(int).tolist()),
        confusion_matrix=tuple(tuple(row) for row in matrix.tolist()),
    )


def bootstrapped_metrics(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> Scores:
    """`compute_metrics` with 95% bootstrap intervals for accuracy and weighted F1."""
    intervals = bootstrap_ci(y_true, y_pred, num_classes)
    return replace(
        compute_metrics(y_true, y_pred, num_classes),
        accuracy_ci=intervals["accuracy"],
        f1_weighted_ci=intervals["f1_weighted"],
    )


BOOTSTRAP_RESAMPLES = 2000


def _batched_confusions(codes: np.ndarray, num_classes: int) -> np.ndarray:
    """Confusion matrices [B, K, K] of each row of [B, N] pair codes `true * K + predicted`."""
    resamples = codes.shape[0]
    cells = num_classes * num_classes
    flat = (np.arange(resamples) * cells)[:, None] + codes
    return np.bincount(flat.ravel(), minlength=resamples * cells).reshape(resamples, num_classes, num_classes)


def _weighted_f1_of(confusion: np.ndarray) -> np.ndarray:
    """Weighted F1 (sklearn's definition, zero_division=0) of each confusion matrix [B, K, K]."""
    true_positive = np.diagonal(confusion, axis1=1, axis2=2).astype(float)
    support = confusion.sum(axis=2)
    predicted = confusion.sum(axis=1)
    denominator = support + predicted
    f1 = np.divide(2 * true_positive, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    return (f1 * support).sum(axis=1) / support.sum(axis=1)


def _batched_weighted_f1(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Weighted F1 for each row of [B, N] label arrays."""
    return _weighted_f1_of(_batched_confusions(y_true * num_classes + y_pred, num_classes))


def bootstrap_ci(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    num_classes: int,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, ConfidenceInterval]:
    """Percentile bootstrap intervals (percent) for accuracy and weighted F1, resampling videos.

    Both scores depend on a resample only through its confusion matrix, and resampling N videos
    with replacement gives that matrix's cells a Multinomial(N, observed cell shares) law. So
    each resample's matrix is drawn directly: the same bootstrap distribution as resampling
    video indices, in O(resamples x classes^2) time and memory instead of O(resamples x N).
    """
    true = np.asarray(y_true, dtype=np.int64)
    codes = true * num_classes + np.asarray(y_pred, dtype=np.int64)
    cells = np.bincount(codes, minlength=num_classes * num_classes)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(codes), cells / cells.sum(), size=n_resamples)
    confusion = counts.reshape(n_resamples, num_classes, num_classes)
    accuracy = np.trace(confusion, axis1=1, axis2=2) / len(codes)
    f1 = _weighted_f1_of(confusion)
    tail = 100.0 * (1 - confidence) / 2
    out = {}
    for name, values in (("accuracy", accuracy), ("f1_weighted", f1)):
        low, high = np.percentile(100.0 * values, [tail, 100.0 - tail])
        out[name] = ConfidenceInterval(float(low), float(high))
    return out


@dataclass(frozen=True)
class McNemarResult:
    only_a_correct: int
    only_b_correct: int
    p_value: float


def mcnemar_exact(y_true: Sequence[int], pred_a: Sequence[int], pred_b: Sequence[int]) -> McNemarResult:
    """Exact (binomial) paired McNemar test on the videos where exactly one predictor is right."""
    true = np.asarray(y_true)
    a_right = np.asarray(pred_a) == true
    b_right = np.asarray(pred_b) == true
    only_a = int((a_right & ~b_right).sum())
    only_b = int((~a_right & b_right).sum())
    discordant = only_a + only_b
    p_value = 1.0 if discordant == 0 else float(binomtest(min(only_a, only_b), discordant, 0.5).pvalue)
    return McNemarResult(only_a, only_b, min(p_value, 1.0))


def pairwise_agreement(predictions: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """One row per ordered pair of predictors: disagreement rate (percent) and Cohen's kappa."""
    rows = []
    for a, pred_a in predictions.items():
        for b, pred_b in predictions.items():
            same = np.array_equal(np.asarray(pred_a), np.asarray(pred_b))
            kappa = 1.0 if same else float(cohen_kappa_score(pred_a, pred_b))
            disagreement = 100.0 * float(np.mean(np.asarray(pred_a) != np.asarray(pred_b)))
            rows.append({"a": a, "b": b, "disagreement": disagreement, "kappa": kappa})
    return pd.DataFrame(rows)


def collapsed_classes(
    f1_by_predictor: Mapping[str, Sequence[float]],
    class_names: Sequence[str],
    gap: float = 30.0,
) -> list[tuple[str, str, float, float]]:
    """(predictor, class, its F1, median F1 of the others) where a member's class F1 is at least
    `gap` points below the median of the other members — the signature of a collapsed model."""
    names = list(f1_by_predictor)
    if len(names) < 2:
        return []
    table = np.asarray([f1_by_predictor[n] for n in names], dtype=float)
    flagged = []
    for i, name in enumerate(names):
        others = np.delete(table, i, axis=0)
        reference = np.median(others, axis=0)
        for k, class_name in enumerate(class_names):
            if reference[k] - table[i, k] >= gap:
                flagged.append((name, class_name, float(table[i, k]), float(reference[k])))
    return flagged
