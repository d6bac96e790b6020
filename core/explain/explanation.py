"""One explanation of one verdict: step scores by a method, their deletion curve beside the random
curve, and the comparison that says which method is the most faithful on a clip."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.explain.deletion import curve_area, deletion_curve, random_deletion_curve
from core.explain.predictor import ExplainedPredictor
from core.explain.temporal import METHODS, step_scores

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Explanation:
    video: str
    member: str
    target: str
    method: str
    steps: np.ndarray
    """Score per stored time step of the real sequence."""
    deletion_curve: np.ndarray
    """p(target) with the k most-attributed steps removed, k = 0..T-1."""
    random_deletion_curve: np.ndarray
    """The same for random orders, averaged."""

    @property
    def deletion_area(self) -> float:
        return curve_area(self.deletion_curve)

    @property
    def random_deletion_area(self) -> float:
        return curve_area(self.random_deletion_curve)

    @property
    def faithfulness(self) -> float:
        """Random area minus this ranking's area: above 0, removing the top steps first hurts the
        class more than removing steps at random."""
        return self.random_deletion_area - self.deletion_area

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "member": self.member,
            "target": self.target,
            "method": self.method,
            "steps": _rounded(self.steps),
            "deletion_curve": _rounded(self.deletion_curve),
            "random_deletion_curve": _rounded(self.random_deletion_curve),
            "deletion_area": round(self.deletion_area, 6),
            "random_deletion_area": round(self.random_deletion_area, 6),
        }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def explain(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    method: str,
    *,
    video: str,
    class_names: Sequence[str],
    random_curve: np.ndarray | None = None,
) -> Explanation:
    """Scores by `method` for the clip's real sequence [T, D], with their faithfulness; pass the
    clip's `random_curve` when it is already known (it does not depend on the method)."""
    scores = step_scores(predictor, sequence, method)
    return Explanation(
        video=video,
        member=predictor.name,
        target=class_names[predictor.target],
        method=method,
        steps=scores,
        deletion_curve=deletion_curve(predictor, sequence, scores),
        random_deletion_curve=(
            random_deletion_curve(predictor, sequence) if random_curve is None else random_curve
        ),
    )


def explain_all(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    *,
    video: str,
    class_names: Sequence[str],
    progress: ProgressCallback | None = None,
) -> dict[str, Explanation]:
    """Every method on one clip, sharing one random curve; progress(done, total) after each part."""
    total = len(METHODS) + 1
    random_curve = random_deletion_curve(predictor, sequence)
    if progress is not None:
        progress(1, total)
    explanations = {}
    for done, method in enumerate(METHODS, start=2):
        explanations[method] = explain(
            predictor, sequence, method, video=video, class_names=class_names, random_curve=random_curve
        )
        if progress is not None:
            progress(done, total)
    return explanations


def most_faithful(explanations: Sequence[Explanation]) -> Explanation:
    """The explanation whose deletion curve falls furthest below the random one."""
    return max(explanations, key=lambda e: e.faithfulness)
