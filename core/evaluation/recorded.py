"""Per-checkpoint validation numbers recorded at training time.

Sources, best first: `configuration_analysis.json` (ours: a `checkpoints` mapping keyed by file
name; the original's: keyed by file name or stem at top level), then the checkpoint's own
`best_val_acc` / `metrics` (the original's `metrics` are the saved epoch's validation numbers:
`accuracy`, `f1_weighted`, `f1_per_class`, percent, possibly numpy values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.model.checkpoints import LoadedCheckpoint

_ACCURACY_KEYS = ("val_accuracy", "val_acc", "best_val_acc", "accuracy")
_F1_KEYS = ("val_f1_weighted", "val_f1", "f1_weighted", "weighted_f1", "f1")
# The original's key was never documented; these are the names it and its variants plausibly used.
CLASS_F1_KEYS = ("val_f1_per_class", "f1_per_class", "per_class_f1", "class_f1", "val_per_class_f1")


def _first_number(entry: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return float(value)
    return None


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, int | float | np.number) and not isinstance(value, bool) and np.isfinite(value):
        return float(value)
    return None


def class_f1_values(value: Any, class_names: Sequence[str]) -> tuple[float | None, ...] | None:
    """Per-class F1 in class order from a mapping by class name or a list/array in class order;
    None when the shape does not fit (a list of the wrong length, nothing numeric)."""
    if isinstance(value, Mapping):
        values = tuple(_number_or_none(value.get(name)) for name in class_names)
    elif isinstance(value, list | tuple | np.ndarray) and np.shape(value) == (len(class_names),):
        values = tuple(_number_or_none(v) for v in value)
    else:
        return None
    return values if any(v is not None for v in values) else None


def recorded_class_f1(
    entry: Mapping[str, Any], class_names: Sequence[str]
) -> tuple[float | None, ...] | None:
    """The first per-class F1 entry under a known key that fits `class_names`."""
    for key in CLASS_F1_KEYS:
        values = class_f1_values(entry.get(key), class_names)
        if values is not None:
            return values
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
) -> dict[str, dict[str, Any]]:
    """name -> {"accuracy", "f1_weighted" (percent), "f1_per_class" (percent per class, None
    where not recorded)} for what was recorded; the JSON entry wins over the checkpoint's own."""
    out = {}
    for checkpoint in checkpoints:
        entry = dict(checkpoint.metrics)
        if checkpoint.best_val_acc is not None:
            entry.setdefault("best_val_acc", checkpoint.best_val_acc)
        from_json = analysis.get(checkpoint.name, {})
        class_f1 = recorded_class_f1(from_json, checkpoint.class_names)
        if class_f1 is None:
            class_f1 = recorded_class_f1(checkpoint.metrics, checkpoint.class_names)
        entry.update(from_json)
        values: dict[str, Any] = {
            "accuracy": _first_number(entry, _ACCURACY_KEYS),
            "f1_weighted": _first_number(entry, _F1_KEYS),
            "f1_per_class": class_f1,
        }
        out[checkpoint.name] = {k: v for k, v in values.items() if v is not None}
    return out
