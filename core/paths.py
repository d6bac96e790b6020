"""Every artifact name, and the standard folders of a project root (the folder a researcher runs
the app in). The names are the original project's, so its tools and ours read each other's files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SPLITS: tuple[str, ...] = ("train", "val", "test")
MODELS_DIR = "models_enhanced"
FEATURES_DIR = "features_enhanced"
DATA_DIR = "data"
RUNS_DIR = "runs"
CACHE_DIR = ".cache"
TRAINING_METRICS_CSV = "training_metrics.csv"
CONFIGURATION_ANALYSIS_JSON = "configuration_analysis.json"
CHECKPOINT_PATTERN = re.compile(r"^best_ensemble_model_(\d+)\.pt$")
FEATURES_SUFFIX = "_features_multiscale.h5"
RETRAIN_PROVENANCE_JSON = "retrain_provenance.json"
RETRAIN_STATE = "retrain_state.pt"
AUDIT_SUFFIX = "-audit.json"
"""Audit documents (`python -m core audit`) share `runs/` with evaluation runs, told apart by name."""


def checkpoint_file_name(member: int | str) -> str:
    """`best_ensemble_model_<n>.pt`; `member="*"` gives the glob pattern."""
    return f"best_ensemble_model_{member}.pt"


def checkpoint_backup_name(member: int, stamp: str) -> str:
    """`best_ensemble_model_<n>.backup-<stamp>.pt`: kept beside the members, never read as one
    (it does not match CHECKPOINT_PATTERN)."""
    return f"best_ensemble_model_{member}.backup-{stamp}.pt"


def features_file_name(split: str) -> str:
    return f"{split}{FEATURES_SUFFIX}"


def split_of(features_path: Path) -> str:
    """`test` for `.../test_features_multiscale.h5`."""
    return features_path.name.split(FEATURES_SUFFIX)[0]


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def at(cls, root: str | Path = ".") -> ProjectPaths:
        return cls(Path(root).resolve())

    @property
    def models_dir(self) -> Path:
        return self.root / MODELS_DIR

    @property
    def features_dir(self) -> Path:
        return self.root / FEATURES_DIR

    @property
    def data_dir(self) -> Path:
        return self.root / DATA_DIR

    @property
    def demo_videos_dir(self) -> Path:
        return self.data_dir / "demo"

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS_DIR

    @property
    def retrain_dir(self) -> Path:
        """Candidates retrained from the app, one folder each."""
        return self.runs_dir / "retrain"

    @property
    def cache_dir(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def training_metrics_csv(self) -> Path:
        return self.models_dir / TRAINING_METRICS_CSV

    @property
    def configuration_analysis_json(self) -> Path:
        return self.models_dir / CONFIGURATION_ANALYSIS_JSON

    def checkpoint(self, member: int) -> Path:
        return self.models_dir / checkpoint_file_name(member)

    def features_file(self, split: str) -> Path:
        return self.features_dir / features_file_name(split)

    def legacy_index_dir(self, split: str) -> Path:
        return self.data_dir / "processed" / split
