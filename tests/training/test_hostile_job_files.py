"""Retrain job files as a hostile or careless hand (or a shared project folder) would leave them:
each bad job is listed with its one-line problem; Resume and Discard refuse it in that line; no
FIFO is waited on; nothing outside the project is read, written or deleted; nothing changes."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.training.job_file import JOB_FILE, JobFileError
from core.training.jobs import RetrainRegistry, RetrainRequest, RetrainSnapshot, RetrainState, discard_job
from tests.commands.test_output_rule_cli import digest

JOB_ID = "20261201-120000-000000-member2"
ROW = {"model": 2, "epoch": 1, "train_loss": 1.2, "train_acc": 40.0, "train_f1": 38.0, "val_loss": 1.3,
       "val_acc": 41.0, "val_f1": 39.5, "lr": 0.001, "class_0_f1": 10.0, "class_1_f1": 50.0,
       "class_2_f1": 45.0, "class_3_f1": 60.0, "time_s": 0.5}  # fmt: skip


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result or exception, failing instead of hanging when it blocks."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"did not return within {seconds} s"
    return outcome[0]


def job_document(project: Path, job_id: str = JOB_ID) -> dict[str, Any]:
    folders = (project / "models_enhanced", project / "features_enhanced")
    request = RetrainRequest(*folders, 2, 46, {"max_epochs": 3})
    snapshot = RetrainSnapshot(job_id, Path(), request, RetrainState.CANCELLED, [dict(ROW)], 3, 46)
    return snapshot.to_dict()


def write_job(root: Path, document: dict[str, Any] | str, job_id: str = JOB_ID) -> Path:
    folder = root / job_id
    folder.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document)
    (folder / JOB_FILE).write_text(text)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder (only what a job file names) beside an outside folder holding a secret."""
    root = tmp_path / "project"
    for name in ("models_enhanced", "features_enhanced", "runs/retrain"):
        (root / name).mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("not the project's")
    return root


def retrain_root(project: Path) -> Path:
    return project / "runs" / "retrain"


def only_problem(project: Path) -> str:
    """The one unreadable job's problem; no job is listed as readable, and resume refuses it."""
    registry, root = RetrainRegistry(), retrain_root(project)
    assert within(10, lambda: registry.snapshots(root)) == []
    (unreadable,) = within(10, lambda: registry.unreadable(root))
    refusal = within(10, lambda: registry.resume(unreadable.folder))
    assert isinstance(refusal, JobFileError) and str(refusal) == unreadable.problem
    assert "\n" not in unreadable.problem
    return unreadable.problem


def test_a_good_job_file_is_listed_and_nothing_is_unreadable(project):
    write_job(retrain_root(project), job_document(project))
    registry = RetrainRegistry()
    (snapshot,) = registry.snapshots(retrain_root(project))
    assert snapshot.state is RetrainState.CANCELLED and snapshot.rows == [ROW] and snapshot.resumable
    assert registry.unreadable(retrain_root(project)) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, key = path.split(".")
        target = document
        for parent in parents:
            target = target[parent]
        target[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_set("max_epochs", 10**30), "'max_epochs'"),
        (_set("max_epochs", 2.5), "'max_epochs'"),
        (_set("request.member", 10**30), "'member'"),
        (_set("request.member", True), "'member'"),
        (_set("request.seed", -1), "'seed'"),
        (_set("seed", "46"), "'seed'"),
        (_set("request.options", {"max_epochs": 10**9}), "'max_epochs'"),
        (_set("request.options", {"no_such_setting": 1}), "no training setting"),
        (_set("request.device", "tpu"), "'request.device'"),
        (_set("rows", {"epoch": 1}), "'rows'"),
        (_set("rows", [[1, 2, 3]]), "'rows' item 0"),
        (_set("rows", [{"epoch": 1}]), "'rows' item 0 lacks"),
        (_set("rows", [ROW, {**ROW, "epoch": 1}]), "'epoch'"),
        (_set("rows", [ROW, {**ROW, "epoch": 2, "class_4_f1": 1.0}]), "'rows' item 1"),
        (_set("rows", [{**ROW, "val_acc": "41"}]), "'rows' item 0"),
        (_set("job_id", "another-job"), "'job_id'"),
        (_set("state", "paused"), "'state'"),
        (_set("format", "something else"), "'format'"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_job_file_with_a_bad_field_is_listed_with_the_field_named(change, named, project):
    document = job_document(project)
    change(document)
    folder = write_job(retrain_root(project), document)
    before = digest(project.parent)
    problem = only_problem(project)
    assert str(folder / JOB_FILE) in problem and named in problem
    assert digest(project.parent) == before


@pytest.mark.parametrize("number", ["1e999", "-Infinity", "Infinity", "NaN", "9" * 4000, "1" * 5000])
@pytest.mark.parametrize("field", ["max_epochs", "member", "seed"])
def test_non_finite_or_huge_numbers_are_refused_in_one_line(number, field, project):
    document = job_document(project)
    placeholder = "123456789123456789"
    _set("request.member" if field == "member" else field, int(placeholder))(document)
    folder = write_job(retrain_root(project), json.dumps(document).replace(placeholder, number))
    before = digest(project.parent)
    problem = only_problem(project)
    assert str(folder / JOB_FILE) in problem and len(problem) < len(str(folder / JOB_FILE)) + 200
    assert digest(project.parent) == before


def test_a_fifo_in_place_of_the_job_file_is_never_opened(project):
    root = retrain_root(project)
    (root / JOB_ID).mkdir()
    os.mkfifo(root / JOB_ID / JOB_FILE)
    problem = only_problem(project)
    assert problem == f"{root / JOB_ID / JOB_FILE} is not a regular file; not read"


def test_a_fifo_in_place_of_a_job_folder_is_no_job(project):
    os.mkfifo(retrain_root(project) / JOB_ID)
    registry = RetrainRegistry()
    assert within(10, lambda: registry.snapshots(retrain_root(project))) == []
    assert within(10, lambda: registry.unreadable(retrain_root(project))) == []


def test_a_job_folder_linked_out_of_the_project_is_never_read(project, tmp_path):
    """The project is decided from the path as given: a link whose target's own grandparent would
    pass as 'the project' is still refused, and the folders its job names are never resolved."""
    outside = tmp_path / "outside" / "a" / "b" / JOB_ID
    outside.mkdir(parents=True)
    (outside / JOB_FILE).write_text(json.dumps(job_document(tmp_path / "outside", JOB_ID)))
    (retrain_root(project) / JOB_ID).symlink_to(outside, target_is_directory=True)
    before = digest(tmp_path)
    problem = only_problem(project)
    assert "leads outside the project" in problem and str(project) in problem
    assert digest(tmp_path) == before


def test_a_retrain_folder_linked_out_of_the_project_is_never_read(project, tmp_path):
    elsewhere = tmp_path / "outside" / "retrain"
    write_job(elsewhere, job_document(project))
    shutil.rmtree(retrain_root(project))
    retrain_root(project).symlink_to(elsewhere, target_is_directory=True)
    problem = only_problem(project)
    assert "leads outside the project" in problem


def test_a_job_folder_linked_inside_the_project_is_read(project):
    kept = project / "runs" / "kept" / JOB_ID
    write_job(kept.parent, job_document(project))
    (retrain_root(project) / JOB_ID).symlink_to(kept, target_is_directory=True)
    (snapshot,) = RetrainRegistry().snapshots(retrain_root(project))
    assert snapshot.job_id == JOB_ID


def test_discard_of_a_folder_swapped_for_a_link_deletes_nothing(project, tmp_path):
    """Listed while it was a job folder, then replaced by a link to a folder outside: Discard
    refuses in one line; the link and everything it points at stay."""
    folder = write_job(retrain_root(project), job_document(project))
    (snapshot,) = RetrainRegistry().snapshots(retrain_root(project))
    outside = tmp_path / "outside"
    shutil.copy(folder / JOB_FILE, outside / JOB_FILE)
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    before = digest(tmp_path)
    with pytest.raises(JobFileError, match="is a link") as refusal:
        discard_job(snapshot)
    assert "\n" not in str(refusal.value) and folder.is_symlink()
    assert digest(tmp_path) == before


def test_discard_of_a_folder_whose_job_file_became_a_fifo_deletes_nothing(project):
    folder = write_job(retrain_root(project), job_document(project))
    (snapshot,) = RetrainRegistry().snapshots(retrain_root(project))
    (folder / JOB_FILE).unlink()
    os.mkfifo(folder / JOB_FILE)
    refusal = within(10, lambda: discard_job(snapshot))
    assert isinstance(refusal, JobFileError) and "not a retrain job folder" in str(refusal)
    assert (folder / JOB_FILE).exists()


def test_discard_removes_a_real_job_folder(project):
    folder = write_job(retrain_root(project), job_document(project))
    (snapshot,) = RetrainRegistry().snapshots(retrain_root(project))
    discard_job(snapshot)
    assert not folder.exists() and (project / "models_enhanced").is_dir()
