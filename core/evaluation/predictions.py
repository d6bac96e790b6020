"""Everything the dashboard shows about a split's predictions, computed from stored probabilities.

`SplitPredictions` holds the [members, modes, videos, classes] softmax array of one ensemble on
one split (from the inference engine or a stored evaluation run); its methods give the tables
the pages draw, so each number on screen has a function a test can call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.evaluation.metrics import (
    McNemarResult,
    Scores,
    bootstrap_ci,
    collapsed_classes,
    compute_metrics,
    mcnemar_exact,
    pairwise_agreement,
)
from core.model.inference import ENSEMBLE, combine_probabilities, predictor_probabilities

# Re-exported: the pages name the ensemble predictors through this module.
from core.model.inference import ENSEMBLE_TTA as ENSEMBLE_TTA

if TYPE_CHECKING:
    from core.evaluation.runs import EvaluationRun



@dataclass
class SplitPredictions:
    member_names: list[str]
    modes: list[str]
    probabilities: np.ndarray
    labels: np.ndarray
    video_names: list[str]
    class_names: list[str]

    @classmethod
    def from_run(cls, run: EvaluationRun) -> SplitPredictions:
        return cls(
            member_names=list(run.members),
            modes=list(run.tta_modes),
            probabilities=run.probabilities,
            labels=run.labels,
            video_names=list(run.video_names),
            class_names=list(run.class_names),
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_tta(self) -> bool:
        return len(self.modes) > 1

    @cached_property
    def _predictors(self) -> dict[str, np.ndarray]:
        return predictor_probabilities(self.probabilities, self.member_names, self.modes)

    @property
    def predictor_names(self) -> list[str]:
        return list(self._predictors)

    def mode_index(self, mode: str) -> int:
        return self.modes.index(mode)

    def compose(
        self,
        members: Sequence[str] | None = None,
        weights: Sequence[float] | None = None,
        modes: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Soft-vote probabilities [N, K] of a member subset with weights over the chosen modes."""
        chosen = self.member_names if members is None else list(members)
        indices = [self.member_names.index(m) for m in chosen]
        mode_indices = [self.mode_index(m) for m in (modes or ["original"])]
        return combine_probabilities(self.probabilities, indices, weights, mode_indices)

    def predictor_probabilities(self, name: str) -> np.ndarray:
        """[videos, classes] of a member (unaugmented), the ensemble, or the ensemble with TTA."""
        return self._predictors[name]

    def predictions(self, name: str) -> np.ndarray:
        return self.predictor_probabilities(name).argmax(axis=1)

    def metrics(self, name: str) -> Scores:
        return compute_metrics(self.labels, self.predictions(name), self.num_classes)

    def metrics_of(self, probabilities: np.ndarray) -> Scores:
        return compute_metrics(self.labels, probabilities.argmax(axis=1), self.num_classes)

    def headline_table(self, n_resamples: int = 2000) -> pd.DataFrame:
        """Accuracy and weighted F1 with 95% bootstrap intervals, one row per predictor."""
        rows = []
        for name in self.predictor_names:
            predicted = self.predictions(name)
            metrics = compute_metrics(self.labels, predicted, self.num_classes)
            ci = bootstrap_ci(self.labels, predicted, self.num_classes, n_resamples=n_resamples)
            rows.append(
                {
                    "predictor": name,
                    "accuracy": metrics.accuracy,
                    "accuracy_low": ci["accuracy"].low,
                    "accuracy_high": ci["accuracy"].high,
                    "f1_weighted": metrics.f1_weighted,
                    "f1_low": ci["f1_weighted"].low,
                    "f1_high": ci["f1_weighted"].high,
                }
            )
        return pd.DataFrame(rows)

    def per_class_table(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """Long table: predictor, class, precision, recall, F1, support (percent)."""
        rows = []
        for name in names or self.predictor_names:
            metrics = self.metrics(name)
            for k, class_name in enumerate(self.class_names):
                rows.append(
                    {
                        "predictor": name,
                        "class": class_name,
                        "precision": metrics.precision_per_class[k],
                        "recall": metrics.recall_per_class[k],
                        "f1": metrics.f1_per_class[k],
                        "support": metrics.support_per_class[k],
                    }
                )
        return pd.DataFrame(rows)

    def summary_table(self) -> pd.DataFrame:
        """Per predictor: accuracy, weighted F1 and one F1 column per class."""
        return pd.DataFrame(
            [summary_row(name, self.metrics(name), self.class_names) for name in self.predictor_names]
        )

    def mcnemar(self, a: str, b: str) -> McNemarResult:
        return mcnemar_exact(self.labels, self.predictions(a), self.predictions(b))

    def member_agreement(self) -> pd.DataFrame:
        return pairwise_agreement({name: self.predictions(name) for name in self.member_names})

    def collapsed_members(self, gap: float = 30.0) -> list[tuple[str, str, float, float]]:
        f1 = {name: self.metrics(name).f1_per_class for name in self.member_names}
        return collapsed_classes(f1, self.class_names, gap)

    def video_table(self) -> pd.DataFrame:
        """One row per video: names, true class, ensemble verdict, and the filters Classify offers.
        Built with array operations: it is rebuilt on reruns of splits of 100k videos."""
        ensemble = self.predictor_probabilities(ENSEMBLE)
        member_votes = np.stack([self.predictions(m) for m in self.member_names], axis=1)
        predicted = ensemble.argmax(axis=1)
        names = np.asarray(self.class_names, dtype=object)
        votes = names[member_votes]
        joined = votes[:, 0]
        for column in range(1, votes.shape[1]):
            joined = joined + ", " + votes[:, column]
        return pd.DataFrame(
            {
                "index": np.arange(len(self.video_names)),
                "video": self.video_names,
                "subcategory": subcategories_of(self.video_names),
                "true_class": names[self.labels],
                "predicted_class": names[predicted],
                "confidence": 100.0 * ensemble.max(axis=1),
                "correct": predicted == self.labels,
                "members_disagree": (member_votes != member_votes[:, :1]).any(axis=1),
                "member_votes": joined,
            }
        )

    def disagreement_videos(self) -> pd.DataFrame:
        table = self.video_table()
        return table[table["members_disagree"]].reset_index(drop=True)

    def videos_in_cell(self, predictor: str, true_class: int, predicted_class: int) -> pd.DataFrame:
        """Videos of one confusion-matrix cell (row = true class) with the predictor's confidence."""
        probabilities = self.predictor_probabilities(predictor)
        predicted = probabilities.argmax(axis=1)
        rows = np.flatnonzero((self.labels == true_class) & (predicted == predicted_class))
        return pd.DataFrame(
            {
                "index": rows,
                "video": [self.video_names[i] for i in rows],
                "true_class": self.class_names[true_class],
                "predicted_class": self.class_names[predicted_class],
                "confidence": 100.0 * probabilities[rows, predicted_class],
            }
        )

    def per_video_predictions(self) -> pd.DataFrame:
        """Every predictor's verdict and confidence per video (the CSV download)."""
        table = pd.DataFrame(
            {"video": self.video_names, "true_class": [self.class_names[k] for k in self.labels]}
        )
        for name in self.predictor_names:
            probabilities = self.predictor_probabilities(name)
            table[f"{name}_predicted"] = [self.class_names[k] for k in probabilities.argmax(axis=1)]
            table[f"{name}_confidence"] = 100.0 * probabilities.max(axis=1)
        return table


def summary_row(name: str, metrics: Scores, class_names: Sequence[str]) -> dict[str, Any]:
    """One predictor's accuracy, weighted F1 and per-class F1 (`F1 <class>` columns)."""
    row: dict[str, Any] = {"predictor": name, "accuracy": metrics.accuracy}
    row["f1_weighted"] = metrics.f1_weighted
    row.update({f"F1 {c}": f for c, f in zip(class_names, metrics.f1_per_class, strict=True)})
    return row


def subcategories_of(video_names: Sequence[str]) -> list[str]:
    """`subcategory_of` of every name; plain string splits, as `Path` is slow for 100k names."""
    out = []
    for name in video_names:
        parts = [part for part in name.split("/") if part not in ("", ".")]
        out.append(parts[-2] if len(parts) >= 3 else "")
    return out


def subcategory_of(video_name: str) -> str:
    parts = Path(video_name).parts
    return parts[-2] if len(parts) >= 3 else ""


def recorded_vs_recomputed(
    recorded: Mapping[str, Mapping[str, Any]], split: SplitPredictions
) -> pd.DataFrame:
    """Per checkpoint: numbers recorded at training time (accuracy, weighted F1, and per-class F1
    where recorded) next to the dashboard's recomputation on `split`, with the differences
    (recomputed minus recorded, percentage points)."""
    rows = []
    for name in split.member_names:
        entry = recorded.get(name, {})
        now = split.metrics(name)
        class_f1 = entry.get("f1_per_class") or (None,) * split.num_classes
        pairs = [("accuracy", entry.get("accuracy"), now.accuracy)]
        pairs.append(("weighted F1", entry.get("f1_weighted"), now.f1_weighted))
        pairs += [
            (f"F1 {class_name}", then, value)
            for class_name, then, value in zip(split.class_names, class_f1, now.f1_per_class, strict=True)
        ]
        row: dict[str, Any] = {"checkpoint": name}
        for label, then, value in pairs:
            row[f"{label} recorded"] = then
            row[f"{label} recomputed"] = value
            row[f"{label} difference"] = None if then is None else value - float(then)
        rows.append(row)
    return pd.DataFrame(rows)


def recorded_vs_recomputed_rows(table: pd.DataFrame) -> pd.DataFrame:
    """`recorded_vs_recomputed` as one row per (checkpoint, score) with recorded, recomputed and
    difference columns: five columns whatever the number of classes, so none is cut off on screen."""
    scores = [c.removesuffix(" recorded") for c in table.columns if c.endswith(" recorded")]
    rows = [
        {
            "checkpoint": row["checkpoint"],
            "score": score,
            "recorded": row[f"{score} recorded"],
            "recomputed": row[f"{score} recomputed"],
            "difference": row[f"{score} difference"],
        }
        for _, row in table.iterrows()
        for score in scores
    ]
    return pd.DataFrame(rows, columns=["checkpoint", "score", "recorded", "recomputed", "difference"])
