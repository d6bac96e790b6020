"""Focal loss with label smoothing and class-weighted alpha, the original training objective."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def class_balanced_alpha(
    labels: Sequence[int] | np.ndarray,
    num_classes: int,
    *,
    clip: tuple[float, float] = (0.5, 10.0),
) -> torch.Tensor:
    """Per-class weights n / (K * count_k), clipped so rare or absent classes cannot dominate."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    with np.errstate(divide="ignore"):
        alpha = counts.sum() / (num_classes * counts)
    return torch.tensor(np.clip(alpha, clip[0], clip[1]), dtype=torch.float32)


class FocalLoss(nn.Module):
    """mean_i alpha[y_i] * (1 - p_i)^gamma * CE_i, where CE_i is the label-smoothed cross-entropy
    and p_i = exp(-CE_i), as in the original training code."""

    def __init__(
        self,
        alpha: torch.Tensor | None = None,
        *,
        gamma: float = 2.0,
        label_smoothing: float = 0.1,
    ) -> None:
        super().__init__()
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.register_buffer("alpha", alpha.clone().float() if alpha is not None else None)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        ce = F.cross_entropy(logits, targets, reduction="none", label_smoothing=self.label_smoothing)
        focal = (1.0 - torch.exp(-ce)).pow(self.gamma) * ce
        if self.alpha is not None:
            focal = self.alpha[targets] * focal
        return focal.mean()
