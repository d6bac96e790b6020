"""Writing HDF5 feature files: an appending writer that can resume, and whole splits at once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from core.classes import CLASS_NAMES
from core.features.recipe import RECIPE_ATTR, FeatureRecipe
from core.features.store import REQUIRED_DATASETS, STRING_DTYPE, FeatureFileError, FeatureSet, decode_attr


def is_written_features_file(path: Path) -> bool:
    """A feature file this project's extraction wrote: HDF5 with the feature datasets and names."""
    try:
        if not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r") as h5:
            return all(name in h5 for name in (*REQUIRED_DATASETS, "video_names"))
    except (OSError, ValueError):
        return False


class FeatureWriter:
    """Appends videos one at a time, flushing each, so an interrupted extraction keeps its work."""

    def __init__(
        self,
        path: str | Path,
        *,
        class_names: Sequence[str] = CLASS_NAMES,
        recipe: FeatureRecipe | None,
        max_frames: int,
        feature_dim: int,
        resume: bool = False,
    ) -> None:
        self.path = Path(path)
        self.class_names = list(class_names)
        self.recipe = recipe
        self.max_frames = max_frames
        self.feature_dim = feature_dim
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and self.path.is_file():
            self._h5 = h5py.File(self.path, "a")
            self._check_resumable()
        else:
            self._h5 = h5py.File(self.path, "w")
            self._create_datasets()
        self.done_names: set[str] = {decode_attr(n) for n in self._h5["video_names"][()]}
        self._write_attrs()

    @classmethod
    def for_recipe(
        cls,
        path: str | Path,
        recipe: FeatureRecipe,
        *,
        class_names: Sequence[str] = CLASS_NAMES,
        resume: bool = False,
    ) -> FeatureWriter:
        """A writer sized by the recipe: its sequence length and feature dimension."""
        return cls(
            path,
            class_names=class_names,
            recipe=recipe,
            max_frames=recipe.sequence_length,
            feature_dim=recipe.feature_dim,
            resume=resume,
        )

    def __enter__(self) -> FeatureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def append(self, name: str, features: np.ndarray, label: int) -> None:
        length, dim = features.shape
        if dim != self.feature_dim:
            raise ValueError(f"{name}: feature dim {dim} != file's {self.feature_dim}")
        if not 1 <= length <= self.max_frames:
            raise ValueError(f"{name}: {length} steps, expected 1..{self.max_frames}")
        row = self._h5["labels"].shape[0]
        for key in ("features", "labels", "num_frames", "video_names"):
            self._h5[key].resize(row + 1, axis=0)
        padded = np.zeros((self.max_frames, dim), dtype=np.float32)
        padded[:length] = features
        self._h5["features"][row] = padded
        self._h5["labels"][row] = label
        self._h5["num_frames"][row] = length
        self._h5["video_names"][row] = name
        self._h5.attrs["num_videos"] = row + 1
        self._h5.flush()
        self.done_names.add(name)

    def close(self) -> None:
        if self._h5.id.valid:
            self._write_attrs()
            self._h5.close()

    def _create_datasets(self) -> None:
        self._h5.create_dataset(
            "features",
            shape=(0, self.max_frames, self.feature_dim),
            maxshape=(None, self.max_frames, self.feature_dim),
            chunks=(1, self.max_frames, self.feature_dim),
            dtype=np.float32,
            compression="gzip",
        )
        self._h5.create_dataset("labels", shape=(0,), maxshape=(None,), dtype=np.int64)
        self._h5.create_dataset("num_frames", shape=(0,), maxshape=(None,), dtype=np.int32)
        self._h5.create_dataset("video_names", shape=(0,), maxshape=(None,), dtype=STRING_DTYPE)

    def _check_resumable(self) -> None:
        missing = [name for name in (*REQUIRED_DATASETS, "video_names") if name not in self._h5]
        shape = self._h5["features"].shape[1:] if "features" in self._h5 else None
        if missing or shape != (self.max_frames, self.feature_dim):
            raise FeatureFileError(
                self.path,
                "cannot resume: the existing file was written with a different layout; "
                "delete it or choose another --out",
            )
        existing = self._h5.attrs.get(RECIPE_ATTR)
        if self.recipe is not None and existing is not None:
            differences = self.recipe.differences(FeatureRecipe.from_json(decode_attr(existing)))
            if differences:
                raise FeatureFileError(
                    self.path, f"cannot resume with a different recipe ({'; '.join(differences)})"
                )

    def _write_attrs(self) -> None:
        attrs = self._h5.attrs
        attrs["num_videos"] = int(self._h5["labels"].shape[0])
        attrs["max_frames"] = self.max_frames
        attrs["feature_dim"] = self.feature_dim
        attrs["category_mapping"] = json.dumps({name: i for i, name in enumerate(self.class_names)})
        attrs["multi_scale"] = bool(self.recipe is None or len(self.recipe.scales) > 1)
        if self.recipe is not None:
            attrs[RECIPE_ATTR] = self.recipe.to_json()
            for key, value in self.recipe.to_dict().items():
                attrs[f"recipe_{key}"] = value


def write_feature_set(path: str | Path, feature_set: FeatureSet) -> None:
    """Write a whole split (used by tests and tools that build features in memory)."""
    with FeatureWriter(
        path,
        class_names=feature_set.class_names,
        recipe=feature_set.recipe,
        max_frames=feature_set.features.shape[1],
        feature_dim=feature_set.feature_dim,
    ) as writer:
        for i, name in enumerate(feature_set.video_names):
            writer.append(name, feature_set.video(i), int(feature_set.labels[i]))
