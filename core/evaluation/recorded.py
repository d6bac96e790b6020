"""Per-checkpoint validation numbers recorded at training time.

Sources, best first: `configuration_analysis.json` (ours: a `checkpoints` mapping keyed by file
name; the original's: keyed by file name or stem at top level), then the checkpoint's own
`best_val_acc` / `metrics`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.model.checkpoints import LoadedCheckpoint

_ACCURACY_KEYS = ("val_accuracy", "val_acc", "best_val_acc", "accuracy")
_F1_KEYS = ("val_f1_weighted", "val_f1", "f1_weighted", "weighted_f1", "f1")


def _first_number(entry: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, int | float):
            return float(value)
    return None


def _entries(document: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = document.get("checkpoints")
    return nested if isinstance(nested, Mapping) else document


def read_configuration_analysis(path: Path) -> dict[str, dict[str, Any]]:
    """Entries keyed by checkpoint stem; an absent file gives {} and a malformed one raises."""
    if not path.is_file():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(document, Mapping):
        raise ValueError(f"{path}: expected a JSON object of per-checkpoint entries")
    return {
        Path(str(key)).stem: dict(value)
        for key, value in _entries(document).items()
        if isinstance(value, Mapping)
    }


def recorded_metrics(
    analysis: Mapping[str, Mapping[str, Any]], checkpoints: Sequence[LoadedCheckpoint]
) -> dict[str, dict[str, float]]:
    """name -> {"accuracy", "f1_weighted"} (percent) where something was recorded."""
    out = {}
    for checkpoint in checkpoints:
        entry = dict(checkpoint.metrics)
        if checkpoint.best_val_acc is not None:
            entry.setdefault("best_val_acc", checkpoint.best_val_acc)
        entry.update(analysis.get(checkpoint.name, {}))
        values = {
            "accuracy": _first_number(entry, _ACCURACY_KEYS),
            "f1_weighted": _first_number(entry, _F1_KEYS),
        }
        out[checkpoint.name] = {k: v for k, v in values.items() if v is not None}
    return out
