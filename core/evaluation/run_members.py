"""Which file each member of a stored run was: a swapped-in candidate under its own name, the
member file, or, for a run made before that member was promoted, the backup the promotion kept
(the file that was the member then). Promotions come from the models folder's `promotions.json`."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from core.evaluation.runs import EvaluationRun
from core.model.promotions import PromotionRecord
from core.paths import RETRAIN_PROVENANCE_JSON

CANDIDATE_PREFIX = "candidate_"
_MAX_PROVENANCE_BYTES = 1024 * 1024


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def _candidate_seed(checkpoint: Path, root: Path) -> tuple[int, int] | None:
    """(member, seed) from the provenance record beside a candidate's checkpoint, if it is one;
    a run names any path, so nothing outside the project `root` is read."""
    path = checkpoint.parent / RETRAIN_PROVENANCE_JSON
    if not _inside(path, root):
        return None
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_PROVENANCE_BYTES:
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    member, seed = document.get("member"), document.get("seed")
    return (member, seed) if isinstance(member, int) and isinstance(seed, int) else None


def candidate_name(checkpoint: str | Path, root: Path | None = None) -> str:
    """A swapped-in checkpoint's own name: `candidate_<K>_seed<seed>` for a retrained candidate
    inside the project `root` (as the composer names it), else `<folder>/<file stem>`."""
    checkpoint = Path(checkpoint)
    made = _candidate_seed(checkpoint, root) if root is not None else None
    if made is not None:
        return f"{CANDIDATE_PREFIX}{made[0]}_seed{made[1]}"
    return f"{checkpoint.parent.name}/{checkpoint.stem}"


def listed_members(run: EvaluationRun, root: Path | None = None) -> list[str]:
    """The run's members as they were: a swapped member under the candidate's name."""
    return [candidate_name(run.swaps[m], root) if m in run.swaps else m for m in run.members]


def run_time(run: EvaluationRun) -> datetime | None:
    """When the run was made (UTC; a time without a zone is read as UTC), or None if unreadable."""
    try:
        created = datetime.fromisoformat(run.created_utc)
    except ValueError:
        return None
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)


def _member_path(run: EvaluationRun, member: str) -> Path | None:
    return next((Path(c) for c in run.checkpoints if isinstance(c, str) and Path(c).stem == member), None)


def _promotions_of(
    path: Path, models_dir: Path, promotions: Sequence[PromotionRecord]
) -> list[PromotionRecord]:
    if path.parent != models_dir.resolve():
        return []
    return [r for r in promotions if r.checkpoint_name == path.name]


def file_used(
    run: EvaluationRun, member: str, models_dir: Path, promotions: Sequence[PromotionRecord]
) -> str:
    """What `member` was in `run`: the candidate's path when swapped; the backup's name when the
    run is older than a promotion of that member (the first one after it); else the file's name."""
    if member in run.swaps:
        return run.swaps[member]
    path, created = _member_path(run, member), run_time(run)
    if path is None:
        return member
    later = [
        r
        for r in _promotions_of(path, models_dir, promotions)
        if created is not None and created < r.promoted_at
    ]
    return later[0].checkpoint_backup if later else path.name


def promotion_in_run(
    run: EvaluationRun, member: str, models_dir: Path, promotions: Sequence[PromotionRecord]
) -> PromotionRecord | None:
    """The promotion that made `member` what it was in `run` (the last one before the run)."""
    path, created = _member_path(run, member), run_time(run)
    if member in run.swaps or path is None or created is None:
        return None
    earlier = [r for r in _promotions_of(path, models_dir, promotions) if r.promoted_at <= created]
    return earlier[-1] if earlier else None
