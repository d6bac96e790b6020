"""Hostile retrain job folders through the real app: each bad one is listed in the sidebar with its
one-line problem; Resume and Discard, on the Collapse inspector and in the sidebar, refuse a job
whose folder changed after it was listed in one line, never a traceback; nothing changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.training.job_file import JOB_FILE
from dashboard.navigation import COLLAPSE_PAGE
from tests.commands.test_output_rule_cli import digest
from tests.dashboard.test_pages_part1 import open_page
from tests.factories import write_features, write_project
from tests.training.test_hostile_job_files import job_document, write_job

STOPPED = "20261201-120000-000000-member1"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with a job of member 1 an app restart stopped, and three job folders that are not
    read: a FIFO as job file, an infinite number, a link to a folder outside the project."""
    root = write_project(tmp_path / "project", num_videos=8).resolve()
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=8, seed=3)
    jobs = root / "runs" / "retrain"
    stopped = job_document(root, STOPPED)
    stopped["state"] = "running"
    stopped["request"]["member"] = 1
    write_job(jobs, stopped, STOPPED)
    (jobs / "20261101-000000-000000-member2").mkdir(parents=True)
    os.mkfifo(jobs / "20261101-000000-000000-member2" / JOB_FILE)
    infinite = json.dumps(job_document(root, "20261102-000000-000000-member2")).replace(
        '"max_epochs": 3', '"max_epochs": Infinity'
    )
    write_job(jobs, infinite, "20261102-000000-000000-member2")
    outside = tmp_path / "outside" / "20261103-000000-000000-member2"
    write_job(outside.parent, job_document(root, outside.name), outside.name)
    (jobs / outside.name).symlink_to(outside, target_is_directory=True)
    return root


def sidebar_problems(at: AppTest) -> list[str]:
    return [w.value for w in at.sidebar.warning if w.value.startswith("Retrain job not read")]


def test_every_bad_job_is_listed_once_with_its_problem(project: Path, monkeypatch) -> None:
    at = open_page(project, monkeypatch, COLLAPSE_PAGE)
    problems = sidebar_problems(at)
    assert len(problems) == 3
    assert any("20261101-000000-000000-member2" in p and "not a regular file" in p for p in problems)
    assert any("20261102-000000-000000-member2" in p and "Infinity" in p for p in problems)
    assert any("20261103-000000-000000-member2" in p and "leads outside the project" in p for p in problems)
    assert any("Retraining Model 1, seed 46 stopped" in w.value for w in at.sidebar.warning)


def one_refusal(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    (error,) = at.error
    assert "\n" not in error.value
    return error.value


@pytest.mark.parametrize("button", ["retrain_resume_", "sidebar_retrain_resume_"])
def test_resume_of_a_job_naming_folders_outside_is_refused_in_one_line(
    project, monkeypatch, button, tmp_path
):
    job_file = project / "runs" / "retrain" / STOPPED / JOB_FILE
    document = json.loads(job_file.read_text())
    document["request"]["features_dir"] = str(tmp_path / "outside")
    job_file.write_text(json.dumps(document))
    at = open_page(project, monkeypatch, COLLAPSE_PAGE)
    before = digest(tmp_path)
    at.button(key=f"{button}{STOPPED}").click().run()
    assert "is outside the project" in one_refusal(at) and JOB_FILE in one_refusal(at)
    assert digest(tmp_path) == before


def test_a_job_file_edited_after_listing_drops_to_the_not_read_list(project, monkeypatch):
    at = open_page(project, monkeypatch, COLLAPSE_PAGE)
    job_file = project / "runs" / "retrain" / STOPPED / JOB_FILE
    job_file.write_text(job_file.read_text().replace('"member": 1', '"member": 1e999'))
    before = digest(project.parent)
    at.button(key=f"retrain_resume_{STOPPED}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(STOPPED in p and "1e999" in p for p in sidebar_problems(at))
    assert digest(project.parent) == before


def test_discard_of_a_job_folder_that_is_a_link_deletes_nothing(project, monkeypatch, tmp_path):
    """A link inside the project is read, but Discard never follows it: the app made no link."""
    folder = project / "runs" / "retrain" / STOPPED
    moved = project / "runs" / "kept" / STOPPED
    moved.parent.mkdir()
    shutil.move(folder, moved)
    folder.symlink_to(moved, target_is_directory=True)
    at = open_page(project, monkeypatch, COLLAPSE_PAGE)
    before = digest(tmp_path)
    at.button(key=f"retrain_discard_{STOPPED}").click().run()
    assert "is a link" in one_refusal(at)
    assert digest(tmp_path) == before and folder.is_symlink()
