"""What a promotion would change, measured on the validation split before it happens.

The ensemble as it is and the ensemble with the candidate in the member's place are scored on the
same videos, unaugmented: accuracy, one class's F1 (the class the member was retrained for),
the videos fixed and broken, and McNemar's exact p. The choice is made on validation, never on the
test split, so the test numbers stay an unbiased measure of what was chosen.

A candidate is *worse* when the ensemble's accuracy or that class's F1 falls; promoting a worse
candidate needs an explicit confirmation naming what falls (`--accept-worse`, or the panel's
second tick box).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.evaluation.run_compare import compare_runs
from core.evaluation.runs import EvaluationRun, apply_swaps, run_evaluation
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.inference import ENSEMBLE
from core.paths import checkpoint_file_name
from core.training.member import TrainingError


def _videos(count: int) -> str:
    return f"{count} video" if count == 1 else f"{count} videos"


@dataclass(frozen=True)
class PromotionReview:
    """The ensemble before (as it is) and after (with the candidate), on one split."""

    split_file: str
    videos: int
    class_name: str
    accuracy_before: float
    accuracy_after: float
    class_f1_before: float
    class_f1_after: float
    fixed: int
    broken: int
    p_value: float

    @property
    def worse(self) -> list[str]:
        """What falls with the candidate, in words; empty when nothing does."""
        falls = []
        if self.accuracy_after < self.accuracy_before:
            falls.append(
                f"ensemble accuracy falls from {self.accuracy_before:.1f}% to {self.accuracy_after:.1f}% "
                f"({_videos(self.broken)} broken, {self.fixed} fixed)"
            )
        if self.class_f1_after < self.class_f1_before:
            falls.append(
                f"{self.class_name} F1 falls from {self.class_f1_before:.1f}% to {self.class_f1_after:.1f}%"
            )
        return falls

    def lines(self) -> list[str]:
        return [
            f"on {self.split_file} ({self.videos} videos), the ensemble as it is -> with the candidate:",
            f"  accuracy {self.accuracy_before:.1f}% -> {self.accuracy_after:.1f}%",
            f"  {self.class_name} F1 {self.class_f1_before:.1f}% -> {self.class_f1_after:.1f}%",
            f"  videos fixed {self.fixed}, broken {self.broken}; McNemar exact p {self.p_value:.3g}",
        ]


def weakest_class(run: EvaluationRun, member: str) -> int:
    """The class the member does worst on, alone, in `run`: the one it was retrained for."""
    return int(np.argmin(run.scores[member].f1_per_class))


def review_runs(original: EvaluationRun, swapped: EvaluationRun, class_index: int) -> PromotionReview:
    """The review from two stored runs on the same videos (the second with the member swapped)."""
    comparison = compare_runs(original, swapped, ENSEMBLE)
    before, after = original.scores[ENSEMBLE], swapped.scores[ENSEMBLE]
    return PromotionReview(
        split_file=Path(original.features_file).name,
        videos=original.num_videos,
        class_name=original.class_names[class_index],
        accuracy_before=before.accuracy,
        accuracy_after=after.accuracy,
        class_f1_before=before.f1_per_class[class_index],
        class_f1_after=after.f1_per_class[class_index],
        fixed=comparison.wrong_to_right,
        broken=comparison.right_to_wrong,
        p_value=comparison.mcnemar.p_value,
    )


def review_candidate(
    models_dir: Path,
    member: int,
    candidate_checkpoint: Path,
    features_path: Path,
    *,
    class_name: str | None = None,
    device: torch.device | str | None = None,
) -> PromotionReview:
    """Evaluate both ensembles on `features_path` and review the candidate on `class_name`
    (default: the member's weakest class there)."""
    ensemble = find_ensemble_checkpoints(models_dir)
    swapped, record = apply_swaps(ensemble, {member: candidate_checkpoint})
    original = run_evaluation(ensemble, features_path, tta_modes=(), device=device)
    with_candidate = run_evaluation(swapped, features_path, tta_modes=(), device=device, swaps=record)
    if class_name is None:
        return review_runs(
            original, with_candidate, weakest_class(original, checkpoint_file_name(member)[:-3])
        )
    if class_name not in original.class_names:
        raise TrainingError(
            f"--class {class_name!r}: not a class of {features_path.name} ({original.class_names})"
        )
    return review_runs(original, with_candidate, original.class_names.index(class_name))


def check_accepted(review: PromotionReview, accept_worse: bool) -> None:
    """Refuse a candidate that is worse on validation unless that was explicitly accepted."""
    if review.worse and not accept_worse:
        raise TrainingError(
            f"on {review.split_file} the candidate makes the ensemble worse: {'; '.join(review.worse)}; "
            "nothing was changed (pass --accept-worse to promote it anyway)"
        )
