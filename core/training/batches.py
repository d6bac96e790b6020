"""Batches for the temporal model: class-balanced (or chosen class-share) sampling, training
augmentation, padding collate, and the epoch-based cosine-restart schedule."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts
from torch.utils.data import Dataset, WeightedRandomSampler

from core.training.config import AugmentationConfig


def augment_sequence(x: torch.Tensor, rng: np.random.Generator, config: AugmentationConfig) -> torch.Tensor:
    """Augment one unpadded [T, D] sequence: random frame subsampling (kept in order),
    a temporal roll, then Gaussian noise, each applied with its own probability."""
    if rng.random() < config.subsample_p:
        keep = max(1, round(x.shape[0] * rng.uniform(config.subsample_min_fraction, 1.0)))
        idx = np.sort(rng.choice(x.shape[0], size=keep, replace=False))
        x = x[torch.from_numpy(idx)]
    if rng.random() < config.roll_p:
        shift = int(rng.integers(-config.roll_max_steps, config.roll_max_steps + 1))
        x = torch.roll(x, shifts=shift, dims=0)
    if rng.random() < config.noise_p:
        noise = rng.normal(0.0, config.noise_std, size=tuple(x.shape)).astype(np.float32)
        x = x + torch.from_numpy(noise)
    return x


class SequenceDataset(Dataset):
    """Unpadded [T_i, D] sequences of a feature set, optionally augmented with a seeded RNG.

    The RNG lives in the dataset, so loading must stay in the main process (num_workers=0)
    for the augmentation stream to be reproducible."""

    def __init__(
        self,
        features: np.ndarray,
        num_frames: np.ndarray,
        labels: np.ndarray,
        *,
        augmentation: AugmentationConfig | None = None,
        seed: int = 0,
    ) -> None:
        self.features = features
        self.num_frames = np.asarray(num_frames, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.augmentation = augmentation
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        length = max(int(self.num_frames[index]), 1)
        x = torch.from_numpy(np.ascontiguousarray(self.features[index, :length], dtype=np.float32))
        if self.augmentation is not None:
            x = augment_sequence(x, self.rng, self.augmentation)
        return x, int(self.labels[index])


def pad_collate(batch: Sequence[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zero-pad a batch to its longest sequence: (x [B, T_max, D], lengths [B], labels [B])."""
    lengths = torch.tensor([item[0].shape[0] for item in batch], dtype=torch.long)
    x = torch.nn.utils.rnn.pad_sequence([item[0] for item in batch], batch_first=True)
    labels = torch.tensor([item[1] for item in batch], dtype=torch.long)
    return x, lengths, labels


def balanced_sampler(labels: Sequence[int] | np.ndarray, *, seed: int) -> WeightedRandomSampler:
    """Sampler drawing len(labels) indices with replacement, each class equally likely."""
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels)
    weights = 1.0 / counts[labels]
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(
        torch.as_tensor(weights, dtype=torch.double), len(labels), replacement=True, generator=generator
    )


def class_share_sampler(
    labels: Sequence[int] | np.ndarray, shares: Sequence[float], *, seed: int
) -> WeightedRandomSampler:
    """Sampler drawing len(labels) indices with replacement, class k with probability shares[k]
    (shares in class order, normalised). A tiny share starves the model of that class."""
    labels = np.asarray(labels, dtype=np.int64)
    share = np.asarray(shares, dtype=np.float64)
    if len(share) <= labels.max() or (share < 0).any() or share.sum() <= 0:
        raise ValueError(f"class shares {list(shares)} need one non-negative value per class, not all zero")
    counts = np.bincount(labels, minlength=len(share))
    weights = share[labels] / share.sum() / counts[labels]
    generator = torch.Generator().manual_seed(seed)
    return WeightedRandomSampler(
        torch.as_tensor(weights, dtype=torch.double), len(labels), replacement=True, generator=generator
    )


class EpochCosineRestarts:
    """CosineAnnealingWarmRestarts whose T_0 counts epochs, advanced by a fraction of an epoch
    after each batch: restarts fall on epochs T_0, T_0(1+m), ... whatever the batch count.
    (The original stepped it once per batch, so T_0=20 meant 20 batches.)"""

    def __init__(
        self, optimizer: Optimizer, *, t0_epochs: int = 20, t_mult: int = 2, eta_min: float = 1e-6
    ) -> None:
        self.scheduler = CosineAnnealingWarmRestarts(optimizer, T_0=t0_epochs, T_mult=t_mult, eta_min=eta_min)

    def step_batch(self, epoch: int, batch_index: int, num_batches: int) -> None:
        """Call after batch `batch_index` (0-based) of `epoch` (0-based) has updated the weights."""
        self.scheduler.step(epoch + (batch_index + 1) / num_batches)

    def current_lr(self) -> float:
        return float(self.scheduler.get_last_lr()[0])
