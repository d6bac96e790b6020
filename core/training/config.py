"""A training recipe: the original's defaults and the augmentations' strengths. Free of torch, so
the command line's parser takes its defaults from here without importing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class AugmentationConfig:
    """Probabilities and strengths of the original's three training augmentations."""

    subsample_p: float = 0.5
    subsample_min_fraction: float = 0.7
    roll_p: float = 0.3
    roll_max_steps: int = 3
    noise_p: float = 0.2
    noise_std: float = 0.01

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingConfig:
    """Every default is the original recipe (lr 1e-3, batch 48, up to 150 epochs, patience 25,
    AdamW wd 5e-4, focal gamma 2 with smoothing 0.1, cosine restarts T_0 20 x2 to 1e-6, clip 1.0,
    seeds 42..45); `python -m core train` takes its defaults from here."""

    max_epochs: int = 150
    patience: int = 25
    batch_size: int = 48
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
    class_shares: tuple[float, ...] | None = None
    """Share of each class (class order) in the sampled batches; overrides balanced_sampling."""
    base_seed: int = 42
    augmentation: AugmentationConfig = field(default_factory=AugmentationConfig)
    note: str = ""
    """Why this recipe differs from the usual one; kept in the checkpoint for the app to show."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["betas"] = list(self.betas)
        data["alpha_clip"] = list(self.alpha_clip)
        data["class_shares"] = None if self.class_shares is None else list(self.class_shares)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingConfig:
        """The inverse of `to_dict`; fields it does not know are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("betas", "alpha_clip", "class_shares"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        if isinstance(values.get("augmentation"), Mapping):
            values["augmentation"] = AugmentationConfig(**values["augmentation"])
        return cls(**values)

    def __post_init__(self) -> None:
        for name in ("max_epochs", "patience", "batch_size", "restart_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"training setting {name} must be at least 1, got {getattr(self, name)}")
        if self.class_shares is not None and (min(self.class_shares) < 0 or sum(self.class_shares) <= 0):
            raise ValueError(f"class_shares must be non-negative and not all zero, got {self.class_shares}")

    def member_seed(self, member: int) -> int:
        return self.base_seed + member - 1
