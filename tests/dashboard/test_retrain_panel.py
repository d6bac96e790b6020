"""The retrain panel and the sidebar after an app restart: a job that was training is reported as
stopped, with no candidate, and resumes from the page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.training.jobs import JOB_FILE, RetrainRegistry, RetrainRequest, RetrainState
from dashboard.cache import retrain_registry
from dashboard.navigation import COLLAPSE_PAGE
from tests.dashboard.test_pages_part1 import open_page
from tests.factories import write_features, write_project


@pytest.fixture
def stopped_job(tmp_path: Path) -> Path:
    """A project whose retrain job of member 1 was cut after its first epoch by an app restart."""
    root = write_project(tmp_path / "project", num_videos=12)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=12, seed=3)
    request = RetrainRequest(
        root / "models_enhanced",
        root / "features_enhanced",
        1,
        options={"max_epochs": 3, "patience": 10, "batch_size": 4},
    )
    job = RetrainRegistry().submit(request, root / "runs" / "retrain")
    deadline = time.monotonic() + 60
    while not job.snapshot().rows and time.monotonic() < deadline:
        time.sleep(0.05)
    job.cancel()
    folder = job.wait(60).folder
    document = json.loads((folder / JOB_FILE).read_text())
    (folder / JOB_FILE).write_text(json.dumps({**document, "state": "running"}))
    return root


def test_a_job_cut_by_a_restart_is_reported_stopped_and_resumes(stopped_job: Path, monkeypatch) -> None:
    at = open_page(stopped_job, monkeypatch, COLLAPSE_PAGE)
    assert at.selectbox(key="collapse_member").value == "best_ensemble_model_1"
    warnings = [w.value for w in at.warning]
    stopped = "retraining of Model 1 stopped (its training process ended before it finished)"
    assert any(stopped in w for w in warnings)
    assert any("Retraining Model 1, seed 46 stopped before it finished" in w for w in warnings)
    assert not any("Candidate ready" in s.value for s in at.success)
    at.button(key=next(b.key for b in at.button if b.key.startswith("retrain_resume_"))).click().run()
    assert not at.exception, [e.value for e in at.exception]
    registry = retrain_registry()
    (snapshot,) = registry.snapshots(stopped_job / "runs" / "retrain")
    finished = registry.get(snapshot.job_id).wait(120)
    assert finished.state is RetrainState.FINISHED and finished.has_candidate, finished.error
    at.run()
    assert any(s.value.startswith("Candidate ready (seed 46)") for s in at.success)
