"""What the training-history playback shows for one model at one epoch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from core.training.history import class_f1_columns

# The original drew this goal line on its accuracy plots.
TARGET_ACCURACY = 95.0


@dataclass(frozen=True)
class EpochSnapshot:
    model: int
    epoch: int
    class_f1: pd.DataFrame
    mean_f1: float
    val_acc: float
    val_f1: float | None


def history_models(history: pd.DataFrame) -> list[int]:
    """The model numbers a history table holds, ascending."""
    return sorted(int(m) for m in history["model"].unique())


def model_epochs(history: pd.DataFrame, model: int) -> list[int]:
    return sorted(history.loc[history["model"] == model, "epoch"].astype(int).tolist())


def epoch_snapshot(
    history: pd.DataFrame, model: int, epoch: int, class_names: Sequence[str]
) -> EpochSnapshot:
    """Per-class validation F1 (percent) of `model` at `epoch`, their mean and the epoch's val
    accuracy; raises KeyError naming the model and epoch when the table has no such row."""
    row = history[(history["model"] == model) & (history["epoch"] == epoch)]
    if row.empty:
        raise KeyError(f"no history row for model {model} epoch {epoch}")
    columns = class_f1_columns(list(history.columns))
    values = [float(row[c].iloc[0]) for c in columns]
    names = [class_names[k] if k < len(class_names) else c for k, c in enumerate(columns)]
    class_f1 = pd.DataFrame({"class": names, "val_f1": values})
    val_f1 = float(row["val_f1"].iloc[0]) if "val_f1" in row else None
    return EpochSnapshot(
        model=model,
        epoch=epoch,
        class_f1=class_f1,
        mean_f1=float(class_f1["val_f1"].mean()) if values else float("nan"),
        val_acc=float(row["val_acc"].iloc[0]),
        val_f1=val_f1,
    )


def next_epoch(epochs: Sequence[int], current: int) -> int | None:
    """The epoch after `current` in playback order, or None at the end."""
    later = [e for e in epochs if e > current]
    return min(later) if later else None
