"""Retraining in the background, each job in its own process (cancel ends it, a restarted app
finds it running, a killed one resumes), the epoch-time estimate, and promotion with backups."""

import json
import os
import signal
import time

import pandas as pd
import pytest
import torch

from core.model.checkpoints import find_ensemble_checkpoints
from core.model.prediction_cache import file_fingerprint
from core.paths import RETRAIN_STATE
from core.training.ensemble import load_training_splits
from core.training.estimate import estimate_epoch
from core.training.jobs import (
    JOB_FILE,
    RetrainRegistry,
    RetrainRequest,
    RetrainState,
    discard_job,
    read_job,
    worker_alive,
)
from core.training.member import TrainingError
from core.training.promote import promote_candidate
from core.training.retrain import member_recipe
from tests.factories import write_features, write_project

OPTIONS = {"max_epochs": 3, "patience": 10, "batch_size": 4}
LONG = {"max_epochs": 40, "patience": 40, "batch_size": 4}


@pytest.fixture
def project(tmp_path):
    root = write_project(tmp_path / "project", num_videos=12)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=12, seed=3)
    return root


def _request(project, **changes):
    values = {
        "models_dir": project / "models_enhanced",
        "features_dir": project / "features_enhanced",
        "member": 2,
        "options": dict(OPTIONS),
    }
    return RetrainRequest(**{**values, **changes})


def _wait_for(condition, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


def test_a_job_trains_a_candidate_and_records_every_epoch(project):
    registry, root = RetrainRegistry(), project / "runs" / "retrain"
    job = registry.submit(_request(project), root)
    snapshot = job.wait(120)
    assert snapshot.state is RetrainState.FINISHED and snapshot.has_candidate, snapshot.error
    assert [row["epoch"] for row in snapshot.rows] == [1, 2, 3] and snapshot.seed == 46
    on_disk = read_job(snapshot.folder)
    assert on_disk.state is RetrainState.FINISHED and on_disk.rows == snapshot.rows
    assert registry.snapshots(root)[0].job_id == job.job_id


def test_a_cancelled_job_offers_no_candidate_and_resumes_after_an_app_restart(project):
    registry, root = RetrainRegistry(), project / "runs" / "retrain"
    job = registry.submit(_request(project), root)
    _wait_for(lambda: len(job.snapshot().rows) >= 1)
    job.cancel()
    cancelled = job.wait(60)
    assert cancelled.state is RetrainState.CANCELLED and not cancelled.has_candidate
    held = sorted(p.name for p in cancelled.candidate_dir.iterdir())
    assert held == [RETRAIN_STATE], "no half-written checkpoint is left as a candidate"

    # An app killed mid-run leaves its job file saying "running": a new process reads it as stopped.
    document = json.loads((cancelled.folder / JOB_FILE).read_text())
    (cancelled.folder / JOB_FILE).write_text(json.dumps({**document, "state": "running"}))
    restarted = RetrainRegistry()
    stopped = restarted.snapshots(root)[0]
    assert stopped.state is RetrainState.STOPPED and stopped.resumable and not stopped.has_candidate
    finished = restarted.resume(stopped.folder).wait(120)
    assert finished.state is RetrainState.FINISHED and finished.has_candidate, finished.error
    assert [row["epoch"] for row in finished.rows] == [1, 2, 3]
    discard_job(finished)
    assert not finished.folder.exists()


def test_a_job_with_bad_input_fails_with_the_reason(project):
    job = RetrainRegistry().submit(_request(project, member=9), project / "runs" / "retrain")
    snapshot = job.wait(60)
    assert snapshot.state is RetrainState.FAILED and "member 9 does not exist" in snapshot.error


def test_the_epoch_estimate_is_measured_on_real_batches(project):
    train, val = load_training_splits(project / "features_enhanced")
    recipe = member_recipe(project / "models_enhanced", 1)
    before = torch.get_rng_state()
    estimate = estimate_epoch(
        train,
        val,
        recipe.checkpoint.config,
        recipe.training.__class__(batch_size=4),
        torch.device("cpu"),
        batches=2,
    )
    assert torch.equal(before, torch.get_rng_state())
    assert (estimate.train_batches, estimate.val_batches, estimate.measured_batches) == (3, 2, 2)
    assert estimate.seconds_per_epoch == pytest.approx(3 * estimate.train_batch_s + 2 * estimate.val_batch_s)
    assert estimate.train_batch_s > 0 and not estimate.gpu_recommended
    assert estimate.__class__(**{**estimate.__dict__, "hidden_dim": 768}).gpu_recommended


def test_promotion_keeps_the_original_as_a_backup_and_refuses_a_stale_candidate(project):
    models = project / "models_enhanced"
    job = RetrainRegistry().submit(_request(project), project / "runs" / "retrain")
    candidate = job.wait(120).candidate_dir
    original_digest = file_fingerprint(models / "best_ensemble_model_2.pt")
    promotion = promote_candidate(candidate, models, stamp="20261202-150000")
    backup = models / "best_ensemble_model_2.backup-20261202-150000.pt"
    assert backup in promotion.backups and file_fingerprint(backup) == original_digest
    assert file_fingerprint(models / "best_ensemble_model_2.pt") == file_fingerprint(
        candidate / "best_ensemble_model_2.pt"
    )
    assert [p.name for p in find_ensemble_checkpoints(models)] == [
        f"best_ensemble_model_{n}.pt" for n in range(1, 5)
    ]
    history = pd.read_csv(models / "training_metrics.csv")
    assert history[history["model"] == 2]["epoch"].tolist() == [1, 2, 3]
    assert (models / "training_metrics.backup-20261202-150000.csv").is_file()
    summary = json.loads((models / "configuration_analysis.json").read_text())
    assert summary["checkpoints"]["best_ensemble_model_2.pt"]["seed"] == 46
    with pytest.raises(TrainingError, match="has changed since the candidate was trained"):
        promote_candidate(candidate, models, stamp="20261202-150001")


def test_a_job_file_naming_folders_outside_the_project_is_not_resumed(project, tmp_path):
    registry, root = RetrainRegistry(), project / "runs" / "retrain"
    job = registry.submit(_request(project), root)
    _wait_for(lambda: len(job.snapshot().rows) >= 1)
    job.cancel()
    folder = job.wait(60).folder
    elsewhere = tmp_path / "elsewhere"
    document = json.loads((folder / JOB_FILE).read_text())
    document["request"] = {**document["request"], "features_dir": str(elsewhere)}
    (folder / JOB_FILE).write_text(json.dumps({**document, "state": "running"}))
    with pytest.raises(ValueError, match="is outside the project"):
        RetrainRegistry().resume(folder)


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_restarted_app_finds_the_job_running_and_its_cancel_ends_the_process(project):
    root = project / "runs" / "retrain"
    job = RetrainRegistry().submit(_request(project, options=LONG), root)
    _wait_for(lambda: len(job.snapshot().rows) >= 1)
    pid = job.snapshot().pid
    assert pid is not None and pid != os.getpid()

    restarted = RetrainRegistry()
    (running,) = restarted.active(root)
    assert running.job_id == job.job_id and running.pid == pid
    restarted.cancel(job.job_id)
    ended = job.wait(60)
    assert ended.state is RetrainState.CANCELLED and ended.resumable
    assert _process_gone(pid) and not worker_alive(ended.folder)
    assert 1 <= len(ended.rows) < 40


def test_a_job_whose_process_was_killed_is_shown_stopped_and_resumes(project):
    registry, root = RetrainRegistry(), project / "runs" / "retrain"
    job = registry.submit(_request(project), root)
    _wait_for(lambda: len(job.snapshot().rows) >= 1)
    os.kill(job.snapshot().pid, signal.SIGKILL)
    killed = job.wait(60)
    assert killed.state is RetrainState.STOPPED and killed.resumable and not killed.has_candidate
    assert "process ended before it finished" in killed.error
    (listed,) = RetrainRegistry().snapshots(root)
    assert listed.state is RetrainState.STOPPED
    finished = registry.resume(killed.folder).wait(120)
    assert finished.state is RetrainState.FINISHED and finished.has_candidate, finished.error
    assert [row["epoch"] for row in finished.rows] == [1, 2, 3]


def test_a_running_job_cannot_be_started_twice(project):
    registry, root = RetrainRegistry(), project / "runs" / "retrain"
    job = registry.submit(_request(project, options=LONG), root)
    _wait_for(lambda: len(job.snapshot().rows) >= 1)
    with pytest.raises(ValueError, match="no interrupted retrain job to resume"):
        registry.resume(job.folder)
    job.cancel()
    assert job.wait(60).state is RetrainState.CANCELLED
