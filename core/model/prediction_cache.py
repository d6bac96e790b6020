"""On-disk cache of split probabilities, keyed by the content of the files they came from.

Evaluating 4 full-size members x 4 TTA modes takes minutes on CPU; keying by content hashes
(not paths or mtimes) means a restart reuses the result and a replaced checkpoint never does.
A cache file is checked like any other file before it is used: one that is not exactly the
probabilities its key stands for (a FIFO, a link, truncated, another shape or dtype, values that are
no probabilities) is a miss, computed again and replaced whole.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.model.cache_files import cache_folder, open_cache_file, read_npy

_CHUNK = 1 << 20
_SUM_TOLERANCE = 1e-3
"""Softmax rows in float32 sum to 1 within about 1e-6; a row further off is no probability."""


def file_fingerprint(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prediction_key(
    checkpoint_fingerprints: Sequence[str], features_fingerprint: str, modes: Sequence[str]
) -> str:
    document = json.dumps(
        {"checkpoints": list(checkpoint_fingerprints), "features": features_fingerprint, "modes": list(modes)}
    )
    return hashlib.sha256(document.encode()).hexdigest()[:32]


def _cache_file(cache_dir: Path, key: str) -> Path | None:
    folder = cache_folder(cache_dir, "predictions")
    return None if folder is None else folder / f"{key}.npy"


def _are_probabilities(array: np.ndarray, shape: Sequence[int]) -> bool:
    return (
        array.shape == tuple(shape)
        and bool(np.isfinite(array).all())
        and bool(((array >= 0) & (array <= 1)).all())
        and bool(np.allclose(array.sum(axis=-1), 1.0, atol=_SUM_TOLERANCE))
    )


def load_cached_probabilities(cache_dir: Path, key: str, shape: Sequence[int]) -> np.ndarray | None:
    """The probabilities stored under `key`, `shape` [members, modes, videos, classes], or None
    (a miss) when there are none or the file holds anything else."""
    path = _cache_file(cache_dir, key)
    if path is None:
        return None
    with open_cache_file(path) as handle:
        if handle is None:
            return None
        size = os.fstat(handle.fileno()).st_size
        array = read_npy(handle, size, kinds="f", max_bytes=math.prod(shape) * np.dtype(np.float64).itemsize)
    return array if array is not None and _are_probabilities(array, shape) else None


def store_probabilities(cache_dir: Path, key: str, probabilities: np.ndarray) -> Path | None:
    """Stored whole (a reader sees the old file or the new one), replacing whatever file or link
    was at the path; None when nothing could be stored there, or when the cache folder leads out of
    the project, which is never written."""
    path = _cache_file(cache_dir, key)
    if path is None:
        return None
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, probabilities, allow_pickle=False)
    except OSError:
        # A cache is a shortcut: a folder in the file's place or a full disk costs a recomputation
        # next time, never the result the caller already holds.
        return None
    return path
