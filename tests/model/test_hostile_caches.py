"""The prediction and map caches as a hostile hand (or a shared project folder) would leave them: a
FIFO, a truncated file, another shape or dtype, values that are no probabilities, a link out of the
project, a folder in the file's place. Each is a miss, never waited on and never read through a
link; storing replaces it whole and writes nothing outside the project."""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.audit.embedding_map import EmbeddingMap
from core.audit.map_cache import load_cached_map, store_map
from core.model.prediction_cache import load_cached_probabilities, store_probabilities
from tests.commands.test_output_rule_cli import digest

KEY = "0123456789abcdef0123456789abcdef"
SHAPE = (2, 1, 3, 4)
GOOD = np.full(SHAPE, 0.25, dtype=np.float32)
MAP = EmbeddingMap(np.arange(6, dtype=np.float32).reshape(3, 2), np.array([0, 2, 4]), 5, "UMAP on tests")


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`, failing instead of hanging when it blocks (a FIFO opened for reading)."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"did not return within {seconds} s"
    return result[0]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """`<project>/.cache` beside a folder outside the project holding a good-looking file."""
    (tmp_path / "project" / ".cache").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    np.save(tmp_path / "outside" / "stolen.npy", GOOD)
    store_map(tmp_path / "outside", "stolen", MAP)
    return tmp_path / "project" / ".cache"


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


PREDICTION_FILES: dict[str, Callable[[Path], None]] = {
    "a FIFO": lambda path: os.mkfifo(path),
    "truncated": lambda path: path.write_bytes(npy_bytes(GOOD)[:-7]),
    "header only": lambda path: path.write_bytes(npy_bytes(GOOD)[:128]),
    "a header declaring 10^12 values": lambda path: path.write_bytes(
        npy_bytes(GOOD).replace(b"(2, 1, 3, 4)", b"(10000, 10000, 10000, 1)")
    ),
    "another shape": lambda path: np.save(path, np.full((2, 1, 4, 3), 1 / 3, dtype=np.float32)),
    "integers": lambda path: np.save(path, np.zeros(SHAPE, dtype=np.int64)),
    "an object array": lambda path: np.save(path, np.empty(SHAPE, dtype=object), allow_pickle=True),
    "NaN values": lambda path: np.save(path, np.full(SHAPE, np.nan, dtype=np.float32)),
    "rows not summing to one": lambda path: np.save(path, np.full(SHAPE, 0.5, dtype=np.float32)),
    "not numpy at all": lambda path: path.write_bytes(b"\x00" * 64),
    "a folder": lambda path: path.mkdir(),
}


@pytest.mark.parametrize("bad", PREDICTION_FILES)
def test_a_bad_prediction_cache_file_is_a_miss_and_stored_over(bad, cache):
    path = cache / "predictions" / f"{KEY}.npy"
    path.parent.mkdir()
    PREDICTION_FILES[bad](path)
    outside = digest(cache.parent.parent / "outside")
    assert within(10, lambda: load_cached_probabilities(cache, KEY, SHAPE)) is None
    stored = store_probabilities(cache, KEY, GOOD)
    if bad == "a folder":
        assert stored is None and path.is_dir()
    else:
        assert stored == path and not path.is_symlink()
        np.testing.assert_array_equal(load_cached_probabilities(cache, KEY, SHAPE), GOOD)
    assert digest(cache.parent.parent / "outside") == outside


def test_a_linked_prediction_file_is_never_read_and_the_link_is_replaced(cache):
    path = cache / "predictions" / f"{KEY}.npy"
    path.parent.mkdir()
    target = cache.parent.parent / "outside" / "stolen.npy"
    path.symlink_to(target)
    before = digest(target.parent)
    assert load_cached_probabilities(cache, KEY, SHAPE) is None
    store_probabilities(cache, KEY, GOOD)
    assert not path.is_symlink() and path.is_file()
    assert digest(target.parent) == before


@pytest.mark.parametrize("linked", [".cache/predictions", ".cache"])
def test_a_cache_folder_linked_out_of_the_project_is_neither_read_nor_written(linked, cache):
    project, outside = cache.parent, cache.parent.parent / "outside"
    np.save(outside / f"{KEY}.npy", GOOD)
    shutil.rmtree(cache)
    if linked == ".cache":
        (outside / "predictions").mkdir()
        np.save(outside / "predictions" / f"{KEY}.npy", GOOD)
    else:
        cache.mkdir()
    (project / linked).symlink_to(outside, target_is_directory=True)
    before = digest(outside)
    assert load_cached_probabilities(cache, KEY, SHAPE) is None
    assert store_probabilities(cache, KEY, GOOD) is None
    assert digest(outside) == before


def map_archive(**changes: Any) -> bytes:
    members = {
        "coordinates": MAP.coordinates,
        "rows": MAP.rows,
        "total": np.int64(5),
        "method": np.str_(MAP.method),
    }
    members.update(changes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in members.items():
            if value is not None:
                archive.writestr(f"{name}.npy", npy_bytes(np.asarray(value)))
    return buffer.getvalue()


MAP_FILES: dict[str, Callable[[Path], Any]] = {
    "a FIFO": lambda path: os.mkfifo(path),
    "truncated": lambda path: path.write_bytes(map_archive()[:-40]),
    "not a zip archive": lambda path: path.write_bytes(b"PK\x03\x04 not really"),
    "no rows": lambda path: path.write_bytes(map_archive(rows=None)),
    "rows beyond the videos": lambda path: path.write_bytes(map_archive(rows=np.array([0, 2, 9]))),
    "rows out of order": lambda path: path.write_bytes(map_archive(rows=np.array([2, 0, 4]))),
    "another total": lambda path: path.write_bytes(map_archive(total=np.int64(7))),
    "coordinates of another shape": lambda path: path.write_bytes(map_archive(coordinates=np.zeros((3, 3)))),
    "infinite coordinates": lambda path: path.write_bytes(map_archive(coordinates=np.full((3, 2), np.inf))),
    "text coordinates": lambda path: path.write_bytes(map_archive(coordinates=np.array([["a", "b"]] * 3))),
    "a very long method": lambda path: path.write_bytes(map_archive(method=np.str_("x" * 100_000))),
}


@pytest.mark.parametrize("bad", MAP_FILES)
def test_a_bad_map_cache_file_is_a_miss_and_stored_over(bad, cache):
    path = cache / "maps" / f"{KEY}.npz"
    path.parent.mkdir()
    MAP_FILES[bad](path)
    assert within(10, lambda: load_cached_map(cache, KEY, MAP.total)) is None
    assert store_map(cache, KEY, MAP) == path
    found = load_cached_map(cache, KEY, MAP.total)
    np.testing.assert_array_equal(found.coordinates, MAP.coordinates)
    assert found.rows.tolist() == [0, 2, 4] and found.method == MAP.method


def test_a_linked_map_file_is_never_read_and_the_link_is_replaced(cache):
    path = cache / "maps" / f"{KEY}.npz"
    path.parent.mkdir()
    target = cache.parent.parent / "outside" / "maps" / "stolen.npz"
    path.symlink_to(target)
    before = digest(target.parent)
    assert load_cached_map(cache, KEY, MAP.total) is None
    store_map(cache, KEY, MAP)
    assert not path.is_symlink() and load_cached_map(cache, KEY, MAP.total) is not None
    assert digest(target.parent) == before
