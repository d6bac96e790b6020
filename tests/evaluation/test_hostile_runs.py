"""Run files as a hostile or careless hand would leave them: each one is that run's one-line
problem in the listing; nothing outside the run's folder is read or probed, nothing is waited on."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.evaluation.runs import EvaluationRun, list_runs, load_run, save_run, sidecar_path
from tests.evaluation.test_runs import evaluated


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> EvaluationRun:
    return evaluated(tmp_path_factory.mktemp("hostile"), num_videos=6, members=2)


def saved(run: EvaluationRun, folder: Path, name: str = "run.json") -> Path:
    return save_run(run, folder / name)


def edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def only_problem(folder: Path) -> str:
    listing = list_runs(folder)
    assert listing.runs == []
    ((_, problem),) = listing.unreadable
    return problem


def listed_within(folder: Path, seconds: float) -> str:
    """`only_problem`, failing instead of hanging when the listing blocks."""
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(only_problem(folder)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"listing {folder} did not return within {seconds} s"
    return result[0]


@pytest.fixture
def outside(tmp_path: Path, good_run: EvaluationRun) -> Path:
    """A real sidecar-shaped file outside the runs folder, which no run may read."""
    secret = tmp_path / "outside" / "secret.npz"
    secret.parent.mkdir()
    np.savez(secret, probabilities=good_run.probabilities)
    return secret


@pytest.mark.parametrize("reference", ["../outside/secret.npz", "ABSOLUTE", "sub/run.npz", "..", ""])
def test_a_sidecar_elsewhere_than_beside_the_run_is_never_read(reference, good_run, tmp_path, outside):
    runs = tmp_path / "runs"
    path = saved(good_run, runs)
    target = str(outside) if reference == "ABSOLUTE" else reference
    edit(path, lambda d: d.update(probabilities_file=target))
    problem = only_problem(runs)
    assert "probabilities_file" in problem and str(path) in problem


def test_the_message_does_not_say_whether_an_outside_path_exists(good_run, tmp_path, outside):
    runs = tmp_path / "runs"
    messages = []
    for name, target in (("a.json", str(outside)), ("b.json", str(outside) + ".absent")):
        path = saved(good_run, runs, name)
        edit(path, lambda d, target=target: d.update(probabilities_file=target))
        messages.append(only_problem_of(runs, path).replace(str(path), "RUN").replace(target, "TARGET"))
    assert messages[0] == messages[1]


def only_problem_of(folder: Path, path: Path) -> str:
    return dict(list_runs(folder).unreadable)[path]


def test_a_symlinked_sidecar_is_refused(good_run, tmp_path, outside):
    runs = tmp_path / "runs"
    path = saved(good_run, runs)
    sidecar_path(path).unlink()
    sidecar_path(path).symlink_to(outside)
    assert "not a regular file" in only_problem(runs)


def test_a_fifo_as_sidecar_or_as_run_never_hangs_the_listing(good_run, tmp_path):
    runs = tmp_path / "runs"
    path = saved(good_run, runs)
    sidecar_path(path).unlink()
    os.mkfifo(sidecar_path(path))
    assert "not a regular file" in listed_within(runs, 10)
    sidecar_path(path).unlink()
    path.unlink()
    os.mkfifo(runs / "pipe.json")
    assert "not a regular file" in listed_within(runs, 10)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(labels=[7, *d["labels"][1:]]), "outside the 4 classes"),
        (lambda d: d.update(labels=[-1, *d["labels"][1:]]), "outside the 4 classes"),
        (lambda d: d.update(labels=d["labels"][:-1]), "5 labels for 6 video names"),
        (lambda d: d.update(labels=[0.5, *d["labels"][1:]]), "'labels' should hold whole class numbers"),
        (lambda d: d.update(video_names=[1, *d["video_names"][1:]]), "'video_names' should hold text"),
        (lambda d: d.update(class_names=d["class_names"][:3]), "outside the 3 classes"),
        (lambda d: d.update(members=d["members"][:1]), "probabilities are shaped"),
        (lambda d: d.update(tta_modes=["reverse"]), "'tta_modes' should start with 'original'"),
        (lambda d: d.update(tta_modes=["original", "sideways"]), "unknown TTA mode"),
    ],
    ids=[
        "label too large",
        "negative label",
        "labels short",
        "float label",
        "numeric name",
        "classes short",
        "members short",
        "no original mode",
        "unknown mode",
    ],
)
def test_inconsistent_runs_are_refused_on_load_with_the_field_named(change, message, good_run, tmp_path):
    path = saved(good_run, tmp_path)
    edit(path, change)
    problem = only_problem(tmp_path)
    assert message in problem and str(path) in problem


def test_a_complex_valued_sidecar_is_refused_not_truncated(good_run, tmp_path):
    path = saved(good_run, tmp_path)
    with sidecar_path(path).open("wb") as handle:
        np.savez(handle, probabilities=good_run.probabilities.astype(np.complex64) * (1 + 1j))
    assert "should be real numbers" in only_problem(tmp_path)


def test_a_good_run_still_loads_with_its_probabilities(good_run, tmp_path):
    path = saved(good_run, tmp_path)
    assert np.array_equal(load_run(path).probabilities, good_run.probabilities)
