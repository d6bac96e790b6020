"""Evaluation runs: load an ensemble, predict a split, score every predictor, store the run.

A run is stored as a JSON file (what was run, and every predictor's scores) and a sidecar
`<run>.npz` holding the [members, modes, videos, classes] probabilities once; every predictor's
probabilities are derived from that array. Runs of format /1 kept the probabilities in the JSON,
per predictor and per member and mode; they still load.
"""

from __future__ import annotations

import json
import os
import stat
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.atomic import atomic_paths
from core.device import default_device
from core.evaluation.metrics import Scores, bootstrapped_metrics
from core.features.store import open_features
from core.model.checkpoints import find_ensemble_checkpoints, missing_ensemble_members
from core.model.ensemble import (
    Ensemble,
    class_count_problem,
    class_name_warnings,
    compatibility_problems,
    load_ensemble,
)
from core.model.inference import DEFAULT_BATCH_SIZE, predict_split, predictor_probabilities
from core.model.tta import TTA_MODES, validate_modes
from core.outputs import PlannedOutput, check_outputs

RUN_FORMAT = "video-classifier-evaluation/2"
JSON_ONLY_RUN_FORMAT = "video-classifier-evaluation/1"
SIDECAR_SUFFIX = ".npz"
ProgressCallback = Callable[[int, int], None]


class EvaluationError(ValueError):
    """An evaluation that cannot start, or a run file that cannot be read, with a one-line reason."""


class EvaluationCancelled(Exception):
    """Raised from a progress callback to stop a run; nothing is written."""


@dataclass(frozen=True, eq=False)
class EvaluationRun:
    """One evaluation: what was run on what, every predictor's scores, and the probabilities
    [members, modes, videos, classes] they come from."""

    created_utc: str
    features_file: str
    checkpoints: list[str]
    members: list[str]
    tta_modes: list[str]
    device: str
    batch_size: int
    class_names: list[str]
    video_names: list[str]
    labels: np.ndarray
    warnings: list[str]
    scores: dict[str, Scores]
    probabilities: np.ndarray
    elapsed_s: float

    @property
    def num_videos(self) -> int:
        return len(self.video_names)

    @property
    def predictor_names(self) -> list[str]:
        return list(self.scores)

    def predictor_probabilities(self) -> dict[str, np.ndarray]:
        """[videos, classes] per predictor, derived from the member/mode array."""
        return predictor_probabilities(self.probabilities, self.members, self.tta_modes)


def resolve_checkpoint_paths(
    models_dir: str | Path | None, checkpoints: Sequence[str | Path] | None
) -> tuple[list[Path], list[str]]:
    """Explicit checkpoints if given, else every `best_ensemble_model_<n>.pt`; plus warnings."""
    if checkpoints:
        return [Path(p) for p in checkpoints], []
    folder = Path(models_dir or "models_enhanced")
    found = find_ensemble_checkpoints(folder)
    if not found:
        raise EvaluationError(
            f"{folder}: no best_ensemble_model_<n>.pt checkpoints found; train some with "
            "`python -m core train` or pass --checkpoints"
        )
    missing = missing_ensemble_members(found)
    warnings = [
        f"{folder}: best_ensemble_model_{n}.pt is missing; the ensemble uses the others" for n in missing
    ]
    return found, warnings


def computed_modes(tta_modes: Sequence[str]) -> tuple[str, ...]:
    """The unaugmented pass is always computed: single members and the plain ensemble use it."""
    chosen = validate_modes(tuple(tta_modes)) if tta_modes else ()
    return ("original", *[m for m in chosen if m != "original"])


def score_predictors(
    labels: np.ndarray, predictors: Mapping[str, np.ndarray], num_classes: int
) -> dict[str, Scores]:
    return {
        name: bootstrapped_metrics(labels, probabilities.argmax(axis=1), num_classes)
        for name, probabilities in predictors.items()
    }


def usable_ensemble(checkpoint_paths: Sequence[Path], device: torch.device | str | None) -> Ensemble:
    """The members that load; a broken checkpoint is skipped (its error kept in `errors`) unless
    none loads, or the loaded ones disagree on the number of classes."""
    ensemble = load_ensemble(checkpoint_paths, device)
    if not ensemble.members:
        raise EvaluationError("no usable checkpoint: " + "; ".join(ensemble.errors))
    mixed = class_count_problem(ensemble.members)
    if mixed:
        raise EvaluationError(mixed)
    return ensemble


def run_evaluation(
    checkpoint_paths: Sequence[Path],
    features_path: str | Path,
    *,
    tta_modes: Sequence[str] = TTA_MODES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
    progress: ProgressCallback | None = None,
    warnings: Sequence[str] = (),
) -> EvaluationRun:
    """Every member, the ensemble and (with TTA modes) the ensemble with TTA, scored on a split."""
    started = time.perf_counter()
    device = torch.device(device) if device is not None else default_device()
    ensemble = usable_ensemble(checkpoint_paths, device)
    # Streamed from disk a chunk at a time: memory does not grow with the split's size.
    with open_features(features_path) as feature_set:
        feature_set.require_videos()
        problems = compatibility_problems(ensemble.members, feature_set)
        if problems:
            raise EvaluationError("; ".join(problems))
        modes = computed_modes(tta_modes)
        probabilities = predict_split(ensemble.models, feature_set, modes, batch_size, device, progress)
    predictors = predictor_probabilities(probabilities, ensemble.names, modes)
    return EvaluationRun(
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        features_file=str(Path(features_path).resolve()),
        checkpoints=[str(Path(p).resolve()) for p in checkpoint_paths],
        members=ensemble.names,
        tta_modes=list(modes),
        device=str(device),
        batch_size=batch_size,
        class_names=list(feature_set.class_names),
        video_names=list(feature_set.video_names),
        labels=feature_set.labels.astype(np.int64),
        warnings=[
            *warnings,
            *(f"skipped {error}" for error in ensemble.errors),
            *class_name_warnings(ensemble.members, feature_set),
        ],
        scores=score_predictors(feature_set.labels, predictors, len(feature_set.class_names)),
        probabilities=probabilities.astype(np.float32),
        elapsed_s=round(time.perf_counter() - started, 3),
    )


def default_run_path(runs_dir: str | Path, label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label) or "run"
    return Path(runs_dir) / f"{stamp}-{safe}.json"


def sidecar_path(path: str | Path) -> Path:
    """Where a run JSON keeps its probabilities: `<run>.npz` beside it."""
    return Path(path).with_suffix(SIDECAR_SUFFIX)


def _run_document(run: EvaluationRun, sidecar_name: str) -> dict[str, Any]:
    return {
        "format": RUN_FORMAT,
        "probabilities_file": sidecar_name,
        "created_utc": run.created_utc,
        "features_file": run.features_file,
        "checkpoints": run.checkpoints,
        "members": run.members,
        "tta_modes": run.tta_modes,
        "device": run.device,
        "batch_size": run.batch_size,
        "class_names": run.class_names,
        "video_names": run.video_names,
        "labels": run.labels.tolist(),
        "warnings": run.warnings,
        "predictors": {name: scores.to_dict() for name, scores in run.scores.items()},
        "elapsed_s": run.elapsed_s,
    }


def is_run_file(path: Path) -> bool:
    """A JSON document this project wrote as an evaluation run (either format)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b'"format": "video-classifier-evaluation/' in head


def is_run_sidecar(path: Path) -> bool:
    """An `.npz` holding exactly one `probabilities` array, as `save_run` writes it."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist() == ["probabilities.npy"]
    except (OSError, zipfile.BadZipFile):
        return False


def planned_run_outputs(path: str | Path) -> list[PlannedOutput]:
    """The two files a run writes: its JSON and the probabilities sidecar beside it."""
    path = Path(path)
    return [
        PlannedOutput(path, "evaluation run", is_run_file),
        PlannedOutput(sidecar_path(path), "probabilities sidecar", is_run_sidecar),
    ]


def check_run_outputs(path: str | Path, *, overwrite: bool = False, inputs: Sequence[Path] = ()) -> None:
    """Refuse, before any work, a run path (or its sidecar) that would replace a file the user made."""
    check_outputs(planned_run_outputs(path), overwrite=overwrite, inputs=inputs)


def save_run(run: EvaluationRun, path: str | Path) -> Path:
    """Write the sidecar and the JSON together: both land, sidecar first, or neither does, so a
    reader that sees the JSON finds its probabilities complete."""
    path = Path(path)
    if not np.isfinite(run.probabilities).all():
        raise EvaluationError(f"{path}: not written, the probabilities contain NaN or infinite values")
    sidecar = sidecar_path(path)
    try:
        document = json.dumps(_run_document(run, sidecar.name), allow_nan=False)
    except ValueError:
        raise EvaluationError(f"{path}: not written, a score is NaN or infinite") from None
    with atomic_paths([sidecar, path]) as (sidecar_tmp, run_tmp):
        with sidecar_tmp.open("wb") as handle:
            np.savez(handle, probabilities=run.probabilities.astype(np.float32))
        run_tmp.write_text(document, encoding="utf-8")
    return path


def _sidecar_of(path: Path, document: Mapping[str, Any]) -> Path:
    """The sidecar a run names: a bare file name beside the run, and a regular file. Anything else
    is refused before it is opened, so a run can neither read nor probe a file elsewhere, and a
    FIFO or device there is never waited on."""
    name = document.get("probabilities_file")
    if not isinstance(name, str) or not name:
        raise ValueError("'probabilities_file' should name the sidecar file beside the run")
    if name in (".", "..") or Path(name).name != name or "\\" in name or "/" in name:
        raise ValueError(f"'probabilities_file' must be a bare file name beside the run, found {name!r}")
    sidecar = path.parent / name
    try:
        mode = os.lstat(sidecar).st_mode
    except FileNotFoundError:
        raise ValueError(f"its probabilities file {name} is missing") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"its probabilities file {name} is not a regular file")
    return sidecar


def _stored_probabilities(path: Path, document: Mapping[str, Any]) -> np.ndarray:
    if document["format"] == JSON_ONLY_RUN_FORMAT:
        stored = np.asarray(document["member_mode_probabilities"])
    else:
        with np.load(_sidecar_of(path, document), allow_pickle=False) as sidecar:
            stored = sidecar["probabilities"]
    if not np.issubdtype(stored.dtype, np.floating) and not np.issubdtype(stored.dtype, np.integer):
        raise ValueError(f"probabilities should be real numbers, found {stored.dtype}")
    return stored.astype(np.float32)


# Fields a run must hold, with the JSON type each must have.
_REQUIRED_FIELDS: dict[str, type] = {
    "features_file": str,
    "members": list,
    "tta_modes": list,
    "class_names": list,
    "video_names": list,
    "labels": list,
    "predictors": dict,
}
_SCORE_NUMBERS = ("accuracy", "f1_weighted")


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def _check_document(document: Mapping[str, Any]) -> None:
    """Types checked before anything is built, so a hand-edited run fails with the field's name."""
    for key, kind in _REQUIRED_FIELDS.items():
        if key not in document:
            raise ValueError(f"'{key}' is missing")
        if not isinstance(document[key], kind):
            raise ValueError(f"'{key}' should be a {kind.__name__}, found {type(document[key]).__name__}")
    if not all(isinstance(label, int) and not isinstance(label, bool) for label in document["labels"]):
        raise ValueError("'labels' should hold whole class numbers")
    for key in ("video_names", "members", "tta_modes", "class_names"):
        if not all(isinstance(item, str) for item in document[key]):
            raise ValueError(f"'{key}' should hold text only")
    for name, scores in document["predictors"].items():
        if not isinstance(scores, dict):
            raise ValueError(f"predictor {name!r}: scores should be a dict, found {type(scores).__name__}")
        for key in _SCORE_NUMBERS:
            if not _is_finite_number(scores.get(key)):
                raise ValueError(
                    f"predictor {name!r}: '{key}' should be a finite number, found {scores.get(key)!r}"
                )


def _run_from_document(path: Path, document: Mapping[str, Any]) -> EvaluationRun:
    _check_document(document)
    run = EvaluationRun(
        created_utc=str(document.get("created_utc", "")),
        features_file=str(document["features_file"]),
        checkpoints=list(document.get("checkpoints", [])),
        members=list(document["members"]),
        tta_modes=list(document["tta_modes"]),
        device=str(document.get("device", "")),
        batch_size=int(document.get("batch_size", 0)),
        class_names=list(document["class_names"]),
        video_names=list(document["video_names"]),
        labels=np.asarray(document["labels"], dtype=np.int64),
        warnings=list(document.get("warnings", [])),
        scores={name: Scores.from_dict(scores) for name, scores in document["predictors"].items()},
        probabilities=_stored_probabilities(path, document),
        elapsed_s=float(document.get("elapsed_s") or 0.0),
    )
    _check_consistent(run)
    return run


def _check_consistent(run: EvaluationRun) -> None:
    """What the pages index by must agree: labels, names, members, modes and probabilities."""
    if len(run.labels) != run.num_videos:
        raise ValueError(f"it holds {len(run.labels)} labels for {run.num_videos} video names")
    if not run.class_names:
        raise ValueError("'class_names' is empty")
    if len(run.labels) and (run.labels.min() < 0 or run.labels.max() >= len(run.class_names)):
        raise ValueError(f"a label is outside the {len(run.class_names)} classes (0..{len(run.class_names) - 1})")
    if not run.members:
        raise ValueError("'members' is empty")
    if not run.tta_modes or run.tta_modes[0] != "original":
        raise ValueError("'tta_modes' should start with 'original'")
    unknown = [mode for mode in run.tta_modes if mode not in TTA_MODES]
    if unknown:
        raise ValueError(f"unknown TTA mode(s) {', '.join(map(repr, unknown))}")
    expected = (len(run.members), len(run.tta_modes), run.num_videos, len(run.class_names))
    if run.probabilities.shape != expected:
        raise ValueError(f"probabilities are shaped {run.probabilities.shape}, expected {expected}")
    if not np.isfinite(run.probabilities).all():
        raise ValueError("probabilities contain NaN or infinite values")


def load_run(path: str | Path) -> EvaluationRun:
    """A run of either format; anything unreadable raises `EvaluationError` naming the file."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"{path}: not a readable evaluation run ({exc})") from None
    known = (RUN_FORMAT, JSON_ONLY_RUN_FORMAT)
    if not isinstance(document, dict) or document.get("format") not in known or "predictors" not in document:
        raise EvaluationError(f"{path}: not an evaluation run written by `python -m core evaluate`")
    try:
        return _run_from_document(path, document)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise EvaluationError(f"{path}: incomplete evaluation run ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class RunListing:
    runs: list[tuple[Path, EvaluationRun]]
    unreadable: list[str]


def list_runs(runs_dir: str | Path) -> RunListing:
    """Every finished run, newest first; unreadable files are reported, never fatal."""
    folder = Path(runs_dir)
    runs, unreadable = [], []
    for path in sorted(folder.glob("[!.]*.json")) if folder.is_dir() else []:
        try:
            runs.append((path, load_run(path)))
        except EvaluationError as exc:
            unreadable.append(str(exc))
    runs.sort(key=lambda item: item[1].created_utc, reverse=True)
    return RunListing(runs, unreadable)
