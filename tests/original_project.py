"""A project folder in the original tool's layout with member 1 collapsed on Animation.

Checkpoints are written the way the original trainer saved them (no `model_config`, numpy values
in `metrics`, `history` under `val_per_class_f1` / `learning_rates`); per-class F1 is recorded in
`configuration_analysis.json` keyed by file name, half as mappings by class name and half as lists.
Each member's final layer is solved by least squares so that, unaugmented, it gives planned logits
on every test and validation video: the numbers the pages must show are known in advance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.classes import CLASS_NAMES
from core.features.store import FeatureSet
from core.model.network import TemporalClassifier, TemporalModelConfig
from tests.factories import write_features

# No `model_config` is stored, so the loader assumes 12 heads (8 divides the width 32) and dropout 0.4.
ORIGINAL_TINY_CONFIG = TemporalModelConfig(
    feature_dim=1280, hidden_dim=16, num_lstm_layers=1, num_attention_heads=8, dropout=0.4
)
ANIMATION, FLAT, GAMING, NATURAL = range(4)
COLLAPSED_MEMBER = 1
SURE, UNSURE = 5.0, 1.0
# The numbers configuration_analysis.json recorded for the original run (412 test videos).
RECORDED = {
    1: {"epoch": 52, "accuracy": 72.73, "f1_weighted": 64.76, "f1": [1.10, 93.47, 66.06, 96.69]},
    2: {"epoch": 43, "accuracy": 92.13, "f1_weighted": 92.15, "f1": [86.46, 96.74, 87.88, 97.52]},
    3: {"epoch": 42, "accuracy": 91.86, "f1_weighted": 91.87, "f1": [87.67, 95.47, 88.00, 96.38]},
    4: {"epoch": 40, "accuracy": 91.86, "f1_weighted": 91.88, "f1": [88.02, 95.24, 88.48, 95.77]},
}
PATIENCE = 25


@dataclass(frozen=True)
class OriginalProject:
    root: Path
    test: FeatureSet
    val: FeatureSet
    test_logits: dict[int, np.ndarray]
    """member -> planned unaugmented logits [videos, classes] on the test split."""


def planned_logits(labels: np.ndarray, member: int) -> np.ndarray:
    """Member 1 sends every Animation video but the last to Flat_Content (that one to Gaming),
    confidently. Two videos flip when member 1 is dropped: the first Animation video (the
    others are unsure but right, member 1 outweighs them) and the first Gaming video (member 1
    alone is sure and right). Members 2-4 each miss one more video of their own."""
    logits = np.zeros((len(labels), len(CLASS_NAMES)))
    logits[np.arange(len(labels)), labels] = SURE
    animation = np.flatnonzero(labels == ANIMATION)
    first_gaming = int(np.flatnonzero(labels == GAMING)[0])
    if member == COLLAPSED_MEMBER:
        logits[animation] = 0.0
        logits[animation[:-1], FLAT] = SURE
        logits[animation[-1], GAMING] = SURE
        return logits
    logits[animation[0]] = 0.0
    logits[animation[0], ANIMATION] = UNSURE
    logits[first_gaming] = 0.0
    logits[first_gaming, NATURAL if member in (2, 4) else GAMING] = UNSURE
    own_miss = int(np.flatnonzero(labels == NATURAL)[member - 1])
    logits[own_miss] = 0.0
    logits[own_miss, FLAT] = SURE
    return logits


def _penultimate(model: TemporalClassifier, data: FeatureSet) -> torch.Tensor:
    captured: list[torch.Tensor] = []
    handle = model.classifier[-1].register_forward_hook(lambda _m, inputs, _o: captured.append(inputs[0]))
    with torch.inference_mode():
        model(torch.from_numpy(data.features), torch.from_numpy(data.num_frames))
    handle.remove()
    return captured[0].double()


def fit_final_layer(model: TemporalClassifier, splits: list[tuple[FeatureSet, np.ndarray]]) -> None:
    """Set the last Linear so the model's logits on these videos are the given ones."""
    inputs = torch.cat([_penultimate(model, data) for data, _ in splits])
    design = torch.cat([inputs, torch.ones(len(inputs), 1, dtype=torch.float64)], dim=1)
    targets = torch.from_numpy(np.concatenate([logits for _, logits in splits]))
    solution = torch.linalg.lstsq(design, targets, driver="gelsd").solution
    final = model.classifier[-1]
    with torch.no_grad():
        final.weight.copy_(solution[:-1].T.float())
        final.bias.copy_(solution[-1].float())


def original_history(member: int) -> dict[str, list]:
    """Per-epoch series as the original stored them: val accuracy peaks at the saved epoch and
    training stops `PATIENCE` epochs later; member 1's Animation F1 rises, then collapses."""
    saved, recorded = RECORDED[member]["epoch"], RECORDED[member]
    epochs = np.arange(1, saved + PATIENCE + 1)
    rise = np.minimum(epochs / saved, 1.0)
    val_acc = 40.0 + (recorded["accuracy"] - 40.0) * rise - 0.5 * (epochs > saved)
    per_class = np.outer(rise, recorded["f1"]) + np.outer(1 - rise, [20.0] * 4)
    if member == COLLAPSED_MEMBER:
        per_class[:, ANIMATION] = np.where(epochs < 12, 5.0 * epochs, recorded["f1"][ANIMATION])
    return {
        "train_loss": (1.4 - 0.8 * rise).tolist(),
        "train_acc": (45.0 + 50.0 * rise).tolist(),
        "train_f1": (44.0 + 50.0 * rise).tolist(),
        "val_loss": (1.5 - 0.7 * rise).tolist(),
        "val_acc": val_acc.tolist(),
        "val_f1": (val_acc - 1.0).tolist(),
        "val_per_class_f1": per_class.tolist(),
        "learning_rates": (1e-3 * (1.0 - 0.005 * epochs)).tolist(),
    }


def original_checkpoint(path: Path, model: TemporalClassifier, member: int) -> Path:
    recorded = RECORDED[member]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    torch.save(
        {
            "epoch": recorded["epoch"],
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "metrics": {
                "accuracy": np.float64(recorded["accuracy"]),
                "f1_weighted": np.float64(recorded["f1_weighted"]),
                "f1_per_class": np.asarray(recorded["f1"], dtype=np.float64),
            },
            "history": original_history(member),
        },
        path,
    )
    return path


def original_analysis(path: Path) -> dict:
    document = {}
    for member, recorded in RECORDED.items():
        f1 = recorded["f1"]
        per_class = dict(zip(CLASS_NAMES, f1, strict=True)) if member <= 2 else list(f1)
        document[f"best_ensemble_model_{member}.pt"] = {
            "epoch": recorded["epoch"],
            "val_accuracy": recorded["accuracy"],
            "val_f1_weighted": recorded["f1_weighted"],
            "per_class_f1": per_class,
        }
    path.write_text(json.dumps(document, indent=2))
    return document


def write_original_project(root: Path) -> OriginalProject:
    models, features = root / "models_enhanced", root / "features_enhanced"
    models.mkdir(parents=True, exist_ok=True)
    features.mkdir(parents=True, exist_ok=True)
    test = write_features(features / "test_features_multiscale.h5", num_videos=48, seed=1)
    val = write_features(features / "val_features_multiscale.h5", num_videos=24, seed=2)
    test_logits = {}
    for member in RECORDED:
        torch.manual_seed(100 + member)
        model = TemporalClassifier(ORIGINAL_TINY_CONFIG).eval()
        test_logits[member] = planned_logits(test.labels, member)
        fit_final_layer(model, [(test, test_logits[member]), (val, planned_logits(val.labels, member))])
        original_checkpoint(models / f"best_ensemble_model_{member}.pt", model, member)
    original_analysis(models / "configuration_analysis.json")
    (root / "runs").mkdir(exist_ok=True)
    return OriginalProject(root, test, val, test_logits)
