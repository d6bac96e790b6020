"""Promoting a retrained candidate into the ensemble's folder, explicitly and reversibly.

The member's checkpoint is copied to `best_ensemble_model_K.backup-<stamp>.pt` (a name the
ensemble never loads) before the candidate takes its place; the member's rows of
`training_metrics.csv` and its entry of `configuration_analysis.json` are replaced the same way,
each file backed up beside itself first. The new files land together or not at all.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.atomic import atomic_path, atomic_paths
from core.model.checkpoints import load_checkpoint
from core.model.prediction_cache import file_fingerprint
from core.paths import (
    CONFIGURATION_ANALYSIS_JSON,
    RETRAIN_PROVENANCE_JSON,
    TRAINING_METRICS_CSV,
    checkpoint_backup_name,
    checkpoint_file_name,
)
from core.training.ensemble import history_columns
from core.training.history import class_f1_columns, load_training_history
from core.training.member import TrainingError
from core.training.retrain import is_retrain_provenance


@dataclass(frozen=True)
class Promotion:
    member: int
    installed: Path
    backups: list[Path]


def read_provenance(candidate_dir: Path) -> dict[str, Any]:
    """A finished candidate's provenance; anything else raises TrainingError naming the folder."""
    path = Path(candidate_dir) / RETRAIN_PROVENANCE_JSON
    if not is_retrain_provenance(path):
        raise TrainingError(f"{candidate_dir}: no finished candidate here (no {RETRAIN_PROVENANCE_JSON})")
    provenance = json.loads(path.read_text(encoding="utf-8"))
    if not provenance.get("complete"):
        raise TrainingError(f"{path}: the candidate is not finished")
    return provenance


def _check_promotable(candidate_dir: Path, models_dir: Path, provenance: dict[str, Any]) -> int:
    member = int(provenance["member"])
    replaces = provenance["replaces"]
    if Path(replaces["models_dir"]) != models_dir.resolve():
        raise TrainingError(
            f"{candidate_dir}: the candidate replaces a member of {replaces['models_dir']}, "
            f"not of {models_dir}"
        )
    original = models_dir / checkpoint_file_name(member)
    if not original.is_file() or file_fingerprint(original) != replaces["sha256"]:
        raise TrainingError(
            f"{original} has changed since the candidate was trained (promoted already, or replaced); "
            "retrain against the current member"
        )
    load_checkpoint(candidate_dir / checkpoint_file_name(member), "cpu")
    return member


def _history_with(models_dir: Path, candidate_dir: Path, member: int) -> pd.DataFrame:
    table = load_training_history(models_dir / TRAINING_METRICS_CSV)
    rows = load_training_history(candidate_dir / TRAINING_METRICS_CSV)
    merged = pd.concat([table[table["model"] != member], rows], ignore_index=True)
    columns = [c for c in history_columns(len(class_f1_columns(list(rows.columns)))) if c in merged]
    return merged.sort_values(["model", "epoch"], kind="stable")[columns]


def _summary_with(models_dir: Path, provenance: dict[str, Any], candidate_dir: Path) -> str:
    path = models_dir / CONFIGURATION_ANALYSIS_JSON
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{path}: not readable JSON ({exc}); fix or move it, then promote") from None
    if not isinstance(document, dict):
        raise TrainingError(f"{path}: expected a JSON object")
    member = int(provenance["member"])
    result = provenance["result"]
    entries = document.setdefault("checkpoints", {})
    entries[checkpoint_file_name(member)] = {
        "model": member,
        "seed": provenance["seed"],
        "complete": True,
        "epoch": result["best_epoch"],
        "epochs_trained": result["epochs_trained"],
        "stopped_early": result["stopped_early"],
        "val_accuracy": result["val_accuracy"],
        "val_f1_weighted": result["val_f1_weighted"],
        "val_f1_per_class": result["val_f1_per_class"],
        "model_config": provenance["model_config"],
        "training_config": provenance["training_config"],
        "promoted_from": str(candidate_dir.resolve()),
    }
    return json.dumps(document, indent=2) + "\n"


def _backup(path: Path, stamp: str, name: str | None = None) -> Path:
    target = path.with_name(name or f"{path.stem}.backup-{stamp}{path.suffix}")
    if target.exists():
        raise TrainingError(f"{target} already exists; wait a second and promote again")
    with atomic_path(target) as tmp:
        shutil.copy2(path, tmp)
    return target


def promote_candidate(
    candidate_dir: str | Path, models_dir: str | Path, *, stamp: str | None = None
) -> Promotion:
    """Put the candidate in place of the member it replaces, keeping the originals as backups."""
    candidate_dir, models_dir = Path(candidate_dir), Path(models_dir)
    provenance = read_provenance(candidate_dir)
    member = _check_promotable(candidate_dir, models_dir, provenance)
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    original = models_dir / checkpoint_file_name(member)
    history, summary = models_dir / TRAINING_METRICS_CSV, models_dir / CONFIGURATION_ANALYSIS_JSON
    # Read before anything is written, so an unreadable file stops the promotion untouched.
    new_history = _history_with(models_dir, candidate_dir, member) if history.is_file() else None
    new_summary = _summary_with(models_dir, provenance, candidate_dir) if summary.is_file() else None
    backups = [_backup(original, stamp, checkpoint_backup_name(member, stamp))]
    targets = [original]
    if new_history is not None:
        backups.append(_backup(history, stamp))
        targets.append(history)
    if new_summary is not None:
        backups.append(_backup(summary, stamp))
        targets.append(summary)
    with atomic_paths(targets) as temps:
        shutil.copy2(candidate_dir / checkpoint_file_name(member), temps[0])
        if new_history is not None:
            new_history.to_csv(temps[1], index=False)
        if new_summary is not None:
            temps[-1].write_text(new_summary, encoding="utf-8")
    return Promotion(member, original, backups)
