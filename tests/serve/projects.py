"""Projects the server is tested on: the original tool's layout in all its variants, and one of
ours whose checkpoints record the recipe new clips are featurised with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch

from core.classes import CLASS_NAMES
from core.features.store import FeatureSet
from core.model.checkpoints import read_checkpoint_file
from tests.original_project import ORIGINAL_TINY_CONFIG, write_original_project

HEADS = ORIGINAL_TINY_CONFIG.num_attention_heads
MEMBERS = ("best_ensemble_model_1", "best_ensemble_model_2", "best_ensemble_model_3")


@dataclass(frozen=True)
class OriginalServing:
    root: Path
    test: FeatureSet
    """Rows in the legacy index's order, named as the index names them."""
    states: dict[str, dict[str, torch.Tensor]]

    @property
    def features(self) -> Path:
        return self.root / "features_enhanced" / "test_features_multiscale.h5"

    @property
    def models(self) -> Path:
        return self.root / "models_enhanced"


def _vary_checkpoints(models: Path) -> dict[str, dict[str, torch.Tensor]]:
    """Member 1 as the original trainer saved it, member 2 with `model_config`, member 3 a bare
    state dict, member 4 missing."""
    raw = {n: read_checkpoint_file(models / f"best_ensemble_model_{n}.pt") for n in (1, 2, 3)}
    torch.save(
        {**raw[2], "model_config": ORIGINAL_TINY_CONFIG.to_dict()}, models / "best_ensemble_model_2.pt"
    )
    torch.save(raw[3]["model_state_dict"], models / "best_ensemble_model_3.pt")
    (models / "best_ensemble_model_4.pt").unlink()
    return {f"best_ensemble_model_{n}": raw[n]["model_state_dict"] for n in (1, 2, 3)}


def _write_legacy_features(root: Path, test: FeatureSet) -> FeatureSet:
    """The features without names or recipe, rows ordered as the name index lists them: class
    folders sorted, subcategory folders sorted, then the index's file order."""
    subs = [name.split("/")[1] for name in test.video_names]
    order = sorted(range(test.num_videos), key=lambda i: (CLASS_NAMES[test.labels[i]], subs[i], i))
    names = []
    for label, sub in sorted({(CLASS_NAMES[test.labels[i]], subs[i]) for i in order}):
        files = [
            test.video_names[i].split("/")[-1]
            for i in order
            if (CLASS_NAMES[test.labels[i]], subs[i]) == (label, sub)
        ]
        folder = root / "data" / "processed" / "test" / label / sub
        folder.mkdir(parents=True)
        torch.save({"filenames": files, "labels": [0] * len(files)}, folder / "processed_data.pt")
        names += files
    legacy = FeatureSet(
        test.features[order], test.labels[order], test.num_frames[order], names, list(CLASS_NAMES), None
    )
    with h5py.File(root / "features_enhanced" / "test_features_multiscale.h5", "w") as h5:
        h5.create_dataset("features", data=legacy.features, compression="gzip")
        h5["labels"] = legacy.labels
        h5["num_frames"] = legacy.num_frames
        h5.attrs["category_mapping"] = json.dumps({name: i for i, name in enumerate(CLASS_NAMES)})
        h5.attrs["num_videos"] = legacy.num_videos
        h5.attrs["max_frames"] = legacy.max_frames
        h5.attrs["feature_dim"] = legacy.feature_dim
        h5.attrs["multi_scale"] = True
    return legacy


def write_original_serving_project(root: Path) -> OriginalServing:
    project = write_original_project(root)
    states = _vary_checkpoints(root / "models_enhanced")
    return OriginalServing(root, _write_legacy_features(root, project.test), states)


def stored_sequence(project: OriginalServing, name: str) -> np.ndarray:
    row = project.test.video_names.index(name)
    return project.test.features[row, : project.test.num_frames[row]]
