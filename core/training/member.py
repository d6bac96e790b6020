"""Training the temporal-model ensemble the way the original did, minus its bugs.

Per member i (seed base_seed + i - 1): focal loss with class-balanced alpha, AdamW, an
epoch-based cosine-restart schedule, class-balanced batches, gradient clipping, and early
stopping on validation accuracy keeping the best checkpoint. Artifacts (DESIGN §5) are written
atomically as training goes: `training_metrics.csv` after every epoch, a member's checkpoint
and its `configuration_analysis.json` entry when the member finishes, so an interrupted run
leaves only valid files and `resume` continues with the unfinished members (an unfinished
member restarts from its first epoch).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from core.atomic import atomic_write_text
from core.device import default_device
from core.evaluation.metrics import Scores, compute_metrics
from core.features.store import FeatureSet, load_feature_set
from core.model.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.paths import (
    CONFIGURATION_ANALYSIS_JSON,
    TRAINING_METRICS_CSV,
    checkpoint_file_name,
    features_file_name,
)
from core.training.batches import (
    AugmentationConfig,
    EpochCosineRestarts,
    SequenceDataset,
    balanced_sampler,
    pad_collate,
)
from core.training.history import load_training_history
from core.training.losses import FocalLoss, class_balanced_alpha


class TrainingError(ValueError):
    """A training run that cannot start or continue; the message says what to change."""


@dataclass(frozen=True)
class TrainingConfig:
    max_epochs: int = 150
    patience: int = 25
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    focal_gamma: float = 2.0
    label_smoothing: float = 0.1
    alpha_clip: tuple[float, float] = (0.5, 10.0)
    restart_epochs: int = 20
    restart_mult: int = 2
    eta_min: float = 1e-6
    grad_clip_norm: float = 1.0
    balanced_sampling: bool = True
    base_seed: int = 42
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["betas"] = list(self.betas)
        data["alpha_clip"] = list(self.alpha_clip)
        return data

    def __post_init__(self) -> None:
        for name in ("max_epochs", "patience", "batch_size", "restart_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"training setting {name} must be at least 1, got {getattr(self, name)}")

    def member_seed(self, member: int) -> int:
        return self.base_seed + member - 1


@dataclass(frozen=True)
class EpochRecord:
    """One row of `training_metrics.csv` (accuracies and F1 in percent)."""

    model: int
    epoch: int
    train_loss: float
    train_acc: float
    train_f1: float
    val_loss: float
    val_acc: float
    val_f1: float
    lr: float
    class_f1: tuple[float, ...]
    time_s: float

    def to_row(self) -> dict[str, float | int]:
        row: dict[str, float | int] = {
            k: getattr(self, k) for k in ("model", "epoch", "train_loss", "train_acc", "train_f1",
                                          "val_loss", "val_acc", "val_f1", "lr")
        }  # fmt: skip
        row.update({f"class_{k}_f1": value for k, value in enumerate(self.class_f1)})
        row["time_s"] = self.time_s
        return row


@dataclass
class MemberResult:
    model: TemporalClassifier
    best_epoch: int
    best_val_acc: float
    best_metrics: Scores
    optimizer_state: dict[str, Any]
    history: dict[str, list]
    epochs_trained: int
    stopped_early: bool


@dataclass(frozen=True)
class TrainingProgress:
    member: int
    num_models: int
    record: EpochRecord
    max_epochs: int


@dataclass
class EnsembleReport:
    out_dir: Path
    checkpoints: list[Path]
    trained: list[int]
    skipped: list[int]
    summary: dict[str, Any]
    rejected: list[str] = field(default_factory=list)
    """Finished members of the interrupted run that no longer load, with why; they were retrained."""



def _loader(dataset: SequenceDataset, batch_size: int, *, sampler: Any = None) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=pad_collate)


def _train_loader(train: FeatureSet, config: TrainingConfig, seed: int) -> DataLoader:
    dataset = SequenceDataset(
        train.features, train.num_frames, train.labels, augmentation=config.augmentation, seed=seed
    )
    if config.balanced_sampling:
        sampler = balanced_sampler(train.labels, seed=seed)
    else:
        sampler = torch.utils.data.RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    return _loader(dataset, config.batch_size, sampler=sampler)


def _run_train_epoch(
    model: TemporalClassifier,
    loader: DataLoader,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    schedule: EpochCosineRestarts,
    epoch_index: int,
    config: TrainingConfig,
    device: torch.device,
) -> tuple[float, np.ndarray, np.ndarray]:
    model.train()
    total_loss, targets, predictions = 0.0, [], []
    for batch_index, (x, lengths, labels) in enumerate(loader):
        x, labels = x.to(device), labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        logits = model(x, lengths)
        loss = criterion(logits, labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
        optimizer.step()
        schedule.step_batch(epoch_index, batch_index, len(loader))
        total_loss += loss.item() * len(labels)
        targets.append(labels.cpu().numpy())
        predictions.append(logits.argmax(dim=1).cpu().numpy())
    y_true = np.concatenate(targets)
    return total_loss / len(y_true), y_true, np.concatenate(predictions)


@torch.inference_mode()
def _run_validation(
    model: TemporalClassifier, loader: DataLoader, criterion: nn.Module, device: torch.device
) -> tuple[float, np.ndarray, np.ndarray]:
    model.eval()
    total_loss, targets, predictions = 0.0, [], []
    for x, lengths, labels in loader:
        x, labels = x.to(device), labels.to(device)
        logits = model(x, lengths)
        total_loss += criterion(logits, labels).item() * len(labels)
        targets.append(labels.cpu().numpy())
        predictions.append(logits.argmax(dim=1).cpu().numpy())
    y_true = np.concatenate(targets)
    return total_loss / len(y_true), y_true, np.concatenate(predictions)


def _append_history(history: dict[str, list], record: EpochRecord) -> None:
    for key in ("train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr", "time_s"):
        history.setdefault(key, []).append(getattr(record, key))
    history.setdefault("val_f1_per_class", []).append(list(record.class_f1))


def train_member(
    train: FeatureSet,
    val: FeatureSet,
    *,
    model_config: TemporalModelConfig,
    config: TrainingConfig,
    member: int = 1,
    device: torch.device | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> MemberResult:
    """Train one ensemble member and return it holding its best-val-accuracy weights."""
    device = device or default_device()
    seed = config.member_seed(member)
    torch.manual_seed(seed)
    num_classes = model_config.num_classes
    model = TemporalClassifier(model_config).to(device)
    criterion = FocalLoss(
        class_balanced_alpha(train.labels, num_classes, clip=config.alpha_clip),
        gamma=config.focal_gamma,
        label_smoothing=config.label_smoothing,
    ).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, betas=config.betas, weight_decay=config.weight_decay
    )
    schedule = EpochCosineRestarts(
        optimizer, t0_epochs=config.restart_epochs, t_mult=config.restart_mult, eta_min=config.eta_min
    )
    train_loader = _train_loader(train, config, seed)
    val_loader = _loader(SequenceDataset(val.features, val.num_frames, val.labels), config.batch_size)

    best: dict[str, Any] = {"val_acc": -1.0}
    history: dict[str, list] = {}
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        started = time.perf_counter()
        lr = schedule.current_lr()
        train_loss, y_train, p_train = _run_train_epoch(
            model, train_loader, criterion, optimizer, schedule, epoch - 1, config, device
        )
        val_loss, y_val, p_val = _run_validation(model, val_loader, criterion, device)
        train_metrics = compute_metrics(y_train, p_train, num_classes)
        val_metrics = compute_metrics(y_val, p_val, num_classes)
        record = EpochRecord(
            model=member, epoch=epoch, train_loss=train_loss, train_acc=train_metrics.accuracy,
            train_f1=train_metrics.f1_weighted, val_loss=val_loss, val_acc=val_metrics.accuracy,
            val_f1=val_metrics.f1_weighted, lr=lr, class_f1=val_metrics.f1_per_class,
            time_s=time.perf_counter() - started,
        )  # fmt: skip
        _append_history(history, record)
        if record.val_acc > best["val_acc"]:
            best = {
                "val_acc": record.val_acc,
                "epoch": epoch,
                "metrics": val_metrics,
                "state": copy.deepcopy(model.state_dict()),
                "optimizer": copy.deepcopy(optimizer.state_dict()),
            }
        if on_epoch is not None:
            on_epoch(record)
        if epoch - best["epoch"] >= config.patience:
            break
    model.load_state_dict(best["state"])
    model.eval()
    return MemberResult(
        model=model,
        best_epoch=best["epoch"],
        best_val_acc=best["val_acc"],
        best_metrics=best["metrics"],
        optimizer_state=best["optimizer"],
        history=history,
        epochs_trained=epoch,
        stopped_early=epoch < config.max_epochs,
    )


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

    def existing(self) -> list[Path]:
        candidates = [self.csv_path, self.json_path, *self.out_dir.glob(checkpoint_file_name("*"))]
        return [p for p in candidates if p.is_file()]

    def clear(self) -> None:
        for path in self.existing():
            path.unlink()

    def load_for_resume(self) -> list[int]:
        """Adopt the finished members of the previous run; returns their numbers."""
        if not self.json_path.is_file():
            return []
        previous = json.loads(self.json_path.read_text(encoding="utf-8"))
        for key in ("model_config", "training_config", "feature_recipe", "num_models"):
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
        columns = [
            "model", "epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
            *(f"class_{k}_f1" for k in range(self.num_classes)), "time_s",
        ]  # fmt: skip
        atomic_write_text(self.csv_path, pd.DataFrame(self.rows, columns=columns).to_csv(index=False))

    def add_member(self, member: int, seed: int, result: MemberResult, class_names: list[str]) -> None:
        metrics = result.best_metrics
        self.members[checkpoint_file_name(member)] = {
            "model": member,
            "seed": seed,
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
            "training_config": self.header["training_config"],
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
    resume: bool = False,
    overwrite: bool = False,
    device: torch.device | None = None,
    progress: Callable[[TrainingProgress], None] | None = None,
) -> EnsembleReport:
    """Train members 1..num_models and write `best_ensemble_model_{i}.pt`, `training_metrics.csv`
    and `configuration_analysis.json` into `out_dir`."""
    _check_compatible(train, val)
    config = config or TrainingConfig()
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
    artifacts = TrainingArtifacts(Path(out_dir), header, len(train.class_names))
    done = _prepare_output(artifacts, resume=resume, overwrite=overwrite)
    artifacts.write_json()
    artifacts.write_csv()
    trained = []
    for member in range(1, num_models + 1):
        if member in done:
            continue
        artifacts.drop_member_rows(member)

        def on_epoch(record: EpochRecord, member: int = member) -> None:
            artifacts.add_epoch(record)
            if progress is not None:
                progress(TrainingProgress(member, num_models, record, config.max_epochs))

        result = train_member(
            train,
            val,
            model_config=model_config,
            config=config,
            member=member,
            device=device,
            on_epoch=on_epoch,
        )
        save_checkpoint(
            artifacts.checkpoint_path(member),
            result.model,
            epoch=result.best_epoch,
            best_val_acc=result.best_val_acc,
            metrics=result.best_metrics.to_dict(),
            history=result.history,
            optimizer_state=result.optimizer_state,
            class_names=train.class_names,
            recipe=train.recipe,
            seed=config.member_seed(member),
            training_config=config.to_dict(),
        )
        artifacts.add_member(member, config.member_seed(member), result, list(train.class_names))
        trained.append(member)
    return EnsembleReport(
        out_dir=artifacts.out_dir,
        checkpoints=[artifacts.checkpoint_path(m) for m in range(1, num_models + 1)],
        trained=trained,
        skipped=sorted(done),
        summary=json.loads(artifacts.json_path.read_text(encoding="utf-8")),
        rejected=artifacts.rejected,
    )


def _prepare_output(artifacts: TrainingArtifacts, *, resume: bool, overwrite: bool) -> list[int]:
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
