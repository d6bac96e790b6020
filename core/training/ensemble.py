"""The ensemble's training run: members 1..n one after another, and the run's files
(`best_ensemble_model_<n>.pt`, `training_metrics.csv`, `configuration_analysis.json`) written
atomically as training goes, so an interrupted run leaves only valid files and `resume` continues
with the unfinished members (an unfinished member restarts from its first epoch).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from core.atomic import atomic_write_text
from core.features.store import FeatureSet, load_feature_set
from core.model.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from core.model.network import TemporalModelConfig
from core.outputs import PlannedOutput, check_outputs
from core.paths import (
    CONFIGURATION_ANALYSIS_JSON,
    TRAINING_METRICS_CSV,
    checkpoint_file_name,
    features_file_name,
)
from core.training.history import load_training_history
from core.training.member import (
    EpochRecord,
    MemberResult,
    TrainingConfig,
    TrainingError,
    TrainingProgress,
    train_member,
)

# Header fields of the interrupted run that must equal this run's for its members to be adopted.
RESUME_MUST_MATCH = (
    "model_config", "training_config", "member_training_configs", "feature_recipe", "num_models"
)  # fmt: skip


@dataclass(frozen=True)
class MemberJob:
    """One member to train: its number (its seed follows) and its recipe."""

    member: int
    config: TrainingConfig


MemberRunner = Callable[
    [FeatureSet, FeatureSet, TemporalModelConfig, Sequence[MemberJob], torch.device | None,
     Callable[[EpochRecord], None]],
    Iterable[tuple[int, MemberResult]],
]  # fmt: skip
"""Trains the members and yields each as it finishes, calling back once per epoch; this process
trains them one after another (`train_here`), `core.training.ray_train` in parallel on a cluster."""


def train_here(
    train: FeatureSet,
    val: FeatureSet,
    model_config: TemporalModelConfig,
    jobs: Sequence[MemberJob],
    device: torch.device | None,
    on_epoch: Callable[[EpochRecord], None],
) -> Iterator[tuple[int, MemberResult]]:
    for job in jobs:
        result = train_member(
            train, val, model_config=model_config, config=job.config, member=job.member, device=device,
            on_epoch=on_epoch,
        )  # fmt: skip
        yield job.member, result


def history_columns(num_classes: int) -> list[str]:
    """The columns of `training_metrics.csv`, in order."""
    return [
        "model", "epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
        *(f"class_{k}_f1" for k in range(num_classes)), "time_s",
    ]  # fmt: skip


@dataclass
class EnsembleReport:
    out_dir: Path
    checkpoints: list[Path]
    trained: list[int]
    skipped: list[int]
    summary: dict[str, Any]
    rejected: list[str] = field(default_factory=list)
    """Finished members of the interrupted run that no longer load, with why; they were retrained."""


class TrainingArtifacts:
    """The run's output folder: checkpoints, `training_metrics.csv`, `configuration_analysis.json`."""

    def __init__(self, out_dir: Path, header: dict[str, Any], num_classes: int) -> None:
        self.out_dir = out_dir
        self.header = header
        self.num_classes = num_classes
        self.rows: list[dict[str, float | int]] = []
        self.members: dict[str, dict[str, Any]] = {}
        self.rejected: list[str] = []

    @property
    def csv_path(self) -> Path:
        return self.out_dir / TRAINING_METRICS_CSV

    @property
    def json_path(self) -> Path:
        return self.out_dir / CONFIGURATION_ANALYSIS_JSON

    def checkpoint_path(self, member: int) -> Path:
        return self.out_dir / checkpoint_file_name(member)

    def written_files(self) -> list[Path]:
        """Every file this run writes; `--overwrite` replaces these and nothing else."""
        members = range(1, int(self.header["num_models"]) + 1)
        return [self.csv_path, self.json_path, *(self.checkpoint_path(m) for m in members)]

    def existing(self) -> list[Path]:
        return [p for p in self.written_files() if p.exists() or p.is_symlink()]

    def clear(self) -> None:
        for path in self.existing():
            path.unlink()

    def load_for_resume(self) -> list[int]:
        """Adopt the finished members of the previous run; returns their numbers."""
        if not self.json_path.is_file():
            return []
        previous = json.loads(self.json_path.read_text(encoding="utf-8"))
        for key in RESUME_MUST_MATCH:
            if previous.get(key) != self.header.get(key):
                raise TrainingError(
                    f"{self.json_path}: cannot resume, '{key}' differs from this run's; "
                    "use the same flags as the interrupted run, or start over with --overwrite"
                )
        listed = sorted(
            entry["model"]
            for entry in previous.get("checkpoints", {}).values()
            if entry.get("complete") and self.checkpoint_path(entry["model"]).is_file()
        )
        done = [member for member in listed if self._still_loads(member)]
        self.members = {
            name: entry
            for name, entry in previous.get("checkpoints", {}).items()
            if entry.get("model") in done
        }
        if done and self.csv_path.is_file():
            table = load_training_history(self.csv_path)
            self.rows = table[table["model"].isin(done)].to_dict("records")
        return done

    def _still_loads(self, member: int) -> bool:
        """A checkpoint listed as finished is adopted only if it loads (a crash or a copy may
        have truncated it since)."""
        try:
            load_checkpoint(self.checkpoint_path(member), "cpu")
        except CheckpointError as exc:
            self.rejected.append(f"{exc}; retraining member {member}")
            return False
        return True

    def add_epoch(self, record: EpochRecord) -> None:
        self.rows.append(record.to_row())
        self.write_csv()

    def drop_member_rows(self, member: int) -> None:
        self.rows = [row for row in self.rows if row["model"] != member]

    def write_csv(self) -> None:
        """Rows by member and epoch, however the members' epochs arrived (in parallel on a cluster)."""
        rows = sorted(self.rows, key=lambda row: (row["model"], row["epoch"]))
        table = pd.DataFrame(rows, columns=history_columns(self.num_classes))
        atomic_write_text(self.csv_path, table.to_csv(index=False))

    def add_member(
        self, member: int, result: MemberResult, class_names: list[str], config: TrainingConfig
    ) -> None:
        metrics = result.best_metrics
        self.members[checkpoint_file_name(member)] = {
            "model": member,
            "seed": config.member_seed(member),
            "complete": True,
            "epoch": result.best_epoch,
            "epochs_trained": result.epochs_trained,
            "stopped_early": result.stopped_early,
            "val_accuracy": metrics.accuracy,
            "val_f1_weighted": metrics.f1_weighted,
            "val_f1_per_class": dict(zip(class_names, metrics.f1_per_class, strict=True)),
            "val_precision_per_class": dict(zip(class_names, metrics.precision_per_class, strict=True)),
            "val_recall_per_class": dict(zip(class_names, metrics.recall_per_class, strict=True)),
            "val_confusion_matrix": [list(row) for row in metrics.confusion_matrix],
            "model_config": self.header["model_config"],
            "training_config": config.to_dict(),
        }
        self.write_json()

    def write_json(self) -> None:
        ordered = dict(sorted(self.members.items(), key=lambda item: item[1]["model"]))
        text = json.dumps({**self.header, "checkpoints": ordered}, indent=2)
        atomic_write_text(self.json_path, text + "\n")


def _check_compatible(train: FeatureSet, val: FeatureSet) -> None:
    for split in (train, val):
        if split.num_videos == 0:
            raise TrainingError(f"{split.path} holds no videos; extract features for it first")
    if train.feature_dim != val.feature_dim:
        raise TrainingError(
            f"{train.path} holds {train.feature_dim}-d features but {val.path} holds {val.feature_dim}-d; "
            "extract both splits with the same recipe"
        )
    if train.class_names != val.class_names:
        raise TrainingError(f"{train.path} and {val.path} have different category mappings")
    if train.recipe is not None and val.recipe is not None and train.recipe.differences(val.recipe):
        differences = "; ".join(train.recipe.differences(val.recipe))
        raise TrainingError(
            f"{train.path} and {val.path} were extracted with different recipes ({differences})"
        )


def load_training_splits(features_dir: Path) -> tuple[FeatureSet, FeatureSet]:
    """The train and val feature sets of `features_dir/{split}_features_multiscale.h5`."""
    train = load_feature_set(features_dir / features_file_name("train"))
    val = load_feature_set(features_dir / features_file_name("val"))
    _check_compatible(train, val)
    return train, val


def train_ensemble(
    train: FeatureSet,
    val: FeatureSet,
    out_dir: str | Path,
    *,
    num_models: int = 4,
    model_config: TemporalModelConfig | None = None,
    config: TrainingConfig | None = None,
    member_configs: Mapping[int, TrainingConfig] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: torch.device | None = None,
    progress: Callable[[TrainingProgress], None] | None = None,
    runner: MemberRunner = train_here,
) -> EnsembleReport:
    """Train members 1..num_models and write `best_ensemble_model_{i}.pt`, `training_metrics.csv`
    and `configuration_analysis.json` into `out_dir`. `member_configs` replaces `config` for the
    members it names (the demo trains one member a different way). Each member's files are
    written as soon as it finishes, whichever `runner` trains it."""
    _check_compatible(train, val)
    config = config or TrainingConfig()
    member_configs = dict(member_configs or {})
    model_config = replace(
        model_config or TemporalModelConfig(),
        feature_dim=train.feature_dim,
        num_classes=len(train.class_names),
    )
    header = {
        "num_models": num_models,
        "class_names": list(train.class_names),
        "feature_recipe": train.recipe.to_dict() if train.recipe else None,
        "features": {"train": str(train.path), "val": str(val.path)},
        "train_videos": train.num_videos,
        "val_videos": val.num_videos,
        "model_config": model_config.to_dict(),
        "training_config": config.to_dict(),
    }
    if member_configs:
        header["member_training_configs"] = {str(m): c.to_dict() for m, c in sorted(member_configs.items())}
    artifacts = TrainingArtifacts(Path(out_dir), header, len(train.class_names))
    done = _prepare_output(artifacts, resume=resume, overwrite=overwrite)
    artifacts.write_json()
    artifacts.write_csv()
    jobs = [MemberJob(m, member_configs.get(m, config)) for m in range(1, num_models + 1) if m not in done]
    for job in jobs:
        artifacts.drop_member_rows(job.member)

    def on_epoch(record: EpochRecord) -> None:
        artifacts.add_epoch(record)
        if progress is not None:
            progress(TrainingProgress(record.model, num_models, record, config.max_epochs))

    trained = []
    configs = {job.member: job.config for job in jobs}
    for member, result in runner(train, val, model_config, jobs, device, on_epoch):
        _save_member(artifacts, member, result, train, configs[member])
        trained.append(member)
    return EnsembleReport(
        out_dir=artifacts.out_dir,
        checkpoints=[artifacts.checkpoint_path(m) for m in range(1, num_models + 1)],
        trained=trained,
        skipped=sorted(done),
        summary=json.loads(artifacts.json_path.read_text(encoding="utf-8")),
        rejected=artifacts.rejected,
    )


def save_member_checkpoint(
    path: Path, result: MemberResult, train: FeatureSet, *, seed: int, config: TrainingConfig
) -> None:
    """A trained member in the original layout, plus what we add: its classes, the features'
    recipe, its seed and its training recipe."""
    save_checkpoint(
        path,
        result.model,
        epoch=result.best_epoch,
        best_val_acc=result.best_val_acc,
        metrics=result.best_metrics.to_dict(),
        history=result.history,
        optimizer_state=result.optimizer_state,
        class_names=train.class_names,
        recipe=train.recipe,
        seed=seed,
        training_config=config.to_dict(),
    )


def _save_member(
    artifacts: TrainingArtifacts, member: int, result: MemberResult, train: FeatureSet, config: TrainingConfig
) -> None:
    save_member_checkpoint(
        artifacts.checkpoint_path(member), result, train, seed=config.member_seed(member), config=config
    )
    artifacts.add_member(member, result, list(train.class_names), config)


def _prepare_output(artifacts: TrainingArtifacts, *, resume: bool, overwrite: bool) -> list[int]:
    # Folders or unwritable files in the way are refused whatever the flags.
    check_outputs([PlannedOutput(p, "training artifact") for p in artifacts.written_files()], overwrite=True)
    if resume:
        return artifacts.load_for_resume()
    existing = artifacts.existing()
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing[:4])
        raise TrainingError(
            f"{artifacts.out_dir} already holds training artifacts ({names}); "
            "pass --resume to continue that run or --overwrite to replace it"
        )
    artifacts.clear()
    return []
