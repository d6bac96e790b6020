"""A project with known flaws for the audit: test videos copied from train (leaks), one video
copied within train, and flipped labels in test and val, beside checkpoints whose unaugmented
logits are planned from the labels before the flips (solved into the last layer by least squares).

Every video's frames are one vector repeated, at most 5 of them: TTA then feeds the members the same
steps in every mode (reverse of equal frames is the same sequence; the speed modes leave sequences
of 5 steps or fewer unchanged), so the ensemble with TTA gives what the plain ensemble gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from core.classes import CLASS_NAMES
from core.features.store import FeatureSet
from core.features.writer import write_feature_set
from core.model.checkpoints import save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig
from tests.factories import TINY_RECIPE, write_configuration_analysis, write_training_metrics
from tests.original_project import fit_final_layer

AUDIT_DIM = 64
AUDIT_CONFIG = TemporalModelConfig(
    feature_dim=AUDIT_DIM, hidden_dim=16, num_lstm_layers=1, num_attention_heads=2, dropout=0.1
)
SIZES = {"train": 64, "val": 32, "test": 48}
SUBCATEGORIES = ("indoor", "outdoor", "studio")
LEAKS = {3: 10, 9: 21, 17: 30, 30: 45}
"""test row -> the train row it copies."""
TRAIN_COPY = (40, 5)
"""train row 40 copies train row 5 (a near-duplicate within a split)."""
FLIPPED = {"test": (2, 6, 13, 19, 23, 27, 34, 38), "val": (1, 7, 12, 26)}
MISSED = {"test": (11, 42)}
"""Rows the members get wrong, unsure, with the right label: a hard video is not a wrong label."""
SURE, UNSURE = 4.0, 1.0


@dataclass
class AuditProject:
    root: Path
    sets: dict[str, FeatureSet]
    true_labels: dict[str, np.ndarray] = field(default_factory=dict)

    def path(self, split: str) -> Path:
        return self.root / "features_enhanced" / f"{split}_features_multiscale.h5"

    def name(self, split: str, row: int) -> str:
        return self.sets[split].video_names[row]


def _split_set(split: str, centres: np.ndarray, rng: np.random.Generator) -> FeatureSet:
    count = SIZES[split]
    labels = np.arange(count) % len(CLASS_NAMES)
    num_frames = rng.integers(2, 6, size=count).astype(np.int32)
    vectors = centres[labels] + rng.normal(size=(count, AUDIT_DIM))
    features = np.zeros((count, TINY_RECIPE.sequence_length, AUDIT_DIM), dtype=np.float32)
    for i, length in enumerate(num_frames):
        features[i, :length] = vectors[i]
    names = [
        f"{CLASS_NAMES[label]}/{SUBCATEGORIES[i % 3]}/{split}_{i:03d}.mp4" for i, label in enumerate(labels)
    ]
    return FeatureSet(features, labels.astype(np.int64), num_frames, names, list(CLASS_NAMES), TINY_RECIPE)


def _near_copy(
    target: FeatureSet, row: int, source: FeatureSet, source_row: int, rng: np.random.Generator
) -> None:
    length = int(source.num_frames[source_row])
    vector = source.features[source_row, 0] + rng.normal(scale=0.1, size=AUDIT_DIM)
    target.features[row] = 0.0
    target.features[row, :length] = vector
    target.num_frames[row] = length
    target.labels[row] = source.labels[source_row]
    folder, file_name = target.video_names[row].split("/", 1)[1].rsplit("/", 1)
    target.video_names[row] = f"{CLASS_NAMES[int(target.labels[row])]}/{folder}/{file_name}"


def planned_logits(true_labels: np.ndarray, missed: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    logits = rng.normal(scale=0.3, size=(len(true_labels), len(CLASS_NAMES)))
    logits[np.arange(len(true_labels)), true_labels] += SURE
    for row in missed:
        logits[row] = 0.0
        logits[row, true_labels[row]] = UNSURE
        logits[row, (true_labels[row] + 2) % len(CLASS_NAMES)] = UNSURE + 0.6
    return logits


def build_sets(seed: int = 0) -> tuple[dict[str, FeatureSet], dict[str, np.ndarray]]:
    """The three splits with the leaks planted, and the labels before the flips."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=1.5, size=(len(CLASS_NAMES), AUDIT_DIM))
    sets = {split: _split_set(split, centres, rng) for split in SIZES}
    for test_row, train_row in LEAKS.items():
        _near_copy(sets["test"], test_row, sets["train"], train_row, rng)
    _near_copy(sets["train"], TRAIN_COPY[0], sets["train"], TRAIN_COPY[1], rng)
    true_labels = {split: s.labels.copy() for split, s in sets.items()}
    for split, rows in FLIPPED.items():
        sets[split].labels[list(rows)] = (sets[split].labels[list(rows)] + 1) % len(CLASS_NAMES)
    return sets, true_labels


def write_audit_project(
    root: Path, members: int = 4, splits: tuple[str, ...] = ("train", "val", "test")
) -> AuditProject:
    models, features = root / "models_enhanced", root / "features_enhanced"
    models.mkdir(parents=True, exist_ok=True)
    features.mkdir(parents=True, exist_ok=True)
    sets, true_labels = build_sets()
    project = AuditProject(root, sets, true_labels)
    for split in splits:
        write_feature_set(project.path(split), sets[split])
        sets[split] = replace(sets[split], path=project.path(split))
    rng = np.random.default_rng(7)
    for member in range(1, members + 1):
        torch.manual_seed(200 + member)
        model = TemporalClassifier(AUDIT_CONFIG).eval()
        planned = [(sets[s], planned_logits(true_labels[s], MISSED.get(s, ()), rng)) for s in SIZES]
        fit_final_layer(model, planned)
        save_checkpoint(
            models / f"best_ensemble_model_{member}.pt", model, epoch=5, best_val_acc=80.0, recipe=TINY_RECIPE
        )
    write_training_metrics(models / "training_metrics.csv", members=members)
    write_configuration_analysis(models / "configuration_analysis.json", members=members)
    (root / "runs").mkdir(exist_ok=True)
    return project
