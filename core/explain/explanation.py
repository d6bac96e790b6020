"""One explanation of one verdict: step scores by a method, their deletion curve beside each random
order's, whether the ranking is faithful on this clip, and which faithful method (if any) is the
most faithful.

The rule: a ranking is faithful on a clip only when its deletion area is below the area of every
random order. With `RANDOM_ORDERS` orders, a ranking no better than chance passes about once in
`RANDOM_ORDERS + 1` clips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.explain.deletion import (
    MAX_CURVE_POINTS,
    curve_area,
    curve_points,
    deletion_curves,
    random_orders,
    ranking,
)
from core.explain.predictor import ExplainedPredictor
from core.explain.temporal import METHODS, step_scores

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RandomBaseline:
    """The deletion curves of the random orders of one clip (they do not depend on the method)."""

    points: np.ndarray
    """Removal counts k the curves are measured at."""
    curves: np.ndarray
    """[orders, points]: p(target) with the first k steps of each random order removed."""
    steps: int

    @property
    def areas(self) -> np.ndarray:
        return np.array([curve_area(curve, self.points, self.steps) for curve in self.curves])

    @property
    def subsampled(self) -> bool:
        return len(self.points) < self.steps


@dataclass(frozen=True)
class Explanation:
    video: str
    member: str
    target: str
    method: str
    steps: np.ndarray
    """Score per stored time step of the real sequence."""
    deletion_curve: np.ndarray
    """p(target) with the k most-attributed steps removed, at each k of `random.points`."""
    random: RandomBaseline

    @property
    def points(self) -> np.ndarray:
        return self.random.points

    @property
    def deletion_area(self) -> float:
        return curve_area(self.deletion_curve, self.points, len(self.steps))

    @property
    def random_deletion_areas(self) -> np.ndarray:
        return self.random.areas

    @property
    def random_deletion_curve(self) -> np.ndarray:
        """The random orders' mean curve."""
        return self.random.curves.mean(axis=0)

    @property
    def faithful(self) -> bool:
        """Below every random order's area."""
        return bool(self.deletion_area < self.random_deletion_areas.min())

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "member": self.member,
            "target": self.target,
            "method": self.method,
            "steps": _rounded(self.steps),
            "deletion_curve": _rounded(self.deletion_curve),
            "random_deletion_curve": _rounded(self.random_deletion_curve),
            "removed_steps": [int(k) for k in self.points],
            "curve_subsampled": self.random.subsampled,
            "deletion_area": round(self.deletion_area, 6),
            "random_deletion_areas": _rounded(self.random_deletion_areas),
            "faithful": self.faithful,
        }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def explanations_of_scores(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    video: str,
    class_names: Sequence[str],
) -> dict[str, Explanation]:
    """Every method's curve and the random orders' curves from one shared set of remaining clips."""
    steps = len(sequence)
    points = curve_points(steps)
    orders = random_orders(steps)
    curves = deletion_curves(predictor, sequence, [*orders, *(ranking(s) for s in scores.values())], points)
    baseline = RandomBaseline(points, curves[: len(orders)], steps)
    return {
        method: Explanation(
            video=video,
            member=predictor.name,
            target=class_names[predictor.target],
            method=method,
            steps=method_scores,
            deletion_curve=curve,
            random=baseline,
        )
        for (method, method_scores), curve in zip(scores.items(), curves[len(orders) :], strict=True)
    }


def explain(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    method: str,
    *,
    video: str,
    class_names: Sequence[str],
) -> Explanation:
    """Scores by `method` for the clip's real sequence [T, D], with their faithfulness."""
    scores = {method: step_scores(predictor, sequence, method)}
    return explanations_of_scores(predictor, sequence, scores, video=video, class_names=class_names)[method]


def explain_all(
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    *,
    video: str,
    class_names: Sequence[str],
    progress: ProgressCallback | None = None,
) -> dict[str, Explanation]:
    """Every method on one clip, their deletion curves and the random orders' measured together;
    progress(done, total) after each part (each method's scores, then the curves)."""
    total = len(METHODS) + 1
    scores = {}
    for done, method in enumerate(METHODS, start=1):
        scores[method] = step_scores(predictor, sequence, method)
        if progress is not None:
            progress(done, total)
    explained = explanations_of_scores(predictor, sequence, scores, video=video, class_names=class_names)
    if progress is not None:
        progress(total, total)
    return explained


def faithful_methods(explanations: Sequence[Explanation]) -> list[Explanation]:
    """The faithful ones, lowest deletion area first."""
    return sorted((e for e in explanations if e.faithful), key=lambda e: e.deletion_area)


def most_faithful(explanations: Sequence[Explanation]) -> Explanation | None:
    """The faithful explanation with the lowest deletion area; None when none is faithful."""
    faithful = faithful_methods(explanations)
    return faithful[0] if faithful else None


def curve_note(explanation: Explanation) -> str:
    """How the curves were measured on a long clip; empty when at every removal count."""
    if not explanation.random.subsampled:
        return ""
    return (
        f"this clip has {len(explanation.steps)} steps, so the deletion curves are measured at "
        f"{len(explanation.points)} removal counts (the first few, then {MAX_CURVE_POINTS} evenly "
        "spaced), not after every step"
    )
