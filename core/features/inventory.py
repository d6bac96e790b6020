"""Which feature files a project folder holds, and what each declares, without reading features."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.features.recipe import FeatureRecipe
from core.features.store import FeatureFileError, open_features
from core.paths import SPLITS, split_of


@dataclass
class FeatureFileInfo:
    path: Path
    split: str
    num_videos: int = 0
    feature_dim: int = 0
    max_frames: int = 0
    class_names: list[str] = field(default_factory=list)
    recipe: FeatureRecipe | None = None
    error: str | None = None


def inspect_feature_file(path: Path) -> FeatureFileInfo:
    """What a file declares, or its one-line problem; an empty file cannot be analysed."""
    try:
        with open_features(path) as handle:
            handle.require_videos()
            return FeatureFileInfo(
                path=path,
                split=split_of(path),
                num_videos=handle.num_videos,
                feature_dim=handle.feature_dim,
                max_frames=handle.max_frames,
                class_names=list(handle.class_names),
                recipe=handle.recipe,
            )
    except FeatureFileError as exc:
        return FeatureFileInfo(path=path, split=split_of(path), error=str(exc))


def feature_files(features_dir: Path) -> list[Path]:
    """Every `*.h5` under the folder, standard splits first."""
    if not features_dir.is_dir():
        return []
    files = sorted(features_dir.rglob("*.h5"))
    order = {split: i for i, split in enumerate(SPLITS)}
    return sorted(files, key=lambda p: (order.get(split_of(p), len(order)), p.name))
