"""Small, deterministic artifacts for tests: feature files and checkpoints written for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import h5py
import numpy as np
import pandas as pd
import torch

from core.classes import CLASS_NAMES
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureSet
from core.features.writer import write_feature_set
from core.model.checkpoints import save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig

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


def write_training_metrics(path: Path, members: int = 4, epochs: int = 6, seed: int = 0) -> pd.DataFrame:
    """A `training_metrics.csv` in the docs/formats.md layout with plausible, distinct curves."""
    rng = np.random.default_rng(seed)
    rows = []
    for model in range(1, members + 1):
        for epoch in range(1, epochs + 1):
            progress = epoch / epochs
            row = {
                "model": model,
                "epoch": epoch,
                "train_loss": 1.4 - 0.9 * progress + rng.normal(0, 0.02),
                "train_acc": 40 + 50 * progress,
                "train_f1": 38 + 50 * progress,
                "val_loss": 1.5 - 0.8 * progress + rng.normal(0, 0.02),
                "val_acc": 35 + 45 * progress + model,
                "val_f1": 33 + 45 * progress + model,
                "lr": 1e-3 * (1 - 0.1 * epoch),
                "time_s": 1.0 + 0.1 * epoch,
            }
            row.update({f"class_{k}_f1": 20 + 10 * k + 8 * epoch + model for k in range(4)})
            rows.append(row)
    table = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def write_configuration_analysis(path: Path, members: int = 4) -> dict:
    import json

    document = {
        "checkpoints": {
            f"best_ensemble_model_{n}.pt": {
                "model": n,
                "epoch": n,
                "val_accuracy": 50.0 + n,
                "val_f1_weighted": 48.0 + n,
                "val_f1_per_class": dict.fromkeys(CLASS_NAMES, 45.0 + n),
            }
            for n in range(1, members + 1)
        }
    }
    path.write_text(json.dumps(document))
    return document


def write_project(root: Path, num_videos: int = 24) -> Path:
    """A small but complete project folder: ensemble, test/val features, history, analysis."""
    models = root / "models_enhanced"
    features = root / "features_enhanced"
    features.mkdir(parents=True, exist_ok=True)
    write_ensemble(models)
    write_features(features / "test_features_multiscale.h5", num_videos=num_videos, seed=1)
    write_features(features / "val_features_multiscale.h5", num_videos=num_videos // 2, seed=2)
    write_training_metrics(models / "training_metrics.csv")
    write_configuration_analysis(models / "configuration_analysis.json")
    (root / "runs").mkdir(exist_ok=True)
    return root


def write_noise_clip(path: Path, count: int = 12, seed: int = 0) -> Path:
    """A small real mp4 (48x40, 25 fps) of random frames."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (48, 40))
    for _ in range(count):
        writer.write(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    writer.release()
    return path


LARGE_CONFIG = TemporalModelConfig(
    feature_dim=8, hidden_dim=4, num_lstm_layers=1, num_attention_heads=2, dropout=0.0
)


def write_bulk_features(path: Path, num_videos: int, steps: int = 3, dim: int = 8, seed: int = 0) -> None:
    """A large split written in one go, in the extractor's layout (one row a call is too slow
    for 100k videos); names spread over every class and two subcategories."""
    rng = np.random.default_rng(seed)
    labels = np.arange(num_videos) % len(CLASS_NAMES)
    names = [f"{CLASS_NAMES[label]}/sub{i % 2}/clip_{i:06d}.mp4" for i, label in enumerate(labels)]
    with h5py.File(path, "w") as h5:
        h5.create_dataset("features", data=rng.normal(size=(num_videos, steps, dim)).astype(np.float32))
        h5["labels"] = labels.astype(np.int64)
        h5["num_frames"] = rng.integers(1, steps + 1, num_videos).astype(np.int32)
        h5["video_names"] = np.array(names, dtype=h5py.string_dtype())
        h5.attrs["category_mapping"] = json.dumps({name: i for i, name in enumerate(CLASS_NAMES)})


def write_large_project(root: Path, num_videos: int = 100_000) -> Path:
    """A project with a `num_videos` test split of tiny features and an ensemble of tiny members."""
    features = root / "features_enhanced"
    features.mkdir(parents=True, exist_ok=True)
    write_ensemble(root / "models_enhanced", config=LARGE_CONFIG, recipe=None)
    write_bulk_features(features / "test_features_multiscale.h5", num_videos, seed=1)
    write_bulk_features(features / "val_features_multiscale.h5", 1_000, seed=2)
    write_training_metrics(root / "models_enhanced" / "training_metrics.csv")
    write_configuration_analysis(root / "models_enhanced" / "configuration_analysis.json")
    (root / "runs").mkdir(exist_ok=True)
    return root


SLOW_WRITER = """
import sys, time
from core.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print("writing", flush=True)
    time.sleep(60)
"""


def start_slow_writer(target: Path) -> subprocess.Popen[str]:
    """A process in the middle of an atomic save to `target`, for tests to kill or race."""
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
    return writer
