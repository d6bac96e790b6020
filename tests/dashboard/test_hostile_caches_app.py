"""Bad prediction cache files under a project, through the real app and `python -m core audit`:
a FIFO or a truncated file where the split's probabilities would be is a miss, computed again and
replaced whole; nothing is waited on, no page raises, no file of the user's changes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.prediction_cache import file_fingerprint, load_cached_probabilities, prediction_key
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from tests.commands.test_output_rule_cli import digest
from tests.dashboard.test_pages_part1 import OVERVIEW, open_page
from tests.factories import write_project

VIDEOS = 8
UNAUGMENTED = ("original",)


def cache_file(paths: ProjectPaths, split: str, modes: tuple[str, ...]) -> Path:
    members = [file_fingerprint(p) for p in find_ensemble_checkpoints(paths.models_dir)]
    key = prediction_key(members, file_fingerprint(paths.features_file(split)), modes)
    return paths.cache_dir / "predictions" / f"{key}.npy"


@pytest.fixture
def paths(tmp_path: Path) -> ProjectPaths:
    """A project whose prediction cache holds a FIFO where the test split's unaugmented pass goes
    and a truncated file where its every-mode pass goes."""
    paths = ProjectPaths.at(write_project(tmp_path / "project", num_videos=VIDEOS))
    fifo, truncated = cache_file(paths, "test", UNAUGMENTED), cache_file(paths, "test", TTA_MODES)
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    np.save(truncated, np.full((4, 4, VIDEOS, 4), 0.25, dtype=np.float32))
    truncated.write_bytes(truncated.read_bytes()[:200])
    return paths


def user_files(paths: ProjectPaths) -> dict[str, str]:
    return {name: sha for name, sha in digest(paths.root).items() if not name.startswith(".cache")}


def assert_replaced_with_probabilities(path: Path, modes: tuple[str, ...]) -> None:
    assert path.is_file() and not path.is_symlink()
    key = path.stem
    assert load_cached_probabilities(path.parent.parent, key, (4, len(modes), VIDEOS, 4)) is not None


def test_the_pages_recompute_and_replace_bad_cache_files(paths: ProjectPaths, monkeypatch) -> None:
    before = user_files(paths)
    finished: list[object] = []
    worker = threading.Thread(
        target=lambda: finished.append(open_page(paths.root, monkeypatch, OVERVIEW)), daemon=True
    )
    worker.start()
    worker.join(180)
    assert finished, "the Overview did not open within 180 s"
    assert_replaced_with_probabilities(cache_file(paths, "test", UNAUGMENTED), UNAUGMENTED)
    assert_replaced_with_probabilities(cache_file(paths, "test", TTA_MODES), TTA_MODES)
    assert user_files(paths) == before


def test_audit_recomputes_and_replaces_a_fifo_in_the_cache(paths: ProjectPaths, capsys) -> None:
    before = user_files(paths)
    out = paths.runs_dir / "audit.json"
    args = [
        "audit",
        "--models",
        str(paths.models_dir),
        "--features",
        str(paths.features_dir),
        "--out",
        str(out),
    ]
    code: list[int] = []
    worker = threading.Thread(target=lambda: code.append(main([*args, "--device", "cpu"])), daemon=True)
    worker.start()
    worker.join(180)
    assert code == [0], capsys.readouterr().err
    assert_replaced_with_probabilities(cache_file(paths, "test", UNAUGMENTED), UNAUGMENTED)
    assert user_files(paths) == {
        **before,
        str(out.relative_to(paths.root)): digest(paths.root)["runs/audit.json"],
    }
