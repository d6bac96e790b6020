"""The record of promotions kept beside the members: `promotions.json` in the ensemble's folder.

Each promotion of a retrained candidate appends one entry: which member, when, the candidate's
seed, folder and job, the hash of every file it installed, and the name and hash of every backup
it kept. Restoring the member removes its entry again, so a folder restored after a promotion is
byte-for-byte the folder before it (the document is written the same way every time). Pages read
it to mark a promoted member and to name the file a run used before the promotion.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

PROMOTIONS_JSON = "promotions.json"
PROMOTIONS_FORMAT = "video-classifier-promotions/1"
# A ledger is a few entries; anything larger is not ours.
_MAX_BYTES = 4 * 1024 * 1024


class PromotionRecordError(ValueError):
    """`promotions.json` that cannot be read as ours, with the one-line reason."""


@dataclass(frozen=True)
class PromotionRecord:
    """One promotion: member `member` replaced at `promoted_utc` by the candidate in `candidate`."""

    member: int
    promoted_utc: str
    stamp: str
    seed: int | None
    candidate: str
    job: str | None
    installed: dict[str, str]
    """File name in the models folder -> sha256 of what the promotion put there."""
    backups: dict[str, dict[str, str]] = field(default_factory=dict)
    """File name -> {"name": the backup's name, "sha256": the replaced file's hash}."""

    @property
    def checkpoint_name(self) -> str:
        return f"best_ensemble_model_{self.member}.pt"

    @property
    def checkpoint_backup(self) -> str:
        return self.backups.get(self.checkpoint_name, {}).get("name", "")

    @property
    def promoted_at(self) -> datetime:
        return datetime.fromisoformat(self.promoted_utc)

    def describe(self) -> str:
        """'promoted retrain: seed 46, promoted 2026-12-08 01:50 UTC from job 2026…'"""
        when = self.promoted_at.strftime("%Y-%m-%d %H:%M UTC")
        origin = f"job {self.job}" if self.job else self.candidate
        seed = f"seed {self.seed}, " if self.seed is not None else ""
        return f"promoted retrain: {seed}promoted {when} from {origin}"


def ledger_path(models_dir: Path) -> Path:
    return Path(models_dir) / PROMOTIONS_JSON


def _record(entry: Any, path: Path) -> PromotionRecord:
    if not isinstance(entry, Mapping):
        raise PromotionRecordError(f"{path}: an entry is not an object")
    try:
        record = PromotionRecord(
            member=int(entry["member"]),
            promoted_utc=datetime.fromisoformat(str(entry["promoted_utc"])).isoformat(timespec="seconds"),
            stamp=str(entry["stamp"]),
            seed=None if entry.get("seed") is None else int(entry["seed"]),
            candidate=str(entry["candidate"]),
            job=None if entry.get("job") is None else str(entry["job"]),
            installed={str(k): str(v) for k, v in dict(entry["installed"]).items()},
            backups={str(k): {"name": str(v["name"]), "sha256": str(v["sha256"])}
                     for k, v in dict(entry.get("backups", {})).items()},
        )  # fmt: skip
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
        raise PromotionRecordError(f"{path}: a promotion entry is incomplete ({problem})") from None
    return record


def read_promotions(models_dir: str | Path) -> list[PromotionRecord]:
    """Every promotion recorded in `models_dir`, oldest first; none when there is no ledger.
    A ledger that is not a regular file, too large, or not ours raises PromotionRecordError."""
    path = ledger_path(Path(models_dir))
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PromotionRecordError(f"{path}: not readable ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
        raise PromotionRecordError(f"{path}: not a promotion record (not a small regular file); move it away")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromotionRecordError(f"{path}: not readable JSON ({exc}); move it away") from None
    if not isinstance(document, dict) or document.get("format") != PROMOTIONS_FORMAT:
        raise PromotionRecordError(f"{path}: not a promotion record written by this project; move it away")
    entries = document.get("promotions")
    if not isinstance(entries, list):
        raise PromotionRecordError(f"{path}: 'promotions' should be a list")
    return [_record(entry, path) for entry in entries]


def ledger_text(records: list[PromotionRecord]) -> str:
    """The ledger's bytes for `records`: the same records always give the same text."""
    document = {"format": PROMOTIONS_FORMAT, "promotions": [asdict(r) for r in records]}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def current_promotions(
    models_dir: str | Path, fingerprint: Callable[[Path], str]
) -> dict[int, PromotionRecord]:
    """Member number -> its promotion, for members whose file is still the promoted one
    (`fingerprint` hashes a file; the pages pass their cached one). An unreadable ledger marks
    nothing: the pages report it where the folder is listed."""
    models_dir = Path(models_dir)
    try:
        records = read_promotions(models_dir)
    except PromotionRecordError:
        return {}
    current: dict[int, PromotionRecord] = {}
    for record in records:
        path = models_dir / record.checkpoint_name
        if path.is_file() and fingerprint(path) == record.installed.get(record.checkpoint_name):
            current[record.member] = record
    return current
