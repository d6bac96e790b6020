"""Evaluation runs: load an ensemble, predict a split, score every predictor, store the run."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.atomic import atomic_write_text
from core.device import default_device
from core.evaluation.metrics import bootstrap_ci, compute_metrics
from core.features.store import FeatureSet, load_feature_set
from core.model.checkpoints import (
    CheckpointError,
    LoadedCheckpoint,
    check_feature_dim,
    find_ensemble_checkpoints,
    load_checkpoint,
    missing_ensemble_members,
)
from core.model.inference import DEFAULT_BATCH_SIZE, predict_split, predictor_probabilities
from core.model.tta import TTA_MODES, validate_modes

RUN_FORMAT = "video-classifier-evaluation/1"
ProgressCallback = Callable[[int, int], None]


class EvaluationError(ValueError):
    """An evaluation that cannot start, with a one-line reason."""


class EvaluationCancelled(Exception):
    """Raised from a progress callback to stop a run; nothing is written."""


@dataclass
class Ensemble:
    members: list[LoadedCheckpoint]
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [member.name for member in self.members]

    @property
    def models(self) -> list[torch.nn.Module]:
        return [member.model for member in self.members]


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


def load_ensemble(paths: Sequence[Path], device: torch.device | str | None = None) -> Ensemble:
    members = [load_checkpoint(path, device) for path in paths]
    classes = {len(m.class_names) for m in members} | {m.config.num_classes for m in members}
    if len(classes) != 1:
        raise EvaluationError(
            "ensemble members disagree on the number of classes: "
            + ", ".join(f"{m.name}={m.config.num_classes}" for m in members)
        )
    return Ensemble(members)


def check_compatibility(ensemble: Ensemble, feature_set: FeatureSet) -> list[str]:
    """Raise on a feature-dim or recipe mismatch; return softer warnings."""
    path = feature_set.path or "features"
    warnings = []
    for member in ensemble.members:
        check_feature_dim(member, feature_set.feature_dim, path)
        if member.config.num_classes != len(feature_set.class_names):
            raise CheckpointError(
                member.path,
                f"predicts {member.config.num_classes} classes but {path} has {len(feature_set.class_names)}",
            )
        if member.recipe and feature_set.recipe:
            differences = member.recipe.differences(feature_set.recipe)
            if differences:
                raise CheckpointError(
                    member.path, f"trained on another feature recipe than {path}: {'; '.join(differences)}"
                )
        if member.class_names != feature_set.class_names:
            warnings.append(f"{member.name}: class names differ from {path}; using the features file's")
    return warnings


def computed_modes(tta_modes: Sequence[str]) -> tuple[str, ...]:
    """The unaugmented pass is always computed: single members and the plain ensemble use it."""
    chosen = validate_modes(tuple(tta_modes)) if tta_modes else ()
    return ("original", *[m for m in chosen if m != "original"])


def score_predictors(
    labels: np.ndarray, predictors: dict[str, np.ndarray], num_classes: int
) -> dict[str, dict[str, Any]]:
    scored = {}
    for name, probabilities in predictors.items():
        predicted = probabilities.argmax(axis=1)
        metrics = compute_metrics(labels, predicted, num_classes)
        intervals = bootstrap_ci(labels, predicted, num_classes)
        metrics["accuracy_ci"] = [intervals["accuracy"].low, intervals["accuracy"].high]
        metrics["f1_weighted_ci"] = [intervals["f1_weighted"].low, intervals["f1_weighted"].high]
        metrics["probabilities"] = probabilities.round(6).tolist()
        scored[name] = metrics
    return scored


def run_evaluation(
    checkpoint_paths: Sequence[Path],
    features_path: str | Path,
    *,
    tta_modes: Sequence[str] = TTA_MODES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    device: torch.device | str | None = None,
    progress: ProgressCallback | None = None,
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """The evaluate CLI's JSON: per-predictor metrics and per-video probabilities."""
    started = time.perf_counter()
    device = torch.device(device) if device is not None else default_device()
    ensemble = load_ensemble(checkpoint_paths, device)
    feature_set = load_feature_set(features_path)
    notes = [*warnings, *check_compatibility(ensemble, feature_set)]
    modes = computed_modes(tta_modes)
    probabilities = predict_split(ensemble.models, feature_set, modes, batch_size, device, progress)
    predictors = predictor_probabilities(probabilities, ensemble.names, modes)
    return {
        "format": RUN_FORMAT,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "features_file": str(Path(features_path).resolve()),
        "checkpoints": [str(Path(p).resolve()) for p in checkpoint_paths],
        "members": ensemble.names,
        "tta_modes": list(modes),
        "device": str(device),
        "batch_size": batch_size,
        "class_names": list(feature_set.class_names),
        "video_names": list(feature_set.video_names),
        "labels": feature_set.labels.tolist(),
        "warnings": notes,
        "predictors": score_predictors(feature_set.labels, predictors, len(feature_set.class_names)),
        "member_mode_probabilities": probabilities.round(6).tolist(),
        "elapsed_s": round(time.perf_counter() - started, 3),
    }


def default_run_path(runs_dir: str | Path, label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label) or "run"
    return Path(runs_dir) / f"{stamp}-{safe}.json"


def save_run(run: dict[str, Any], path: str | Path) -> Path:
    """Write atomically: readers see either no file or the complete run."""
    path = Path(path)
    atomic_write_text(path, json.dumps(run))
    return path


def load_run(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"{path}: not a readable evaluation run ({exc})") from None
    if not isinstance(run, dict) or run.get("format") != RUN_FORMAT or "predictors" not in run:
        raise EvaluationError(f"{path}: not an evaluation run written by `python -m core evaluate`")
    return run


@dataclass(frozen=True)
class RunListing:
    runs: list[tuple[Path, dict[str, Any]]]
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
    runs.sort(key=lambda item: str(item[1].get("created_utc", "")), reverse=True)
    return RunListing(runs, unreadable)
