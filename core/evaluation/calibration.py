"""Calibration and ranking quality of multi-class probabilities: reliability bins, expected
calibration error, and one-vs-rest ROC / precision-recall curves per class."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import auc, precision_recall_curve, roc_curve

DEFAULT_BINS = 10


def _bin_index(confidence: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin k holds confidences in (k/n, (k+1)/n]; a confidence of exactly 0 joins the first bin.

    The tolerance keeps float products such as 0.7 * 10 = 7.000000000000001 on their edge."""
    scaled = np.ceil(confidence * n_bins - 1e-9).astype(np.int64) - 1
    return np.clip(scaled, 0, n_bins - 1)


def reliability_bins(
    labels: np.ndarray, probabilities: np.ndarray, n_bins: int = DEFAULT_BINS
) -> pd.DataFrame:
    """Confidence of the predicted class against accuracy, in equal-width bins (percent).

    Empty bins are kept (count 0, NaN confidence/accuracy) so every predictor has the same rows."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    bins = _bin_index(confidence, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    confidence_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    correct_sum = np.bincount(bins, weights=correct.astype(np.float64), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.where(counts > 0, confidence_sum / counts, np.nan)
        accuracy = np.where(counts > 0, correct_sum / counts, np.nan)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame(
        {
            "bin_low": 100.0 * edges[:-1],
            "bin_high": 100.0 * edges[1:],
            "count": counts.astype(np.int64),
            "confidence": 100.0 * mean_confidence,
            "accuracy": 100.0 * accuracy,
        }
    )


def expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, n_bins: int = DEFAULT_BINS
) -> float:
    """ECE in percent: the count-weighted mean |accuracy - confidence| over the bins."""
    bins = reliability_bins(labels, probabilities, n_bins)
    filled = bins[bins["count"] > 0]
    weights = filled["count"] / filled["count"].sum()
    return float((weights * (filled["accuracy"] - filled["confidence"]).abs()).sum())


@dataclass(frozen=True)
class ClassCurve:
    class_name: str
    x: np.ndarray
    y: np.ndarray
    area: float


# Points a drawn curve keeps: a 100k-video split gives curves of ~100k thresholds, far more
# than a chart can show; the area is always computed on the full curve.
MAX_CURVE_POINTS = 500


def _thinned(name: str, x: np.ndarray, y: np.ndarray, area: float) -> ClassCurve:
    if len(x) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return ClassCurve(name, x, y, area)


def _one_vs_rest(labels: np.ndarray, probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.asarray(labels) == k).astype(np.int64), probabilities[:, k]


def roc_curves(labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]) -> list[ClassCurve]:
    """One-vs-rest ROC per class (x = false-positive rate, y = true-positive rate, area = AUC).

    A class with no positive or no negative video has no ROC curve and is left out; curves keep
    at most `MAX_CURVE_POINTS` points, first and last included."""
    curves = []
    for k, name in enumerate(class_names):
        truth, score = _one_vs_rest(labels, probabilities, k)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = roc_curve(truth, score)
        curves.append(_thinned(name, fpr, tpr, float(auc(fpr, tpr))))
    return curves


def precision_recall_curves(
    labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> list[ClassCurve]:
    """One-vs-rest precision-recall per class (x = recall, y = precision, area = trapezoidal AUC).

    A class with no positive video has no curve and is left out."""
    curves = []
    for k, name in enumerate(class_names):
        truth, score = _one_vs_rest(labels, probabilities, k)
        if truth.sum() == 0:
            continue
        precision, recall, _ = precision_recall_curve(truth, score)
        curves.append(_thinned(name, recall, precision, float(auc(recall, precision))))
    return curves


def calibration_table(
    labels: np.ndarray, probabilities_by_predictor: dict[str, np.ndarray], n_bins: int = DEFAULT_BINS
) -> pd.DataFrame:
    """Per predictor: ECE, mean confidence and accuracy (percent)."""
    rows = []
    for name, probabilities in probabilities_by_predictor.items():
        rows.append(
            {
                "predictor": name,
                "ece": expected_calibration_error(labels, probabilities, n_bins),
                "mean_confidence": 100.0 * float(probabilities.max(axis=1).mean()),
                "accuracy": 100.0 * float((probabilities.argmax(axis=1) == np.asarray(labels)).mean()),
            }
        )
    return pd.DataFrame(rows)


def class_expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, class_index: int, n_bins: int = DEFAULT_BINS
) -> float:
    """One-vs-rest ECE in percent for one class: videos binned by their probability for the class,
    each bin's mean probability against the share of its videos that are of that class."""
    confidence = probabilities[:, class_index]
    is_class = (np.asarray(labels) == class_index).astype(np.float64)
    bins = _bin_index(confidence, n_bins)
    counts = np.bincount(bins, minlength=n_bins)
    filled = counts > 0
    mean_p = np.bincount(bins, weights=confidence, minlength=n_bins)[filled] / counts[filled]
    share = np.bincount(bins, weights=is_class, minlength=n_bins)[filled] / counts[filled]
    weights = counts[filled] / counts.sum()
    return float(100.0 * (weights * np.abs(share - mean_p)).sum())


def class_calibration_table(
    labels: np.ndarray,
    probabilities_by_predictor: dict[str, np.ndarray],
    class_names: Sequence[str],
    n_bins: int = DEFAULT_BINS,
) -> pd.DataFrame:
    """Per predictor and class (long form): one-vs-rest ECE, mean probability given to the class
    and the class's share of the videos (percent); the last two differ when a predictor over- or
    under-predicts the class as a whole."""
    labels = np.asarray(labels)
    rows = []
    for name, probabilities in probabilities_by_predictor.items():
        for k, class_name in enumerate(class_names):
            rows.append(
                {
                    "predictor": name,
                    "class": class_name,
                    "ece": class_expected_calibration_error(labels, probabilities, k, n_bins),
                    "mean_probability": 100.0 * float(probabilities[:, k].mean()),
                    "share": 100.0 * float((labels == k).mean()),
                }
            )
    return pd.DataFrame(rows)
