"""Which features files the pages analyse: the readable ones, the default analysed split, and
the validation file the recorded numbers are compared against."""

from __future__ import annotations

from collections.abc import Sequence

from core.features.inventory import FeatureFileInfo
from core.model.checkpoints import LoadedCheckpoint
from core.model.ensemble import compatibility_problems


def readable_features(infos: Sequence[FeatureFileInfo]) -> list[FeatureFileInfo]:
    return [info for info in infos if info.error is None]


def default_analysed(infos: Sequence[FeatureFileInfo]) -> FeatureFileInfo | None:
    """The first readable test split, else the first readable file, else None."""
    readable = readable_features(infos)
    tests = [info for info in readable if info.split == "test"]
    return (tests or readable or [None])[0]


def chosen_or_default(infos: Sequence[FeatureFileInfo], chosen_path: str | None) -> FeatureFileInfo | None:
    """The readable file at `chosen_path` when there is one, else the default."""
    by_path = {str(info.path): info for info in readable_features(infos)}
    return by_path.get(chosen_path) or default_analysed(infos)


def validation_file(
    infos: Sequence[FeatureFileInfo], members: Sequence[LoadedCheckpoint]
) -> FeatureFileInfo | None:
    """The first readable validation split the members can be evaluated on, the split training
    recorded its numbers on."""
    for info in readable_features(infos):
        if info.split == "val" and not compatibility_problems(members, info):
            return info
    return None
