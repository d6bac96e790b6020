"""Training history tables: `training_metrics.csv` (docs/formats.md) and the `history` stored in
the original's checkpoints, both as one DataFrame with a row per (model, epoch), and which of
the two the Training history page shows."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.model.checkpoints import CheckpointError, ensemble_member_number, read_checkpoint_file

METRIC_COLUMNS: tuple[str, ...] = (
    "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
)  # fmt: skip
REQUIRED_COLUMNS: tuple[str, ...] = ("model", "epoch", "train_loss", "train_acc", "val_loss", "val_acc")
PERCENT_COLUMNS: tuple[str, ...] = ("train_acc", "train_f1", "val_acc", "val_f1")
CLASS_F1_COLUMN = re.compile(r"^class_(\d+)_f1$")

# Names the original and its variants used for the same series in a checkpoint's `history`.
HISTORY_ALIASES: dict[str, tuple[str, ...]] = {
    "train_loss": ("train_loss", "train_losses", "loss"),
    "train_acc": ("train_acc", "train_accuracy", "train_accs", "acc", "accuracy"),
    "train_f1": ("train_f1", "train_f1_weighted", "train_f1s"),
    "val_loss": ("val_loss", "val_losses"),
    "val_acc": ("val_acc", "val_accuracy", "val_accs"),
    "val_f1": ("val_f1", "val_f1_weighted", "val_f1s"),
    "lr": ("lr", "lrs", "learning_rate", "learning_rates"),
    "time_s": ("time_s", "epoch_time", "epoch_times", "time"),
}
# The original trainer's name (`val_per_class_f1`, one list per epoch) comes first.
PER_CLASS_ALIASES: tuple[str, ...] = (
    "val_per_class_f1", "val_f1_per_class", "class_f1", "val_class_f1", "per_class_f1",
)  # fmt: skip


class HistoryError(ValueError):
    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


def class_f1_columns(columns: Sequence[str]) -> list[str]:
    """The `class_<k>_f1` columns of a history table, in class order."""
    found = [c for c in columns if CLASS_F1_COLUMN.match(c)]
    return sorted(found, key=lambda c: int(CLASS_F1_COLUMN.match(c).group(1)))  # type: ignore[union-attr]


def load_training_history(path: str | Path) -> pd.DataFrame:
    """Read and validate `training_metrics.csv`; errors name the file, column and row."""
    path = Path(path)
    if not path.is_file():
        raise HistoryError(path, "file not found; `python -m core train` writes it")
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HistoryError(path, f"not a readable CSV ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise HistoryError(
            path, f"missing column(s) {', '.join(missing)}; expected at least {', '.join(REQUIRED_COLUMNS)}"
        )
    numeric = [c for c in df.columns if c in (*REQUIRED_COLUMNS, *METRIC_COLUMNS, "time_s")]
    for column in [*numeric, *class_f1_columns(list(df.columns))]:
        df[column] = _numeric_column(path, df[column], column)
    for column in ("model", "epoch"):
        _check_positive_integers(path, df[column], column)
        df[column] = df[column].astype(np.int64)
    duplicated = df.duplicated(subset=["model", "epoch"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        model, epoch = df["model"].iloc[row], df["epoch"].iloc[row]
        raise HistoryError(path, f"line {row + 2}: model {model} epoch {epoch} appears twice")
    return df.sort_values(["model", "epoch"], kind="stable").reset_index(drop=True)


def _numeric_column(path: Path, series: pd.Series, column: str) -> pd.Series:
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        # +2: the header is line 1 and pandas rows start at 0.
        raise HistoryError(path, f"column '{column}', line {row + 2}: {series.iloc[row]!r} is not a number")
    return converted


def _check_positive_integers(path: Path, series: pd.Series, column: str) -> None:
    values = series.to_numpy(dtype=np.float64)
    bad = np.isnan(values) | (values < 1) | (values != np.round(values))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise HistoryError(
            path, f"column '{column}', line {row + 2}: {series.iloc[row]!r} is not a positive whole number"
        )


def history_from_checkpoints(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The history table rebuilt from each checkpoint's stored `history` (original or ours).

    The model number comes from `best_ensemble_model_<n>.pt`, else the position in `paths`;
    checkpoints without a usable history contribute no rows. Fractions (all values <= 1) in
    accuracy/F1 series are turned into percent, the unit of `training_metrics.csv`."""
    frames = []
    for position, raw_path in enumerate(paths, start=1):
        path = Path(raw_path)
        history = read_checkpoint_file(path).get("history")
        if not isinstance(history, Mapping):
            continue
        model = ensemble_member_number(path) or position
        frame = history_frame(history, model)
        if not frame.empty:
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["model", "epoch", *METRIC_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def history_frame(history: Mapping[str, Any], model: int) -> pd.DataFrame:
    """One model's history dict of per-epoch lists as table rows (series of unequal length are
    cut to the shortest, because an interrupted run may have appended to some lists only)."""
    series = {}
    for column, aliases in HISTORY_ALIASES.items():
        values = _first_sequence(history, aliases)
        if values is not None:
            series[column] = np.asarray(values, dtype=np.float64)
    per_class = _first_sequence(history, PER_CLASS_ALIASES)
    if per_class is not None and np.ndim(per_class) == 2:
        matrix = np.asarray(per_class, dtype=np.float64)
        for k in range(matrix.shape[1]):
            series[f"class_{k}_f1"] = matrix[:, k]
    if not series:
        return pd.DataFrame()
    length = min(len(v) for v in series.values())
    frame = pd.DataFrame({name: values[:length] for name, values in series.items()})
    for column in [*PERCENT_COLUMNS, *class_f1_columns(list(frame.columns))]:
        if column in frame and len(frame) and frame[column].abs().max() <= 1.0:
            frame[column] = frame[column] * 100.0
    frame.insert(0, "epoch", np.arange(1, length + 1, dtype=np.int64))
    frame.insert(0, "model", np.full(length, model, dtype=np.int64))
    return frame


def _first_sequence(history: Mapping[str, Any], aliases: Sequence[str]) -> list[Any] | None:
    for key in aliases:
        if history.get(key) is None:
            continue
        try:
            values = np.asarray(history[key], dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if values.ndim >= 1 and len(values) > 0:
            return values.tolist()
    return None


def best_epochs(history: pd.DataFrame) -> pd.DataFrame:
    """Per model: the best-val-accuracy epoch (first one on ties, as early stopping keeps it),
    its val accuracy, and the last epoch trained (the early-stopping point)."""
    rows = []
    for model, group in history.groupby("model", sort=True):
        ordered = group.sort_values("epoch")
        best = ordered.loc[ordered["val_acc"].idxmax()]
        rows.append(
            {
                "model": int(model),
                "best_epoch": int(best["epoch"]),
                "best_val_acc": float(best["val_acc"]),
                "last_epoch": int(ordered["epoch"].iloc[-1]),
                "epochs_trained": len(ordered),
            }
        )
    return pd.DataFrame(rows, columns=["model", "best_epoch", "best_val_acc", "last_epoch", "epochs_trained"])


@dataclass(frozen=True)
class HistorySource:
    table: pd.DataFrame
    origin: str
    csv_problem: str | None = None
    csv_missing: bool = False

    @property
    def empty(self) -> bool:
        return self.table.empty


def load_history_source(csv_path: Path, checkpoint_paths: Sequence[Path]) -> HistorySource:
    """The CSV when it is readable; otherwise the checkpoints' `history` (possibly empty), with
    the CSV's problem (file, column, line) kept so the page can say why."""
    try:
        return HistorySource(load_training_history(csv_path), str(csv_path))
    except HistoryError as exc:
        problem, missing = str(exc), not Path(csv_path).is_file()
    try:
        table = history_from_checkpoints(checkpoint_paths)
    except CheckpointError as exc:
        problem = f"{problem}; and the checkpoint histories could not be read: {exc}"
        table = pd.DataFrame()
    names = ", ".join(Path(p).name for p in checkpoint_paths) or "no checkpoints"
    return HistorySource(table, f"histories stored in {names}", problem, missing)


def class_f1_over_epochs(history: pd.DataFrame, class_index: int) -> pd.DataFrame:
    """model, epoch, F1 of the class per epoch (percent); empty when the history has no
    per-class column for it."""
    column = f"class_{class_index}_f1"
    if history.empty or column not in history.columns:
        return pd.DataFrame(columns=["model", "epoch", "f1"])
    table = history[["model", "epoch", column]].dropna().rename(columns={column: "f1"})
    return table.sort_values(["model", "epoch"]).reset_index(drop=True)


def epoch_marks(history: pd.DataFrame) -> pd.DataFrame:
    """Per model: saved (best-val-accuracy) epoch and the last epoch trained (the early stop)."""
    if history.empty or "val_acc" not in history.columns:
        return pd.DataFrame(columns=["model", "best_epoch", "last_epoch"])
    return best_epochs(history)[["model", "best_epoch", "last_epoch"]]
