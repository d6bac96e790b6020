"""Standard artifact folders of a project root (the folder a researcher runs the app in)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def at(cls, root: str | Path = ".") -> ProjectPaths:
        return cls(Path(root).resolve())

    @property
    def models_dir(self) -> Path:
        return self.root / "models_enhanced"

    @property
    def features_dir(self) -> Path:
        return self.root / "features_enhanced"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def demo_videos_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".cache"

    @property
    def training_metrics_csv(self) -> Path:
        return self.models_dir / "training_metrics.csv"

    @property
    def configuration_analysis_json(self) -> Path:
        return self.models_dir / "configuration_analysis.json"

    def features_file(self, split: str) -> Path:
        return self.features_dir / f"{split}_features_multiscale.h5"

    def legacy_index_dir(self, split: str) -> Path:
        return self.data_dir / "processed" / split
