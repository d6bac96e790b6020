"""The ensemble: which checkpoints loaded, which did not, and whether they fit a features file,
in plain words that name the file and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch

from core.features.inventory import feature_files
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import (
    CheckpointError,
    LoadedCheckpoint,
    find_ensemble_checkpoints,
    load_checkpoint,
    missing_ensemble_members,
)
from core.paths import ProjectPaths


@dataclass
class Ensemble:
    """Loaded members, plus what could not be loaded: `errors` (one line per broken checkpoint),
    `missing` (member numbers absent from the usual 1..n), and `warnings` worth showing."""

    members: list[LoadedCheckpoint]
    errors: list[str] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [member.name for member in self.members]

    @property
    def models(self) -> list[torch.nn.Module]:
        return [member.model for member in self.members]

    @property
    def paths(self) -> list[Path]:
        return [member.path for member in self.members]


class FeaturesDescription(Protocol):
    """What the check needs of a features file: an inventory entry or a loaded split."""

    @property
    def path(self) -> Path | None: ...

    @property
    def feature_dim(self) -> int: ...

    @property
    def class_names(self) -> list[str]: ...

    @property
    def recipe(self) -> FeatureRecipe | None: ...


def load_ensemble(
    paths: Sequence[Path], device: torch.device | str | None = None, *, strict: bool = False
) -> Ensemble:
    """Load every checkpoint. A broken one becomes a line in `errors` so the others still load,
    or, with `strict`, raises its `CheckpointError`."""
    members, errors = [], []
    for path in paths:
        try:
            members.append(load_checkpoint(path, device))
        except CheckpointError as exc:
            if strict:
                raise
            errors.append(str(exc))
    return Ensemble(members, errors, missing_ensemble_members(paths) if paths else [])


def has_any_artifacts(paths: ProjectPaths) -> bool:
    return bool(find_ensemble_checkpoints(paths.models_dir) or feature_files(paths.features_dir))


def _member_problem(member: LoadedCheckpoint, features: FeaturesDescription, name: str) -> str | None:
    if member.config.feature_dim != features.feature_dim:
        return (
            f"{member.name} expects {member.config.feature_dim}-d features; {name} holds "
            f"{features.feature_dim}-d (use features extracted with the backbone it was trained on)"
        )
    num_classes = len(features.class_names)
    if num_classes and member.config.num_classes != num_classes:
        return f"{member.name} predicts {member.config.num_classes} classes; {name} has {num_classes}"
    differences = member.recipe.differences(features.recipe) if member.recipe and features.recipe else []
    if differences:
        return f"{member.name} was trained on another feature recipe than {name}: " + "; ".join(differences)
    return None


def compatibility_problems(members: Sequence[LoadedCheckpoint], features: FeaturesDescription) -> list[str]:
    """Why the members cannot be evaluated faithfully on a features file, one line per member
    that does not fit (feature size, class count, feature recipe); empty when all fit."""
    name = features.path.name if features.path is not None else "the features"
    problems = (_member_problem(member, features, name) for member in members)
    return [problem for problem in problems if problem is not None]


def class_name_warnings(members: Sequence[LoadedCheckpoint], features: FeaturesDescription) -> list[str]:
    """Members whose class names differ from the features file's (its names are used)."""
    name = features.path.name if features.path is not None else "the features"
    return [
        f"{member.name}: class names differ from {name}; using the features file's"
        for member in members
        if member.class_names != list(features.class_names)
    ]


def class_count_problem(members: Sequence[LoadedCheckpoint]) -> str | None:
    """Members that predict different numbers of classes cannot be averaged: says who predicts how many."""
    counts = {member.name: member.config.num_classes for member in members}
    if len(set(counts.values())) < 2:
        return None
    listing = ", ".join(f"{name} {count}" for name, count in counts.items())
    return f"ensemble members predict different numbers of classes ({listing}); they cannot be averaged"


def member_problems(ensemble: Ensemble, models_dir: Path) -> list[str]:
    """What is wrong with the ensemble itself: broken or missing checkpoints, mixed recipes."""
    problems = list(ensemble.errors)
    problems += [
        f"best_ensemble_model_{n}.pt is missing from {models_dir}; the ensemble uses the others"
        for n in ensemble.missing
    ]
    recipes = {m.recipe for m in ensemble.members if m.recipe is not None}
    if len(recipes) > 1:
        problems.append("ensemble members were trained on different feature recipes")
    mixed = class_count_problem(ensemble.members)
    if mixed:
        problems.append(mixed)
    return problems
