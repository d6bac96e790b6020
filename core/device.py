"""Where tensors run: CUDA when the machine has it, the CPU otherwise."""

from __future__ import annotations

import torch


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
