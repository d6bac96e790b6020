"""Why one ensemble member fails on one class, and what it costs the ensemble.

Everything the Collapse inspector shows: the member's per-class F1 beside the others' (recorded
at training time and recomputed), where its videos of the class went, how sure it was, when the
class's validation F1 fell during training, and the ensemble with vs without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.evaluation.metrics import McNemarResult, Scores, compute_metrics, mcnemar_exact
from core.evaluation.predictions import SplitPredictions
from core.model.checkpoints import ensemble_member_number

UNAUGMENTED = ("original",)
# A member's median probability for the true class below this is a confident mistake; below
# UNDECIDED_BELOW (but above this) it leans away without conviction.
CONFIDENT_BELOW = 0.2
UNDECIDED_BELOW = 0.5


def member_number(name: str, position: int) -> int:
    """The history table's model number of a member: `<name>.pt`'s n, else its 1-based position."""
    return ensemble_member_number(Path(f"{name}.pt")) or position


def weakest_class(split: SplitPredictions, member: str) -> int:
    """The class on which `member`'s F1 falls furthest below the other members' median."""
    mine = np.asarray(split.metrics(member).f1_per_class)
    others = [np.asarray(split.metrics(m).f1_per_class) for m in split.member_names if m != member]
    if not others:
        return int(mine.argmin())
    return int((np.median(others, axis=0) - mine).argmax())


def class_f1_comparison(split: SplitPredictions, recorded: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per member: `<class> recorded` and `<class> recomputed` F1 (percent; recorded is
    None where training did not record it)."""
    rows = []
    for name in split.member_names:
        recorded_f1 = recorded.get(name, {}).get("f1_per_class") or (None,) * split.num_classes
        row: dict[str, Any] = {"member": name}
        for class_name, then, now in zip(
            split.class_names, recorded_f1, split.metrics(name).f1_per_class, strict=True
        ):
            row[f"{class_name} recorded"] = then
            row[f"{class_name} recomputed"] = now
        rows.append(row)
    return pd.DataFrame(rows)


def confusion_rows(split: SplitPredictions, class_index: int) -> pd.DataFrame:
    """Per member: where the videos of `class_index` went, as percent of them per predicted class,
    plus how many there are."""
    videos = split.labels == class_index
    count = int(videos.sum())
    rows = []
    for name in split.member_names:
        predicted = split.predictions(name)[videos]
        shares = np.bincount(predicted, minlength=split.num_classes) / max(count, 1) * 100.0
        rows.append({"member": name, "videos": count, **dict(zip(split.class_names, shares, strict=True))})
    return pd.DataFrame(rows)


def class_probabilities(split: SplitPredictions, class_index: int) -> pd.DataFrame:
    """Long table over the videos of `class_index`: each member's probability for that class."""
    videos = np.flatnonzero(split.labels == class_index)
    frames = []
    for name in split.member_names:
        probabilities = split.predictor_probabilities(name)[videos]
        frames.append(
            pd.DataFrame(
                {
                    "member": name,
                    "video": [split.video_names[i] for i in videos],
                    "probability": probabilities[:, class_index],
                    "predicted": [split.class_names[k] for k in probabilities.argmax(axis=1)],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def failure_mode(probabilities: Sequence[float]) -> str:
    """`confidently wrong`, `undecided` or `mostly right`, from the median probability a member
    gives the true class."""
    median = float(np.median(probabilities)) if len(probabilities) else float("nan")
    if median < CONFIDENT_BELOW:
        return "confidently wrong"
    if median < UNDECIDED_BELOW:
        return "undecided"
    return "mostly right"


def probability_summary(probabilities: pd.DataFrame) -> pd.DataFrame:
    """Per member: median probability for the class on its videos, the share given less than
    CONFIDENT_BELOW (percent), and the failure mode."""
    rows = []
    for name, group in probabilities.groupby("member", sort=False):
        values = group["probability"].to_numpy()
        rows.append(
            {
                "member": name,
                "median probability": float(np.median(values)),
                "confidently wrong share": 100.0 * float(np.mean(values < CONFIDENT_BELOW)),
                "mode": failure_mode(values),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class EnsembleCost:
    """The unaugmented ensemble with all members vs without one."""

    with_member: Scores
    without_member: Scores
    mcnemar: McNemarResult
    lost_without: pd.DataFrame
    """Videos the full ensemble gets right and the reduced one wrong."""
    gained_without: pd.DataFrame
    """Videos the reduced ensemble gets right and the full one wrong."""

    @property
    def accuracy_change(self) -> float:
        """Accuracy without the member minus with it, percentage points."""
        return self.without_member.accuracy - self.with_member.accuracy

    @property
    def f1_change(self) -> float:
        return self.without_member.f1_weighted - self.with_member.f1_weighted

    def comparison(self, class_names: Sequence[str]) -> pd.DataFrame:
        """Rows accuracy, weighted F1, F1 per class; columns with, without, change (pp)."""
        labels = ["accuracy", "weighted F1", *(f"F1 {c}" for c in class_names)]
        full = [self.with_member.accuracy, self.with_member.f1_weighted, *self.with_member.f1_per_class]
        reduced = [
            self.without_member.accuracy, self.without_member.f1_weighted, *self.without_member.f1_per_class
        ]  # fmt: skip
        return pd.DataFrame(
            {
                "metric": labels,
                "with": full,
                "without": reduced,
                "change": np.subtract(reduced, full),
            }
        )


def _flip_table(
    split: SplitPredictions, rows: np.ndarray, full: np.ndarray, reduced: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "video": [split.video_names[i] for i in rows],
            "true_class": [split.class_names[split.labels[i]] for i in rows],
            "with": [split.class_names[full[i]] for i in rows],
            "without": [split.class_names[reduced[i]] for i in rows],
        }
    )


def ensemble_cost(split: SplitPredictions, member: str) -> EnsembleCost:
    """Soft-vote ensemble of all members vs all but `member`, unaugmented; McNemar pairs them."""
    others = [m for m in split.member_names if m != member]
    if not others:
        raise ValueError("the ensemble has only this member; there is nothing to compare without it")
    full = split.compose(split.member_names, modes=UNAUGMENTED).argmax(axis=1)
    reduced = split.compose(others, modes=UNAUGMENTED).argmax(axis=1)
    full_right, reduced_right = full == split.labels, reduced == split.labels
    return EnsembleCost(
        with_member=compute_metrics(split.labels, full, split.num_classes),
        without_member=compute_metrics(split.labels, reduced, split.num_classes),
        mcnemar=mcnemar_exact(split.labels, full, reduced),
        lost_without=_flip_table(split, np.flatnonzero(full_right & ~reduced_right), full, reduced),
        gained_without=_flip_table(split, np.flatnonzero(~full_right & reduced_right), full, reduced),
    )


def summary_line(
    label: str, class_name: str, confusion: pd.Series, mode: str, median: float, cost: EnsembleCost
) -> str:
    """One plain sentence: where the member sends the class, how sure it is, what dropping it does.
    `confusion` is the member's `confusion_rows` row (percent per predicted class)."""
    wrong = confusion.drop(labels=[class_name, "member", "videos"], errors="ignore").astype(float)
    right = float(confusion.get(class_name, 0.0))
    if len(wrong) and float(wrong.max()) > right:
        where = f"{label} sends {wrong.max():.0f}% of {class_name} videos to {wrong.idxmax()}"
    else:
        where = f"{label} gets {right:.0f}% of {class_name} videos right"
    return f"{where} ({mode}: median probability {median:.2f} for {class_name}); {_dropping(cost)}."


def _dropping(cost: EnsembleCost) -> str:
    """What dropping the member does to the ensemble's accuracy, with the direction in words."""
    change, p = cost.accuracy_change, cost.mcnemar.p_value
    before, after = cost.with_member.accuracy, cost.without_member.accuracy
    if abs(change) < 0.05:
        return f"dropping it leaves ensemble accuracy at {before:.1f}% (p = {p:.2g})"
    verb = "raises" if change > 0 else "lowers"
    return f"dropping it {verb} ensemble accuracy from {before:.1f}% to {after:.1f}% (p = {p:.2g})"
