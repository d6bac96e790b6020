"""Promoting a retrained candidate into the ensemble's folder, explicitly and reversibly.

Under the folder's promotion lock, and only once the candidate passes every check of
`candidate_checks`, the member's checkpoint, the member's rows of `training_metrics.csv` and its
entry of `configuration_analysis.json` are replaced; each replaced file is kept beside itself as a
backup (`best_ensemble_model_K.backup-<stamp>.pt`, names the ensemble never loads), and the
promotion is recorded in `promotions.json`. Backups, new files and record land together or not at
all, so a refused or failed promotion leaves the folder exactly as it was.

Restoring puts the backups back, and removes them and the promotion's record, after checking that
every file the promotion installed is still what it installed: the folder is then byte-for-byte
what it was before the promotion.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.atomic import atomic_paths
from core.model.prediction_cache import file_fingerprint
from core.model.promotions import PromotionRecord, ledger_path, ledger_text, read_promotions
from core.paths import (
    CONFIGURATION_ANALYSIS_JSON,
    TRAINING_METRICS_CSV,
    checkpoint_backup_name,
    checkpoint_file_name,
)
from core.training.candidate_checks import (
    check_candidate_files,
    check_fits_ensemble,
    check_replaces_current,
    read_provenance,
)
from core.training.ensemble import history_columns
from core.training.history import class_f1_columns, load_training_history
from core.training.jobs import JOB_FILE
from core.training.member import TrainingError
from core.training.promote_lock import promotion_lock


@dataclass(frozen=True)
class Promotion:
    member: int
    installed: Path
    backups: list[Path]
    record: PromotionRecord


@dataclass(frozen=True)
class Restoration:
    member: int
    restored: list[Path]
    record: PromotionRecord


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


def _backup_name(path: Path, member: int, stamp: str) -> str:
    if path.name == checkpoint_file_name(member):
        return checkpoint_backup_name(member, stamp)
    return f"{path.stem}.backup-{stamp}{path.suffix}"


def _job_of(candidate_dir: Path) -> str | None:
    """The app's job folder is `runs/retrain/<job>/` with the candidate in `candidate/`."""
    job = candidate_dir.resolve().parent
    return job.name if candidate_dir.name == "candidate" and (job / JOB_FILE).is_file() else None


Writer = Callable[[Path], object]
"""Writes a replaced file's new content to the temporary path it is given."""


@dataclass(frozen=True)
class _Replacement:
    target: Path
    backup: Path
    write: Writer


def _replacements(
    candidate_dir: Path, models_dir: Path, provenance: dict[str, Any], stamp: str
) -> list[_Replacement]:
    """Every file the promotion replaces, with its backup and how its new content is written; all
    read before anything is written, so an unreadable file stops the promotion untouched."""
    member = int(provenance["member"])
    source = candidate_dir / checkpoint_file_name(member)
    recorded = provenance["sha256"].get(source.name)

    def copy_verified(tmp: Path) -> None:
        # Hash the copy that lands, not the file checked a moment ago: a swap in between is refused.
        shutil.copyfile(source, tmp)
        if file_fingerprint(tmp) != recorded:
            raise TrainingError(f"{source} changed while it was being promoted; nothing was changed")

    writers: list[tuple[Path, Writer]] = [(models_dir / checkpoint_file_name(member), copy_verified)]
    if (models_dir / TRAINING_METRICS_CSV).is_file():
        history = _history_with(models_dir, candidate_dir, member)
        writers.append((models_dir / TRAINING_METRICS_CSV, lambda tmp: history.to_csv(tmp, index=False)))
    if (models_dir / CONFIGURATION_ANALYSIS_JSON).is_file():
        summary = _summary_with(models_dir, provenance, candidate_dir)
        summary_path = models_dir / CONFIGURATION_ANALYSIS_JSON
        writers.append((summary_path, lambda tmp: tmp.write_text(summary, encoding="utf-8")))
    replacements = [_Replacement(t, t.with_name(_backup_name(t, member, stamp)), w) for t, w in writers]
    for replacement in replacements:
        if replacement.backup.exists() or replacement.backup.is_symlink():
            raise TrainingError(f"{replacement.backup} already exists; wait a second and promote again")
    return replacements


def promote_candidate(
    candidate_dir: str | Path, models_dir: str | Path, *, stamp: str | None = None
) -> Promotion:
    """Put the candidate in place of the member it replaces, keeping the originals as backups.
    Refused (TrainingError or ValueError, one line, nothing written) when the candidate fails a
    check or another promotion holds the folder."""
    candidate_dir, models_dir = Path(candidate_dir), Path(models_dir)
    provenance = read_provenance(candidate_dir)
    with promotion_lock(models_dir):
        check_candidate_files(candidate_dir, provenance)
        member = check_replaces_current(candidate_dir, models_dir, provenance)
        check_fits_ensemble(candidate_dir / checkpoint_file_name(member), models_dir)
        records = read_promotions(models_dir)
        now = datetime.now(UTC)
        stamp = stamp or now.strftime("%Y%m%d-%H%M%S")
        replacements = _replacements(candidate_dir, models_dir, provenance, stamp)
        paths = [
            *(r.backup for r in replacements),
            *(r.target for r in replacements),
            ledger_path(models_dir),
        ]
        with atomic_paths(paths) as temps:
            count = len(replacements)
            backup_temps, new_temps = temps[:count], temps[count : 2 * count]
            for replacement, backup_tmp, new_tmp in zip(replacements, backup_temps, new_temps, strict=True):
                shutil.copy2(replacement.target, backup_tmp)
                replacement.write(new_tmp)
            record = PromotionRecord(
                member=member,
                promoted_utc=now.isoformat(timespec="seconds"),
                stamp=stamp,
                seed=provenance.get("seed"),
                candidate=str(candidate_dir.resolve()),
                job=_job_of(candidate_dir),
                installed={
                    r.target.name: file_fingerprint(t) for r, t in zip(replacements, new_temps, strict=True)
                },
                backups={
                    r.target.name: {"name": r.backup.name, "sha256": file_fingerprint(t)}
                    for r, t in zip(replacements, backup_temps, strict=True)
                },
            )
            temps[-1].write_text(ledger_text([*records, record]), encoding="utf-8")
    return Promotion(member, replacements[0].target, [r.backup for r in replacements], record)


def _check_unchanged(models_dir: Path, record: PromotionRecord) -> None:
    for name, digest in record.installed.items():
        path = models_dir / name
        if not path.is_file() or path.is_symlink() or file_fingerprint(path) != digest:
            raise TrainingError(
                f"{path} has changed since member {record.member} was promoted ({record.promoted_utc}); "
                "nothing was restored (its backups are still there to restore by hand)"
            )
    for name, backup in record.backups.items():
        path = models_dir / backup["name"]
        if not path.is_file() or path.is_symlink() or file_fingerprint(path) != backup["sha256"]:
            raise TrainingError(
                f"{path}: the backup of {name} is missing or has changed since the promotion; "
                "nothing was restored"
            )


def restore_member(models_dir: str | Path, member: int) -> Restoration:
    """Undo the folder's latest promotion, which must be of `member`: its backups go back in place
    and its record is dropped. Refused (one line, nothing changed) when any file it installed or
    kept has changed since."""
    models_dir = Path(models_dir)
    with promotion_lock(models_dir):
        records = read_promotions(models_dir)
        if not records or all(r.member != member for r in records):
            raise TrainingError(f"{models_dir}: member {member} has no recorded promotion to undo")
        record = records[-1]
        if record.member != member:
            raise TrainingError(
                f"{models_dir}: the latest promotion is of member {record.member}; restore that one first "
                f"(promotions are undone newest first)"
            )
        _check_unchanged(models_dir, record)
        remaining = records[:-1]
        targets = [models_dir / name for name in record.backups]
        with atomic_paths([*targets, ledger_path(models_dir)]) as temps:
            for name, tmp in zip(record.backups, temps[:-1], strict=True):
                shutil.copyfile(models_dir / record.backups[name]["name"], tmp)
            temps[-1].write_text(ledger_text(remaining), encoding="utf-8")
        if not remaining:
            ledger_path(models_dir).unlink()
        for backup in record.backups.values():
            (models_dir / backup["name"]).unlink()
    return Restoration(member, targets, record)
