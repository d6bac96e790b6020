"""What is on disk in a project root, what loads, and what is wrong with it, in plain words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from core.features.inventory import FeatureFileInfo, feature_files
from core.model.checkpoints import (
    CheckpointError,
    LoadedCheckpoint,
    find_ensemble_checkpoints,
    load_checkpoint,
    missing_ensemble_members,
)
from core.paths import ProjectPaths


@dataclass
class LoadedMembers:
    members: list[LoadedCheckpoint]
    errors: list[str]
    missing: list[int]


def load_members_tolerant(paths: Sequence[Path], device: torch.device | str | None = None) -> LoadedMembers:
    """Load what loads; a broken checkpoint becomes a message instead of stopping the others."""
    members, errors = [], []
    for path in paths:
        try:
            members.append(load_checkpoint(path, device))
        except CheckpointError as exc:
            errors.append(str(exc))
    return LoadedMembers(members, errors, missing_ensemble_members(paths) if paths else [])


def has_any_artifacts(paths: ProjectPaths) -> bool:
    return bool(find_ensemble_checkpoints(paths.models_dir) or feature_files(paths.features_dir))


def compatibility_problems(members: Sequence[LoadedCheckpoint], features: FeatureFileInfo) -> list[str]:
    """Reasons the loaded members cannot be evaluated faithfully on a features file."""
    problems = []
    for member in members:
        if member.config.feature_dim != features.feature_dim:
            problems.append(
                f"{member.name} expects {member.config.feature_dim}-d features; "
                f"{features.path.name} holds {features.feature_dim}-d"
            )
        elif member.recipe and features.recipe and member.recipe.differences(features.recipe):
            problems.append(
                f"{member.name} was trained on another feature recipe than {features.path.name}: "
                + "; ".join(member.recipe.differences(features.recipe))
            )
    return problems


def member_problems(loaded: LoadedMembers, models_dir: Path) -> list[str]:
    problems = list(loaded.errors)
    problems += [
        f"best_ensemble_model_{n}.pt is missing from {models_dir}; the ensemble uses the others"
        for n in loaded.missing
    ]
    recipes = {m.recipe for m in loaded.members if m.recipe is not None}
    if len(recipes) > 1:
        problems.append("ensemble members were trained on different feature recipes")
    return problems
