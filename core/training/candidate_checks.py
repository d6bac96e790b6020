"""What makes a candidate promotable: it is finished, its files are the ones it wrote (their
recorded sha256), it was trained against the member that is in the folder now, and it reads the
same features (size, classes, recipe) as the ensemble it joins. Each check raises TrainingError
with one line naming the file and the way out; none writes anything."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.model.checkpoints import (
    CheckpointError,
    LoadedCheckpoint,
    find_ensemble_checkpoints,
    load_checkpoint,
)
from core.model.prediction_cache import file_fingerprint
from core.paths import RETRAIN_PROVENANCE_JSON, checkpoint_file_name
from core.training.member import TrainingError
from core.training.retrain import RETRAIN_FORMAT

# A provenance record is a few kilobytes; anything larger is not one.
_MAX_PROVENANCE_BYTES = 1024 * 1024


def _regular_file(path: Path, what: str) -> None:
    try:
        info = os.lstat(path)
    except OSError:
        raise TrainingError(f"{path}: the candidate's {what} is missing; retrain the candidate") from None
    if not stat.S_ISREG(info.st_mode):
        raise TrainingError(f"{path}: the candidate's {what} is not a regular file; retrain the candidate")


def read_provenance(candidate_dir: Path) -> dict[str, Any]:
    """A finished candidate's provenance; anything else raises TrainingError naming the folder."""
    path = Path(candidate_dir) / RETRAIN_PROVENANCE_JSON
    _regular_file(path, "provenance record")
    try:
        if path.stat().st_size > _MAX_PROVENANCE_BYTES:
            raise ValueError("too large to be one")
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{path}: not a readable provenance record ({exc})") from None
    if not isinstance(provenance, dict) or provenance.get("format") != RETRAIN_FORMAT:
        raise TrainingError(f"{candidate_dir}: no finished candidate here (no {RETRAIN_PROVENANCE_JSON})")
    if not provenance.get("complete"):
        raise TrainingError(f"{path}: the candidate is not finished")
    if not isinstance(provenance.get("member"), int) or not isinstance(provenance.get("replaces"), Mapping):
        raise TrainingError(f"{path}: the record names no member it replaces; retrain the candidate")
    return provenance


def check_candidate_files(candidate_dir: Path, provenance: Mapping[str, Any]) -> None:
    """Every file the candidate wrote still has the sha256 recorded when it was written."""
    recorded = provenance.get("sha256")
    if not isinstance(recorded, Mapping) or not recorded:
        raise TrainingError(
            f"{candidate_dir}: the candidate records no file hashes (made before they were recorded), "
            "so a replaced file could not be told; retrain it"
        )
    for name, digest in recorded.items():
        path = candidate_dir / str(name)
        if Path(str(name)).name != str(name):
            raise TrainingError(f"{candidate_dir}: the record names a file outside the candidate ({name})")
        _regular_file(path, str(name))
        if file_fingerprint(path) != digest:
            raise TrainingError(
                f"{path} has changed since the candidate wrote it (its sha256 differs from the "
                "recorded one); retrain the candidate instead of promoting a replaced file"
            )


def check_replaces_current(candidate_dir: Path, models_dir: Path, provenance: Mapping[str, Any]) -> int:
    """The candidate was trained against member K of this folder as it is now; returns K."""
    member, replaces = int(provenance["member"]), provenance["replaces"]
    if Path(str(replaces.get("models_dir"))) != models_dir.resolve():
        raise TrainingError(
            f"{candidate_dir}: the candidate replaces a member of {replaces.get('models_dir')}, "
            f"not of {models_dir}"
        )
    original = models_dir / checkpoint_file_name(member)
    if not original.is_file() or file_fingerprint(original) != replaces.get("sha256"):
        raise TrainingError(
            f"{original} has changed since the candidate was trained (promoted already, or replaced); "
            "retrain against the current member"
        )
    return member


def _difference(candidate: LoadedCheckpoint, member: LoadedCheckpoint) -> str | None:
    if candidate.config.feature_dim != member.config.feature_dim:
        dims = candidate.config.feature_dim, member.config.feature_dim
        return f"it reads {dims[0]}-d features, {member.name} {dims[1]}-d"
    if list(candidate.class_names) != list(member.class_names):
        return f"its classes are {candidate.class_names}, {member.name}'s {member.class_names}"
    if candidate.recipe is not None and member.recipe is not None:
        differences = candidate.recipe.differences(member.recipe)
        if differences:
            return f"its feature recipe differs from {member.name}'s ({'; '.join(differences)})"
    return None


def check_fits_ensemble(checkpoint: Path, models_dir: Path) -> LoadedCheckpoint:
    """The candidate's checkpoint loads and reads what every member of the folder reads."""
    try:
        candidate = load_checkpoint(checkpoint, "cpu")
    except CheckpointError as exc:
        raise TrainingError(f"the candidate does not load: {exc}") from None
    for path in find_ensemble_checkpoints(models_dir):
        try:
            member = load_checkpoint(path, "cpu")
        except CheckpointError as exc:
            raise TrainingError(f"a member of the ensemble does not load: {exc}; fix it first") from None
        problem = _difference(candidate, member)
        if problem:
            raise TrainingError(
                f"{checkpoint} does not fit the ensemble: {problem}; retrain on the ensemble's features"
            )
    return candidate
