"""Training one temporal-model member the way the original did, minus its bugs.

Member i (seed base_seed + i - 1): focal loss with class-balanced alpha, AdamW, an epoch-based
cosine-restart schedule, class-balanced batches, gradient clipping, and early stopping on
validation accuracy keeping the best checkpoint. The ensemble's run and its files are in
`core.training.ensemble`.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from core.device import default_device
from core.evaluation.metrics import Scores, compute_metrics
from core.features.store import FeatureSet
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.training.batches import (
    EpochCosineRestarts,
    SequenceDataset,
    balanced_sampler,
    class_share_sampler,
    pad_collate,
)
from core.training.config import TrainingConfig
from core.training.losses import FocalLoss, class_balanced_alpha


class TrainingError(ValueError):
    """A training run that cannot start or continue; the message says what to change."""


class TrainingStopped(Exception):
    """Raised between batches when `should_stop` says so; the last finished epoch's resume state
    (handed to `on_state`) is intact."""


ResumeState = dict[str, Any]
"""Everything needed to continue training after an epoch exactly as if it had not stopped: weights,
optimizer and schedule state, the best epoch so far, the history and every random stream."""
StopCheck = Callable[[], bool]


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


def _loader(dataset: SequenceDataset, batch_size: int, *, sampler: Any = None) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False, collate_fn=pad_collate)


def training_batches(train: FeatureSet, config: TrainingConfig, seed: int) -> DataLoader:
    """Batches of the training split, sampled as the recipe says."""
    dataset = SequenceDataset(
        train.features, train.num_frames, train.labels, augmentation=config.augmentation, seed=seed
    )
    if config.class_shares is not None:
        sampler = class_share_sampler(train.labels, config.class_shares, seed=seed)
    elif config.balanced_sampling:
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
    should_stop: StopCheck | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    model.train()
    total_loss, targets, predictions = 0.0, [], []
    for batch_index, (x, lengths, labels) in enumerate(loader):
        if should_stop is not None and should_stop():
            raise TrainingStopped(f"stopped in epoch {epoch_index + 1}")
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
    """The original trainer's key names, so either tool reads the other's checkpoints."""
    for key in ("train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "time_s"):
        history.setdefault(key, []).append(getattr(record, key))
    history.setdefault("learning_rates", []).append(record.lr)
    history.setdefault("val_per_class_f1", []).append(list(record.class_f1))


def train_member(
    train: FeatureSet,
    val: FeatureSet,
    *,
    model_config: TemporalModelConfig,
    config: TrainingConfig,
    member: int = 1,
    device: torch.device | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    resume: ResumeState | None = None,
    on_state: Callable[[ResumeState], None] | None = None,
    should_stop: StopCheck | None = None,
) -> MemberResult:
    """Train one ensemble member and return it holding its best-val-accuracy weights.

    `on_state` receives the resume state after every epoch; passing one back as `resume`
    continues from that epoch. `should_stop` is asked before every batch."""
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
    train_loader = training_batches(train, config, seed)
    val_loader = _loader(SequenceDataset(val.features, val.num_frames, val.labels), config.batch_size)

    best: dict[str, Any] = {"val_acc": -1.0}
    history: dict[str, list] = {}
    first_epoch = 1
    if resume is not None:
        best, history, first_epoch = _restore(resume, model, optimizer, schedule, train_loader)
        if first_epoch - 1 - best["epoch"] >= config.patience:
            first_epoch = config.max_epochs + 1  # it had stopped early before it was interrupted
    for epoch in range(first_epoch, config.max_epochs + 1):
        started = time.perf_counter()
        lr = schedule.current_lr()
        train_loss, y_train, p_train = _run_train_epoch(
            model, train_loader, criterion, optimizer, schedule, epoch - 1, config, device, should_stop
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
        if on_state is not None:
            on_state(_resume_state(epoch, model, optimizer, schedule, train_loader, best, history))
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
        epochs_trained=len(history["val_acc"]),
        stopped_early=len(history["val_acc"]) < config.max_epochs,
    )


def _random_streams(loader: DataLoader) -> dict[str, Any]:
    dataset: SequenceDataset = loader.dataset  # type: ignore[assignment]
    streams: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "sampler": loader.sampler.generator.get_state(),  # type: ignore[attr-defined]
        "augmentation": json.dumps(dataset.rng.bit_generator.state),
    }
    if torch.cuda.is_available():
        streams["cuda"] = torch.cuda.get_rng_state_all()
    return streams


def _resume_state(
    epoch: int,
    model: TemporalClassifier,
    optimizer: torch.optim.Optimizer,
    schedule: EpochCosineRestarts,
    loader: DataLoader,
    best: dict[str, Any],
    history: dict[str, list],
) -> ResumeState:
    return {
        "epoch": epoch,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.scheduler.state_dict(),
        "best": {**best, "metrics": best["metrics"].to_dict()},
        "history": history,
        "random": _random_streams(loader),
    }


def _restore(
    state: ResumeState,
    model: TemporalClassifier,
    optimizer: torch.optim.Optimizer,
    schedule: EpochCosineRestarts,
    loader: DataLoader,
) -> tuple[dict[str, Any], dict[str, list], int]:
    """Put the run back where `state` left it; returns best, history and the next epoch."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.scheduler.load_state_dict(state["schedule"])
    streams = state["random"]
    torch.set_rng_state(streams["torch"])
    loader.sampler.generator.set_state(streams["sampler"])  # type: ignore[attr-defined]
    loader.dataset.rng.bit_generator.state = json.loads(streams["augmentation"])  # type: ignore[attr-defined]
    if "cuda" in streams and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(streams["cuda"])
    best = {**state["best"], "metrics": Scores.from_dict(state["best"]["metrics"])}
    history = {key: list(values) for key, values in state["history"].items()}
    return best, history, int(state["epoch"]) + 1
