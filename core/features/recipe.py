"""The feature recipe: how a video becomes the [T, D] sequence a temporal model reads.

A checkpoint is only meaningful on features made with the recipe it was trained on, so the
recipe travels with feature files (HDF5 attrs) and with our checkpoints.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

DEFAULT_SCALES: tuple[float, ...] = (1.0, 0.85, 1.15)
RECIPE_ATTR = "feature_recipe"


@dataclass(frozen=True)
class FeatureRecipe:
    backbone: str = "efficientnet_lite0"
    num_frames: int = 64
    image_size: int = 256
    scales: tuple[float, ...] = DEFAULT_SCALES
    normalization: str = "half"
    feature_dim: int = 1280

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["scales"] = list(self.scales)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureRecipe:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown feature-recipe fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "scales" in values:
            values["scales"] = tuple(float(s) for s in values["scales"])
        for name in ("num_frames", "image_size", "feature_dim"):
            if name in values:
                values[name] = int(values[name])
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> FeatureRecipe:
        return cls.from_dict(json.loads(text))

    def differences(self, other: FeatureRecipe) -> list[str]:
        """Human-readable list of fields where two recipes disagree (empty when they match)."""
        out = []
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if mine != theirs:
                out.append(f"{f.name}: {mine!r} vs {theirs!r}")
        return out

    def scale_lengths(self, decoded_frames: int | None = None) -> list[int]:
        n = self.num_frames if decoded_frames is None else decoded_frames
        return [len(scale_indices(n, s)) for s in self.scales]

    @property
    def sequence_length(self) -> int:
        """Stored time steps per video: the longest scale (73 for 64 frames)."""
        return max(self.scale_lengths())


def scale_indices(num_frames: int, scale: float) -> np.ndarray:
    """Frame indices one scale picks from `num_frames` decoded frames (docs/formats.md, numpy floor)."""
    if scale == 1.0:
        return np.arange(num_frames)
    count = max(int(num_frames * scale), 5)
    return np.linspace(0, num_frames - 1, count).astype(int)
