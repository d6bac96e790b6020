"""The splits an audit reads: each features file's index and time-averaged features, the files
that cannot take part (one message each), and which files can be compared with each other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audit.duplicates import VideoRef
from core.audit.representations import mean_features
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureFileError, FeatureIndex, open_features
from core.paths import SPLITS, split_of

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditSplit:
    """One readable, named split: what labels its rows, and one vector per video."""

    split: str
    path: Path
    index: FeatureIndex
    recipe: FeatureRecipe | None
    means: np.ndarray

    @property
    def feature_dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def num_videos(self) -> int:
        return len(self.index.labels)

    @property
    def class_names(self) -> list[str]:
        return self.index.class_names


@dataclass
class SplitReading:
    splits: list[AuditSplit]
    problems: list[str]


def split_order(paths: Sequence[Path]) -> list[Path]:
    """Standard splits in test, val, train order (the evaluated side of a leak first), then others."""
    priority = {name: i for i, name in enumerate(reversed(SPLITS))}
    return sorted(paths, key=lambda p: (priority.get(split_of(p), len(priority)), p.name))


def read_split(path: Path, progress: ProgressCallback | None = None) -> AuditSplit:
    """A split's index and mean features; `FeatureFileError` when it cannot take part."""
    with open_features(path) as handle:
        handle.require_videos()
        if not handle.names_stored:
            raise FeatureFileError(
                path,
                "has no video names (no 'video_names' dataset and no data/processed index), so its "
                "videos cannot be listed; it is left out of the audit (re-extract it with "
                "`python -m core extract`)",
            )
        index = FeatureIndex(handle.labels, handle.num_frames, handle.video_names, handle.class_names)
        return AuditSplit(split_of(path), path, index, handle.recipe, mean_features(handle, progress))


def read_splits(paths: Sequence[Path], progress: ProgressCallback | None = None) -> SplitReading:
    """Every file that can be audited; each one that cannot becomes one line in `problems`."""
    reading = SplitReading([], [])
    for path in split_order(paths):
        try:
            reading.splits.append(read_split(path, progress))
        except FeatureFileError as exc:
            reading.problems.append(str(exc))
    return reading


def _mismatch(split: AuditSplit, reference: AuditSplit) -> str | None:
    if split.feature_dim != reference.feature_dim:
        return f"{split.feature_dim}-d features vs {reference.feature_dim}-d"
    if split.recipe is not None and reference.recipe is not None:
        differences = split.recipe.differences(reference.recipe)
        return "; ".join(differences) or None
    return None


def comparable_splits(splits: Sequence[AuditSplit]) -> tuple[list[AuditSplit], list[str]]:
    """The splits whose features were made like the first one's (so their vectors can be compared),
    and one message per split left out of the comparison."""
    if not splits:
        return [], []
    reference, kept, problems = splits[0], [splits[0]], []
    for split in splits[1:]:
        mismatch = _mismatch(split, reference)
        if mismatch is None:
            kept.append(split)
        else:
            problems.append(
                f"{split.path.name}: extracted with another recipe than {reference.path.name} "
                f"({mismatch}); its videos are not compared with theirs (no near-duplicates, no shared "
                "map): re-extract it with the same recipe"
            )
    return kept, problems


def stacked_means(splits: Sequence[AuditSplit]) -> tuple[np.ndarray, list[VideoRef]]:
    """Every split's mean features in one array, and which split and video each row is."""
    refs = [VideoRef(s.split, name) for s in splits for name in s.index.video_names]
    return np.concatenate([s.means for s in splits]), refs
