"""On-disk cache of split probabilities, keyed by the content of the files they came from.

Evaluating 4 full-size members x 4 TTA modes takes minutes on CPU; keying by content hashes
(not paths or mtimes) means a restart reuses the result and a replaced checkpoint never does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.atomic import atomic_path

_CHUNK = 1 << 20


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


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / "predictions" / f"{key}.npy"


def load_cached_probabilities(cache_dir: Path, key: str) -> np.ndarray | None:
    path = _cache_file(cache_dir, key)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def store_probabilities(cache_dir: Path, key: str, probabilities: np.ndarray) -> Path:
    path = _cache_file(cache_dir, key)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, probabilities, allow_pickle=False)
    return path
