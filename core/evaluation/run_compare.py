"""Stored evaluation runs side by side: a listing table, and the difference between two runs on
the same videos (metrics, flipped videos, McNemar's exact test)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.evaluation.metrics import McNemarResult, mcnemar_exact
from core.evaluation.run_members import file_used, listed_members, run_time
from core.evaluation.runs import EvaluationRun
from core.model.inference import ENSEMBLE, ENSEMBLE_TTA

RIGHT_TO_WRONG = "right → wrong"
WRONG_TO_RIGHT = "wrong → right"


class RunMismatchError(ValueError):
    """Two runs that cannot be compared video by video."""


# What tells runs apart first (scores, members, modes), so a narrow window cuts off only details.
RUN_COLUMNS: tuple[str, ...] = (
    "run", "ensemble accuracy", "ensemble F1", "ensemble+TTA accuracy", "ensemble+TTA F1",
    "members", "TTA modes", "videos", "features", "created (UTC)", "device", "seconds",
)  # fmt: skip


def _headline(run: EvaluationRun, predictor: str) -> tuple[float | None, float | None]:
    scores = run.scores.get(predictor)
    return (None, None) if scores is None else (scores.accuracy, scores.f1_weighted)


def _augmented_modes(run: EvaluationRun) -> str:
    return ", ".join(m for m in run.tta_modes if m != "original") or "off"


FileUsed = Callable[[EvaluationRun, str], str]


def _file_named_in_run(run: EvaluationRun, member: str) -> str:
    return file_used(run, member, Path("/"), ())


def composition_differences(a: EvaluationRun, b: EvaluationRun, used: FileUsed | None = None) -> list[str]:
    """How the two runs' ensembles differ (members, TTA modes): then "Ensemble" in A and in B are
    different predictors, and their comparison says so. `used(run, member)` names the file a member
    was in a run (`run_members.file_used` with the folder's promotions); by default the file the
    run names, or the swapped-in checkpoint."""
    used = used or _file_named_in_run
    notes = []
    if list(a.members) != list(b.members):
        only_a = [m for m in a.members if m not in b.members]
        only_b = [m for m in b.members if m not in a.members]
        notes.append(
            f"members differ: A has {len(a.members)}, B has {len(b.members)}"
            + (f"; only in A: {', '.join(only_a)}" if only_a else "")
            + (f"; only in B: {', '.join(only_b)}" if only_b else "")
        )
    for member in sorted(set(a.swaps) | set(b.swaps)):
        if a.swaps.get(member) != b.swaps.get(member):
            notes.append(f"{member} is swapped: A uses {used(a, member)}, B uses {used(b, member)}")
    if _augmented_modes(a) != _augmented_modes(b):
        notes.append(f"TTA modes differ: A {_augmented_modes(a)}, B {_augmented_modes(b)}")
    return notes


def run_row(path: Path, run: EvaluationRun, root: Path | None = None) -> dict[str, Any]:
    """What one run is (when, on what, with what) and its headline numbers (percent); a swapped
    member under the candidate's name (read from its folder only inside the project `root`)."""
    values = (
        path.name,
        *_headline(run, ENSEMBLE),
        *_headline(run, ENSEMBLE_TTA),
        listed_members(run, root),
        _augmented_modes(run),
        run.num_videos,
        Path(run.features_file).name,
        run.created_utc,
        run.device,
        run.elapsed_s,
    )
    return dict(zip(RUN_COLUMNS, values, strict=True))


def runs_table(runs: Sequence[tuple[Path, EvaluationRun]], root: Path | None = None) -> pd.DataFrame:
    """One row per run, in the order given (`list_runs` gives newest first)."""
    return pd.DataFrame([run_row(path, run, root) for path, run in runs], columns=RUN_COLUMNS)


def check_same_videos(a: EvaluationRun, b: EvaluationRun) -> None:
    if a.video_names != b.video_names:
        raise RunMismatchError(
            f"the runs are on different videos ({Path(a.features_file).name}: {a.num_videos}, "
            f"{Path(b.features_file).name}: {b.num_videos}); choose two runs on the same features file"
        )
    if not np.array_equal(a.labels, b.labels):
        raise RunMismatchError(
            "the runs list the same videos with different true classes; "
            "re-extract the features file or choose two runs on the same file"
        )


def common_predictors(a: EvaluationRun, b: EvaluationRun) -> list[str]:
    return [name for name in a.predictor_names if name in b.scores]


def metric_differences(a: EvaluationRun, b: EvaluationRun) -> pd.DataFrame:
    """Per predictor present in both runs: accuracy and weighted F1 of each, and B minus A."""
    rows = []
    for name in common_predictors(a, b):
        row: dict[str, Any] = {"predictor": name}
        first, second = a.scores[name], b.scores[name]
        for label, value_a, value_b in (
            ("accuracy", first.accuracy, second.accuracy),
            ("F1", first.f1_weighted, second.f1_weighted),
        ):
            row.update({f"{label} A": value_a, f"{label} B": value_b, f"{label} B−A": value_b - value_a})
        rows.append(row)
    return pd.DataFrame(rows)


def class_f1_differences(a: EvaluationRun, b: EvaluationRun, predictor: str) -> pd.DataFrame:
    """Per class: the predictor's F1 in A and in B (percent) and B minus A."""
    first, second = a.scores[predictor].f1_per_class, b.scores[predictor].f1_per_class
    return pd.DataFrame(
        {
            "class": list(a.class_names),
            "F1 A": list(first),
            "F1 B": list(second),
            "F1 B−A": [y - x for x, y in zip(first, second, strict=True)],
        }
    )


def predicted_classes(run: EvaluationRun, predictor: str) -> np.ndarray:
    predictors = run.predictor_probabilities()
    if predictor not in predictors:
        raise RunMismatchError(f"predictor {predictor!r} is not in the run; choose one of {list(predictors)}")
    return predictors[predictor].argmax(axis=1)


@dataclass(frozen=True)
class RunComparison:
    predictor: str
    differences: pd.DataFrame
    flipped: pd.DataFrame
    mcnemar: McNemarResult
    class_f1: pd.DataFrame

    @property
    def right_to_wrong(self) -> int:
        return int((self.flipped["change"] == RIGHT_TO_WRONG).sum())

    @property
    def wrong_to_right(self) -> int:
        return int((self.flipped["change"] == WRONG_TO_RIGHT).sum())


def flipped_videos(
    video_names: Sequence[str],
    class_names: Sequence[str],
    labels: np.ndarray,
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
) -> pd.DataFrame:
    """Videos right in one run and wrong in the other, with both verdicts."""
    right_a, right_b = predicted_a == labels, predicted_b == labels
    rows = np.flatnonzero(right_a != right_b)
    return pd.DataFrame(
        {
            "video": [video_names[i] for i in rows],
            "true_class": [class_names[labels[i]] for i in rows],
            "predicted A": [class_names[predicted_a[i]] for i in rows],
            "predicted B": [class_names[predicted_b[i]] for i in rows],
            "change": [RIGHT_TO_WRONG if right_a[i] else WRONG_TO_RIGHT for i in rows],
        },
        columns=["video", "true_class", "predicted A", "predicted B", "change"],
    )


def compare_runs(a: EvaluationRun, b: EvaluationRun, predictor: str) -> RunComparison:
    """Run B against run A for one predictor; the runs must cover the same videos and labels."""
    check_same_videos(a, b)
    labels = a.labels
    predicted_a, predicted_b = predicted_classes(a, predictor), predicted_classes(b, predictor)
    flipped = flipped_videos(a.video_names, a.class_names, labels, predicted_a, predicted_b)
    return RunComparison(
        predictor=predictor,
        differences=metric_differences(a, b),
        flipped=flipped,
        mcnemar=mcnemar_exact(labels, predicted_a, predicted_b),
        class_f1=class_f1_differences(a, b, predictor),
    )


def last_changed(paths: Sequence[Path]) -> datetime:
    """When the newest of `paths` was last written, to the second (runs record their time so)."""
    newest = max(p.stat().st_mtime for p in paths)
    return datetime.fromtimestamp(int(newest), UTC)


def _made_since(run: EvaluationRun, moment: datetime) -> bool:
    created = run_time(run)
    return created is not None and created >= moment


def latest_swap_pair(
    runs: Sequence[tuple[Path, EvaluationRun]],
    features_file: Path,
    checkpoints: Sequence[Path],
    member: str,
    candidate: Path,
) -> tuple[tuple[Path, EvaluationRun] | None, tuple[Path, EvaluationRun] | None]:
    """The newest unaugmented run on `features_file` of the ensemble `checkpoints` as it is, and
    the newest with `member` swapped for `candidate` (`runs` newest first, as `list_runs` gives).
    Runs older than the last change of those files (a promotion or a restore since) are not theirs."""
    features, swapped = str(features_file.resolve()), {member: str(candidate.resolve())}
    ensemble = [str(p.resolve()) for p in checkpoints]
    changed = last_changed([*checkpoints, candidate])
    plain = [
        (path, run)
        for path, run in runs
        if run.features_file == features and run.tta_modes == ["original"] and _made_since(run, changed)
    ]
    original = next((item for item in plain if not item[1].swaps and item[1].checkpoints == ensemble), None)
    with_candidate = next((item for item in plain if item[1].swaps == swapped), None)
    return original, with_candidate
