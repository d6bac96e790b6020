"""Small, deterministic artifacts for tests: feature files and checkpoints written for real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from core.checkpoints import save_checkpoint
from core.classes import CLASS_NAMES
from core.features import FeatureSet, write_feature_set
from core.model import TemporalClassifier, TemporalModelConfig
from core.recipe import FeatureRecipe

TINY_RECIPE = FeatureRecipe(num_frames=8, image_size=64)
TINY_CONFIG = TemporalModelConfig(
    feature_dim=1280, hidden_dim=16, num_lstm_layers=1, num_attention_heads=2, dropout=0.1
)


def make_feature_set(
    num_videos: int = 24,
    feature_dim: int = 1280,
    recipe: FeatureRecipe | None = TINY_RECIPE,
    seed: int = 0,
    max_frames: int | None = None,
) -> FeatureSet:
    """Features with a class-dependent mean so a model can beat chance, and varied lengths."""
    rng = np.random.default_rng(seed)
    max_frames = max_frames or (recipe.sequence_length if recipe else 12)
    labels = np.arange(num_videos) % len(CLASS_NAMES)
    num_frames = rng.integers(max(2, max_frames // 2), max_frames + 1, size=num_videos).astype(np.int32)
    centres = rng.normal(size=(len(CLASS_NAMES), feature_dim)).astype(np.float32)
    features = np.zeros((num_videos, max_frames, feature_dim), dtype=np.float32)
    for i, (label, length) in enumerate(zip(labels, num_frames, strict=True)):
        features[i, :length] = centres[label] + rng.normal(scale=0.5, size=(length, feature_dim))
    names = [f"{CLASS_NAMES[label]}/sub{i % 2}/clip_{i:03d}.mp4" for i, label in enumerate(labels)]
    return FeatureSet(features, labels.astype(np.int64), num_frames, names, list(CLASS_NAMES), recipe)


def write_features(path: Path, **kwargs: object) -> FeatureSet:
    feature_set = make_feature_set(**kwargs)  # type: ignore[arg-type]
    write_feature_set(path, feature_set)
    feature_set.path = path
    return feature_set


def make_model(config: TemporalModelConfig = TINY_CONFIG, seed: int = 0) -> TemporalClassifier:
    torch.manual_seed(seed)
    return TemporalClassifier(config).eval()


def write_ensemble(
    folder: Path,
    members: int = 4,
    config: TemporalModelConfig = TINY_CONFIG,
    recipe: FeatureRecipe | None = TINY_RECIPE,
) -> list[Path]:
    paths = []
    for n in range(1, members + 1):
        model = make_model(config, seed=41 + n)
        path = folder / f"best_ensemble_model_{n}.pt"
        save_checkpoint(path, model, epoch=n, best_val_acc=50.0 + n, recipe=recipe, seed=41 + n)
        paths.append(path)
    return paths
