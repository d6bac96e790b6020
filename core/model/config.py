"""The model stage's settings a user can choose: the network's shape (as checkpoints record it),
the TTA modes and the inference batch size. Free of torch, so the command line's parser reads
them without importing it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TTA_MODES: tuple[str, ...] = ("original", "reverse", "speed_up", "speed_down")
DEFAULT_BATCH_SIZE = 48


@dataclass(frozen=True)
class TemporalModelConfig:
    feature_dim: int = 1280
    hidden_dim: int = 768
    num_classes: int = 4
    num_lstm_layers: int = 4
    num_attention_heads: int = 12
    dropout: float = 0.4
    bidirectional: bool = True

    @property
    def lstm_out(self) -> int:
        return self.hidden_dim * 2 if self.bidirectional else self.hidden_dim

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemporalModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
