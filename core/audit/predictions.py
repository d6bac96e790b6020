"""A split's probabilities for the audit: the app's content-keyed prediction cache when it holds
them (every TTA mode preferred), else one pass of the ensemble now, stored in the cache (over a
cache file that did not hold what its key stands for) for the app and the next audit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from core.audit.run import SplitProbabilities
from core.audit.splits import AuditSplit
from core.features.store import open_features
from core.model.checkpoints import LoadedCheckpoint
from core.model.ensemble import compatibility_problems
from core.model.inference import DEFAULT_BATCH_SIZE, predict_split
from core.model.prediction_cache import (
    file_fingerprint,
    load_cached_probabilities,
    prediction_key,
    store_probabilities,
)
from core.model.tta import TTA_MODES

ProgressCallback = Callable[[int, int], None]
UNAUGMENTED: tuple[str, ...] = ("original",)


def cached_probabilities(
    cache_dir: Path, checkpoint_fingerprints: Sequence[str], split: AuditSplit, num_classes: int
) -> SplitProbabilities | None:
    features_fingerprint = file_fingerprint(split.path)
    for modes in (TTA_MODES, UNAUGMENTED):
        key = prediction_key(checkpoint_fingerprints, features_fingerprint, modes)
        shape = (len(checkpoint_fingerprints), len(modes), split.num_videos, num_classes)
        found = load_cached_probabilities(cache_dir, key, shape)
        if found is not None:
            return SplitProbabilities(found, modes)
    return None


def split_probabilities(
    members: Sequence[LoadedCheckpoint],
    split: AuditSplit,
    cache_dir: Path,
    modes: Sequence[str] = UNAUGMENTED,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> SplitProbabilities:
    """Cached probabilities when the cache holds them for these exact files, else `modes` now.
    A member that does not fit the file raises ValueError naming it."""
    problems = compatibility_problems(members, split)
    if problems:
        raise ValueError("; ".join(problems))
    fingerprints = [file_fingerprint(m.path) for m in members]
    cached = cached_probabilities(cache_dir, fingerprints, split, members[0].config.num_classes)
    if cached is not None and len(cached.modes) >= len(modes):
        return cached
    with open_features(split.path) as handle:
        probabilities = predict_split(
            [m.model for m in members], handle, tuple(modes), batch_size=batch_size, progress=progress
        )
    key = prediction_key(fingerprints, file_fingerprint(split.path), tuple(modes))
    store_probabilities(cache_dir, key, probabilities)
    return SplitProbabilities(probabilities, tuple(modes))
