"""The checks a run file passes before anything in it is used: field types, and where its
probabilities sidecar may be. A file that fails is that run's one-line problem in the listing."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def sidecar_beside(path: Path, document: Mapping[str, Any]) -> Path:
    """The sidecar a run names: a bare file name beside the run, and a regular file. Anything else
    is refused before it is opened, so a run can neither read nor probe a file elsewhere, and a
    FIFO or device there is never waited on."""
    name = document.get("probabilities_file")
    if not isinstance(name, str) or not name:
        raise ValueError("'probabilities_file' should name the sidecar file beside the run")
    if name in (".", "..") or Path(name).name != name or "\\" in name or "/" in name:
        raise ValueError(f"'probabilities_file' must be a bare file name beside the run, found {name!r}")
    sidecar = path.parent / name
    try:
        mode = os.lstat(sidecar).st_mode
    except FileNotFoundError:
        raise ValueError(f"its probabilities file {name} is missing") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"its probabilities file {name} is not a regular file")
    return sidecar


# Fields a run must hold, with the JSON type each must have.
_REQUIRED_FIELDS: dict[str, type] = {
    "features_file": str,
    "members": list,
    "tta_modes": list,
    "class_names": list,
    "video_names": list,
    "labels": list,
    "predictors": dict,
}
_SCORE_NUMBERS = ("accuracy", "f1_weighted")


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def check_run_document(document: Mapping[str, Any]) -> None:
    """Types checked before anything is built, so a hand-edited run fails with the field's name."""
    for key, kind in _REQUIRED_FIELDS.items():
        if key not in document:
            raise ValueError(f"'{key}' is missing")
        if not isinstance(document[key], kind):
            raise ValueError(f"'{key}' should be a {kind.__name__}, found {type(document[key]).__name__}")
    swaps = document.get("swaps", {})
    if not isinstance(swaps, dict) or not all(isinstance(v, str) for v in swaps.values()):
        raise ValueError("'swaps' should map member names to checkpoint paths")
    if not all(isinstance(label, int) and not isinstance(label, bool) for label in document["labels"]):
        raise ValueError("'labels' should hold whole class numbers")
    for key in ("video_names", "members", "tta_modes", "class_names"):
        if not all(isinstance(item, str) for item in document[key]):
            raise ValueError(f"'{key}' should hold text only")
    for name, scores in document["predictors"].items():
        if not isinstance(scores, dict):
            raise ValueError(f"predictor {name!r}: scores should be a dict, found {type(scores).__name__}")
        for key in _SCORE_NUMBERS:
            if not _is_finite_number(scores.get(key)):
                raise ValueError(
                    f"predictor {name!r}: '{key}' should be a finite number, found {scores.get(key)!r}"
                )
