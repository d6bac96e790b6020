"""The recipe a new clip must be featurised with to be classified faithfully by an ensemble:
the checkpoints' own, else the features file's (original checkpoints record none)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core.features.extraction import check_recipe_fits_models, resolve_classification_recipe
from core.features.recipe import FeatureRecipe
from core.features.store import open_features
from core.model.checkpoints import LoadedCheckpoint


def features_file_recipe(path: Path) -> FeatureRecipe | None:
    if not path.is_file():
        return None
    with open_features(path) as handle:
        return handle.recipe


def ensemble_recipe(members: Sequence[LoadedCheckpoint], features_path: Path) -> FeatureRecipe:
    """Raises RecipeError when no recipe is known or it does not give the members' feature size."""
    checkpoint_recipes = [member.recipe for member in members]
    fallback = None if any(checkpoint_recipes) else features_file_recipe(features_path)
    recipe = resolve_classification_recipe(checkpoint_recipes, fallback)
    check_recipe_fits_models(recipe, [member.config.feature_dim for member in members])
    return recipe
