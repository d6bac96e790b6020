"""On-disk cache of video maps, keyed by the content of what they were computed from, like the
prediction cache: a restart reuses a map, a replaced features file or checkpoint never does."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.audit.embedding_map import EmbeddingMap

MAP_CACHE_VERSION = 1


def map_key(fingerprints: Sequence[str], representation: str, cap: int) -> str:
    document = {
        "inputs": list(fingerprints),
        "representation": representation,
        "cap": cap,
        "version": MAP_CACHE_VERSION,
    }
    return hashlib.sha256(json.dumps(document).encode()).hexdigest()[:32]


def _map_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / "maps" / f"{key}.npz"


def load_cached_map(cache_dir: Path, key: str) -> EmbeddingMap | None:
    try:
        with np.load(_map_file(cache_dir, key), allow_pickle=False) as stored:
            return EmbeddingMap(
                stored["coordinates"], stored["rows"], int(stored["total"]), str(stored["method"])
            )
    except (OSError, ValueError, KeyError):
        return None


def store_map(cache_dir: Path, key: str, embedding: EmbeddingMap) -> Path:
    path = _map_file(cache_dir, key)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(
            handle,
            coordinates=embedding.coordinates,
            rows=embedding.rows,
            total=np.int64(embedding.total),
            method=np.str_(embedding.method),
        )
    return path
