"""Scores per slice of a split: the videos of one class and one subcategory (the folder under the
class in the video name), for every predictor, worst first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from core.evaluation.predictions import subcategories_of


def slice_keys(labels: np.ndarray, video_names: Sequence[str], class_names: Sequence[str]) -> pd.DataFrame:
    """One row per video: its class (the label) and subcategory, and the slice number it falls in."""
    table = pd.DataFrame(
        {"class": np.asarray(class_names, dtype=object)[labels], "subcategory": subcategories_of(video_names)}
    )
    table["slice"] = table.groupby(["class", "subcategory"], sort=True).ngroup()
    return table


def _confusions(groups: np.ndarray, labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    # One bincount for all slices: f1_score per slice costs a millisecond each, and a split of
    # 100k videos with per-video folders would have 100k slices.
    flat = (groups * k + labels) * k + predicted
    return np.bincount(flat, minlength=(groups.max() + 1) * k * k).reshape(-1, k, k)


def per_class_f1(confusion: np.ndarray) -> np.ndarray:
    """F1 per class [slices, K] in percent from confusion counts [slices, true, predicted], as
    scikit-learn's `f1_score(average=None, zero_division=0)` computes it."""
    correct = np.diagonal(confusion, axis1=1, axis2=2).astype(np.float64)
    denominator = confusion.sum(axis=2) + confusion.sum(axis=1)
    return 100.0 * np.divide(2 * correct, denominator, out=np.zeros_like(correct), where=denominator > 0)


def slice_rows(
    split: str,
    labels: np.ndarray,
    video_names: Sequence[str],
    class_names: Sequence[str],
    predictors: Mapping[str, np.ndarray],
) -> list[dict[str, object]]:
    """Per slice and predictor: videos, accuracy and per-class F1 (percent)."""
    keys = slice_keys(labels, video_names, class_names)
    groups = keys["slice"].to_numpy()
    first = keys.drop_duplicates("slice").set_index("slice").sort_index()
    sizes = np.bincount(groups)
    rows = []
    for name, probabilities in predictors.items():
        predicted = probabilities.argmax(axis=1)
        right = np.bincount(groups, weights=(predicted == labels).astype(np.float64))
        f1 = per_class_f1(_confusions(groups, labels, predicted, len(class_names)))
        for g in range(len(sizes)):
            rows.append(
                {
                    "split": split,
                    "class": first.at[g, "class"],
                    "subcategory": first.at[g, "subcategory"],
                    "videos": int(sizes[g]),
                    "predictor": name,
                    "accuracy": round(100.0 * right[g] / sizes[g], 4),
                    "f1_per_class": {c: round(float(v), 4) for c, v in zip(class_names, f1[g], strict=True)},
                }
            )
    return rows


def worst_first(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Lowest accuracy first; among equals the bigger slice (more videos affected) first."""
    return sorted(rows, key=lambda r: (r["accuracy"], -r["videos"], r["split"], r["class"], r["subcategory"]))
