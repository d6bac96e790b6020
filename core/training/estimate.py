"""What an epoch costs before training starts: a few real batches of the member's size on the
features and device it will train on, timed (fetching each batch included), and scaled to the
epoch's batch count. And while a job runs, its time left: the epochs' measured times, smoothed,
times the epochs still expected (early stopping bounds them)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd
import torch

from core.features.store import FeatureSet
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.training.batches import SequenceDataset, pad_collate
from core.training.eta import Remaining, smoothed_rate
from core.training.jobs import JOB_FILE, RetrainSnapshot
from core.training.losses import FocalLoss, class_balanced_alpha
from core.training.member import TrainingConfig, training_batches

# Above this hidden size a member is "full-size" (the original's is 768); on CPU a GPU is advised.
FULL_SIZE_HIDDEN = 512
# A whole run on CPU longer than this is worth a GPU whatever the member's size.
LONG_RUN_S = 3600.0


@dataclass(frozen=True)
class EpochEstimate:
    seconds_per_epoch: float
    train_batch_s: float
    val_batch_s: float
    train_batches: int
    val_batches: int
    measured_batches: int
    device: str
    hidden_dim: int
    max_epochs: int

    @property
    def longest_run_s(self) -> float:
        return self.seconds_per_epoch * self.max_epochs

    @property
    def gpu_recommended(self) -> bool:
        on_cpu = self.device == "cpu"
        return on_cpu and (self.hidden_dim >= FULL_SIZE_HIDDEN or self.longest_run_s > LONG_RUN_S)


def _time_train_batches(
    model: TemporalClassifier,
    train: FeatureSet,
    config: TrainingConfig,
    device: torch.device,
    batches: int,
    min_seconds: float,
) -> list[float]:
    criterion = FocalLoss(
        class_balanced_alpha(train.labels, model.config.num_classes, clip=config.alpha_clip),
        gamma=config.focal_gamma,
        label_smoothing=config.label_smoothing,
    ).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    model.train()
    timings: list[float] = []
    loader = iter(training_batches(train, config, config.base_seed))
    # The first batch pays for allocation and kernel selection; it is not counted. Timing goes on
    # for `min_seconds` (within one epoch) so that a stall on a busy machine is averaged out.
    while len(timings) <= batches or sum(timings[1:]) < min_seconds:
        started = time.perf_counter()
        batch = next(loader, None)
        if batch is None:
            break
        x, lengths, labels = batch
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x.to(device), lengths), labels.to(device))
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        timings.append(time.perf_counter() - started)
    return timings[1:] or timings


@torch.inference_mode()
def _time_val_batch(
    model: TemporalClassifier, val: FeatureSet, batch_size: int, device: torch.device
) -> float:
    model.eval()
    rows = list(range(min(batch_size, val.num_videos)))
    dataset = SequenceDataset(val.features[rows], val.num_frames[rows], val.labels[rows])
    x, lengths, _ = pad_collate([dataset[i] for i in range(len(rows))])
    model(x.to(device), lengths)
    started = time.perf_counter()
    model(x.to(device), lengths)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started


def estimate_epoch(
    train: FeatureSet,
    val: FeatureSet,
    model_config: TemporalModelConfig,
    config: TrainingConfig,
    device: torch.device,
    batches: int = 3,
    min_seconds: float = 0.0,
) -> EpochEstimate:
    """Seconds per epoch of this member size on these features and this device, measured on
    `batches` training batches (after one untimed), more until `min_seconds` of them are timed
    (at most one epoch's), and one validation batch; the random streams of the caller are left
    as they were."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        model = TemporalClassifier(model_config).to(device)
        timed = _time_train_batches(model, train, config, device, batches, min_seconds)
        val_s = _time_val_batch(model, val, config.batch_size, device)
    train_s = sum(timed) / len(timed)
    train_batches = math.ceil(train.num_videos / config.batch_size)
    val_batches = math.ceil(val.num_videos / config.batch_size)
    return EpochEstimate(
        seconds_per_epoch=train_s * train_batches + val_s * val_batches,
        train_batch_s=train_s,
        val_batch_s=val_s,
        train_batches=train_batches,
        val_batches=val_batches,
        measured_batches=len(timed),
        device=device.type,
        hidden_dim=model_config.hidden_dim,
        max_epochs=config.max_epochs,
    )


def typical_epochs(history: pd.DataFrame) -> float | None:
    """How many epochs the ensemble's members trained for (their mean), from its history table."""
    if history.empty or not {"model", "epoch"} <= set(history.columns):
        return None
    per_member = pd.to_numeric(history["epoch"], errors="coerce").groupby(history["model"]).max().dropna()
    return float(per_member.mean()) if not per_member.empty else None


def expected_epochs(
    val_accuracies: list[float], max_epochs: int, patience: int, typical: float | None
) -> float:
    """The epoch a run is expected to end at: as long as the members trained (else the most it may),
    but never before early stopping could end it (the best epoch so far plus the patience, when
    validation stops improving) and never after `max_epochs`."""
    done = len(val_accuracies)
    best = max(range(done), key=lambda i: val_accuracies[i]) + 1 if done else 0
    earliest = min(best + patience, max_epochs)
    wanted = typical if typical is not None else max_epochs
    return float(min(max(wanted, earliest, done), max_epochs))


def retrain_time_left(
    rows: list[dict],
    *,
    max_epochs: int,
    patience: int,
    typical: float | None,
    seconds_into_epoch: float,
) -> Remaining:
    """Seconds left in a running retrain, from its finished epochs' `time_s`, smoothed; before
    the first epoch has ended, what is being timed."""
    if not rows:
        return Remaining(None, "timing the first epoch")
    end = expected_epochs([float(row["val_acc"]) for row in rows], max_epochs, patience, typical)
    rate = float(rows[0]["time_s"])
    for row in rows[1:]:
        rate = smoothed_rate(rate, float(row["time_s"]), 1, end)
    return Remaining(max((end - len(rows)) * rate - seconds_into_epoch, 0.0))


def job_time_left(snapshot: RetrainSnapshot, typical: float | None, now: float | None = None) -> Remaining:
    """A running job's time left; its file was last written when its last epoch ended."""
    try:
        ended_at = (snapshot.folder / JOB_FILE).stat().st_mtime
    except OSError:
        ended_at = time.time()
    patience = int(snapshot.request.options.get("patience", TrainingConfig().patience))
    return retrain_time_left(
        snapshot.rows,
        max_epochs=snapshot.max_epochs,
        patience=patience,
        typical=typical,
        seconds_into_epoch=max((time.time() if now is None else now) - ended_at, 0.0),
    )


def measured_epoch_seconds(snapshots: list[RetrainSnapshot], device: str) -> tuple[float, int] | None:
    """The median epoch time of the newest job (on `device`) that finished an epoch, and how many
    epochs it is measured on: a better guess than a few timed batches once one exists."""
    for snapshot in snapshots:
        times = [float(row["time_s"]) for row in snapshot.rows if "time_s" in row]
        if snapshot.request.device == device and times:
            return float(pd.Series(times).median()), len(times)
    return None
