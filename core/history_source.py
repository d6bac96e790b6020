"""Where the Training history page's table comes from: `training_metrics.csv`, else the
histories stored in the checkpoints, with the reason when the CSV could not be used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.checkpoints import CheckpointError
from core.history import HistoryError, history_from_checkpoints, load_training_history


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
