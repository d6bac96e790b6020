"""The audit document (docs/formats.md): one JSON file, written atomically, recognised by its
format marker, and checked field by field when read back (a file in runs/ is untrusted)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.audit.duplicates import MATCHES_PER_VIDEO
from core.audit.run import AuditFindings
from core.outputs import PlannedOutput
from core.paths import AUDIT_SUFFIX

AUDIT_FORMAT = "video-classifier-audit/1"
REPRESENTATION = "frame features averaged over each video's frames, centred on the mean video, unit length"
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "near_duplicates": ("video", "split", "match", "match_split", "similarity"),
    "label_issues": ("video", "split", "label", "suggested", "score"),
    "label_issues_in_sample": ("video", "split", "label", "suggested", "score"),
    "slices": ("split", "class", "subcategory", "videos", "accuracy", "predictor"),
}
NUMBER_FIELDS = ("similarity", "score", "videos", "accuracy")


class AuditFileError(ValueError):
    """An audit file that cannot be read, naming the file and what is wrong."""


@dataclass(frozen=True)
class AuditSources:
    """What an audit was run on."""

    features_files: Mapping[str, Path]
    checkpoints: Sequence[Path]
    members: Sequence[str]
    threshold: float


def audit_document(findings: AuditFindings, sources: AuditSources) -> dict[str, Any]:
    return {
        "format": AUDIT_FORMAT,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "features_files": {split: str(path) for split, path in sources.features_files.items()},
        "checkpoints": [str(path) for path in sources.checkpoints],
        "members": list(sources.members),
        "near_duplicate_threshold": sources.threshold,
        "near_duplicate_representation": REPRESENTATION,
        "near_duplicate_matches_per_video": MATCHES_PER_VIDEO,
        "near_duplicate_splits": list(findings.compared_splits),
        "label_issue_predictor": dict(findings.label_predictor),
        "near_duplicates": findings.near_duplicates,
        "label_issues": findings.label_issues,
        "label_issues_in_sample": findings.label_issues_in_sample,
        "slices": findings.slices,
        "problems": findings.problems,
    }


def default_audit_path(runs_dir: str | Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return Path(runs_dir) / f"{stamp}{AUDIT_SUFFIX}"


def is_audit_file(path: Path) -> bool:
    """Whether `path` holds an audit document (by its format marker, whatever its name)."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and document.get("format") == AUDIT_FORMAT


def planned_audit_output(path: Path) -> PlannedOutput:
    return PlannedOutput(path, "audit document", is_audit_file)


def write_audit(document: Mapping[str, Any], path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    return path


def _check_entries(path: Path, key: str, entries: object) -> None:
    if not isinstance(entries, list):
        raise AuditFileError(f"{path}: '{key}' must be a list")
    for number, entry in enumerate(entries):
        missing = [f for f in REQUIRED_FIELDS[key] if not isinstance(entry, dict) or f not in entry]
        if missing:
            raise AuditFileError(f"{path}: '{key}' entry {number} lacks {', '.join(missing)}")
        for name in NUMBER_FIELDS:
            value = entry.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise AuditFileError(f"{path}: '{key}' entry {number} has a non-numeric {name}")


def read_audit(path: str | Path) -> dict[str, Any]:
    """A validated audit document; `AuditFileError` naming the file otherwise."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise AuditFileError(f"{path}: not a readable audit document ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != AUDIT_FORMAT:
        raise AuditFileError(f"{path}: not an audit document written by `python -m core audit`")
    for key in REQUIRED_FIELDS:
        _check_entries(path, key, document.get(key, []))
    return document


def latest_audit(runs_dir: str | Path) -> Path | None:
    """The newest `*-audit.json` in `runs_dir` by name (names start with a UTC time stamp)."""
    folder = Path(runs_dir)
    found = sorted(folder.glob(f"[!.]*{AUDIT_SUFFIX}")) if folder.is_dir() else []
    return found[-1] if found else None
