"""On-disk cache of video maps, keyed by the content of what they were computed from, like the
prediction cache: a restart reuses a map, a replaced features file or checkpoint never does. A map
file that is not exactly a map of the expected videos (a FIFO, a link, a truncated or hand-made
archive, other shapes or dtypes) is a miss, laid out again and replaced whole."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.atomic import atomic_path
from core.audit.embedding_map import EmbeddingMap
from core.model.cache_files import cache_folder, open_cache_file, read_npy

MAP_CACHE_VERSION = 1


def map_key(fingerprints: Sequence[str], representation: str, cap: int) -> str:
    document = {
        "inputs": list(fingerprints),
        "representation": representation,
        "cap": cap,
        "version": MAP_CACHE_VERSION,
    }
    return hashlib.sha256(json.dumps(document).encode()).hexdigest()[:32]


_METHOD_CHARACTERS = 200
"""A method is a short description ("UMAP on …"); nothing longer is read."""


def _map_file(cache_dir: Path, key: str) -> Path | None:
    folder = cache_folder(cache_dir, "maps")
    return None if folder is None else folder / f"{key}.npz"


def _member(archive: zipfile.ZipFile, name: str, kinds: str, max_bytes: int) -> np.ndarray | None:
    try:
        info = archive.getinfo(f"{name}.npy")
        with archive.open(info) as stream:
            return read_npy(stream, info.file_size, kinds, max_bytes)
    except (KeyError, OSError, ValueError, zipfile.BadZipFile):
        return None


def _is_map(coordinates: np.ndarray, rows: np.ndarray, total: int) -> bool:
    return (
        rows.ndim == 1
        and coordinates.shape == (len(rows), 2)
        and bool(np.isfinite(coordinates).all())
        and (len(rows) == 0 or (rows.min() >= 0 and rows.max() < total))
        and bool((np.diff(rows) > 0).all())
    )


def load_cached_map(cache_dir: Path, key: str, total: int) -> EmbeddingMap | None:
    """The map stored under `key` of `total` videos, or None (a miss) when there is none or the
    file holds anything else."""
    path = _map_file(cache_dir, key)
    if path is None:
        return None
    with open_cache_file(path) as handle:
        if handle is None:
            return None
        try:
            archive = zipfile.ZipFile(handle)
        except (OSError, ValueError, zipfile.BadZipFile):
            return None
        with archive:
            rows = _member(archive, "rows", "iu", total * 8)
            coordinates = _member(archive, "coordinates", "f", total * 2 * 8)
            stored_total = _member(archive, "total", "iu", 8)
            method = _member(archive, "method", "U", _METHOD_CHARACTERS * 4)
    if rows is None or coordinates is None or stored_total is None or method is None:
        return None
    if stored_total.shape != () or int(stored_total) != total or method.shape != ():
        return None
    if not _is_map(coordinates, rows, total):
        return None
    return EmbeddingMap(coordinates, rows.astype(np.int64), total, str(method))


def store_map(cache_dir: Path, key: str, embedding: EmbeddingMap) -> Path | None:
    """Stored whole, replacing whatever file or link was at the path; None when nothing could be
    stored there, or when the cache folder leads out of the project, which is never written."""
    path = _map_file(cache_dir, key)
    if path is None:
        return None
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(
                handle,
                coordinates=embedding.coordinates,
                rows=embedding.rows,
                total=np.int64(embedding.total),
                method=np.str_(embedding.method),
            )
    except OSError:
        # A cache is a shortcut: a folder in the file's place or a full disk costs a new layout
        # next time, never the map the caller already holds.
        return None
    return path
