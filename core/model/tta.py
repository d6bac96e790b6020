"""Test-time augmentation over a [T, D] sequence (docs/formats.md)."""

from __future__ import annotations

import torch

from core.model.config import TTA_MODES


def tta_indices(length: int, mode: str) -> torch.Tensor:
    """Time indices a mode reads from a sequence of true length `length`."""
    identity = torch.arange(length)
    if mode == "original":
        return identity
    if mode == "reverse":
        return identity.flip(0)
    if mode == "speed_up":
        return torch.linspace(0, length - 1, length // 2).long() if length > 10 else identity
    if mode == "speed_down":
        if length <= 5:
            return identity
        return torch.linspace(0, length - 1, int(length * 1.5)).long().clamp(max=length - 1)
    raise ValueError(f"unknown TTA mode {mode!r}; choose from {', '.join(TTA_MODES)}")


def unchanged_modes(length: int, modes: tuple[str, ...] = TTA_MODES) -> tuple[str, ...]:
    """Modes other than `original` that leave a sequence of true length `length` as it is, so a
    TTA mean over `modes` counts the original view more than once."""
    identity = torch.arange(length)
    return tuple(m for m in modes if m != "original" and torch.equal(tta_indices(length, m), identity))


def apply_tta(features: torch.Tensor, mode: str) -> torch.Tensor:
    return features[tta_indices(features.shape[0], mode).to(features.device)]


def validate_modes(modes: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    unknown = [m for m in modes if m not in TTA_MODES]
    if unknown:
        raise ValueError(f"unknown TTA mode(s) {', '.join(unknown)}; choose from {', '.join(TTA_MODES)}")
    if not modes:
        raise ValueError("at least one TTA mode is needed")
    repeated = sorted({m for m in modes if list(modes).count(m) > 1})
    if repeated:
        # A repeated mode would silently weigh that view more in the TTA mean.
        raise ValueError(f"TTA mode(s) {', '.join(repeated)} given more than once; list each mode once")
    return tuple(modes)
