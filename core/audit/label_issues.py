"""Likely wrong labels, by cleanlab's confident learning on the ensemble's probabilities.

Confident learning estimates, per class, how sure the model usually is on videos it labels right,
and flags videos whose given label falls below that while another class clears it; no fixed
probability threshold is chosen here. It is only sound on out-of-sample probabilities: on the
training split the members have fitted the very labels being checked, so its list is kept apart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

OUT_OF_SAMPLE_SPLITS: tuple[str, ...] = ("test", "val")
RANKED_BY = "self_confidence"


def label_check_problem(split: str, labels: np.ndarray, class_names: Sequence[str]) -> str | None:
    """Why confident learning cannot run on this split, in one line; None when it can."""
    if len(labels) < 2:
        return f"{split}: {len(labels)} video, too few to check its labels against each other"
    present = np.unique(labels)
    if len(present) < 2:
        only = class_names[int(present[0])] if len(present) else "no"
        return (
            f"{split}: every video is labelled {only}; confident learning compares classes, "
            "so its labels are not checked (add videos of the other classes)"
        )
    return None


def label_issues(
    split: str,
    labels: np.ndarray,
    probabilities: np.ndarray,
    video_names: Sequence[str],
    class_names: Sequence[str],
) -> list[dict[str, object]]:
    """Videos whose given label the ensemble's probabilities contradict, most likely wrong first.
    `score` is 1 - cleanlab's self-confidence: how little probability the given label received."""
    labels = np.asarray(labels, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    ranked = find_label_issues(labels, probabilities, return_indices_ranked_by=RANKED_BY, n_jobs=1)
    quality = get_label_quality_scores(labels, probabilities, method=RANKED_BY)
    suggested = probabilities.argmax(axis=1)
    return [
        {
            "video": video_names[i],
            "split": split,
            "label": class_names[int(labels[i])],
            "suggested": class_names[int(suggested[i])],
            "score": round(float(1.0 - quality[i]), 6),
        }
        for i in ranked.tolist()
    ]
