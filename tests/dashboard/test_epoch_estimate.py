"""The retrain form's epoch estimate is timed in a process of its own, as the job runs: one process
per (member, features, device) content, and a process that cannot time gives its one-line reason."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
import streamlit as st

from core.training import estimate_process
from core.training.estimate_process import EstimateFailed, estimate_in_own_process, parse_estimate
from dashboard.cache import epoch_estimate
from tests.factories import write_features, write_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "project", num_videos=12)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=12, seed=3)
    return root


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands of the timing processes started, each still run for real."""
    started: list[list[str]] = []
    run = subprocess.run

    def recording_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        started.append(command)
        return run(command, **kwargs)

    monkeypatch.setattr(estimate_process.subprocess, "run", recording_run)
    st.cache_data.clear()
    return started


def test_the_estimate_is_timed_once_in_its_own_process(project: Path, processes: list[list[str]]) -> None:
    models, features = project / "models_enhanced", project / "features_enhanced"
    first = epoch_estimate(models, 1, features, "cpu")
    assert first.seconds_per_epoch > 0 and first.train_batch_s > 0 and first.val_batch_s > 0
    assert first.seconds_per_epoch == pytest.approx(
        first.train_batches * first.train_batch_s + first.val_batches * first.val_batch_s
    )
    assert (first.device, first.hidden_dim) == ("cpu", 16)
    assert epoch_estimate(models, 1, features, "cpu") == first
    (command,) = processes
    assert command[1:3] == ["-m", "core.training.estimate_process"]


def test_a_process_that_cannot_time_gives_one_line(project: Path, processes: list[list[str]]) -> None:
    (project / "models_enhanced" / "best_ensemble_model_2.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(EstimateFailed) as failure:
        epoch_estimate(project / "models_enhanced", 2, project / "features_enhanced", "cpu")
    reason = str(failure.value)
    assert "best_ensemble_model_2.pt" in reason and "\n" not in reason and "Traceback" not in reason
    assert len(processes) == 1


def test_a_timing_process_past_its_time_is_stopped(project: Path) -> None:
    with pytest.raises(EstimateFailed, match=r"took longer than 0\.01 s"):
        estimate_in_own_process(project / "models_enhanced", 1, project / "features_enhanced", "cpu", 0.01)


def test_only_a_whole_positive_estimate_is_read() -> None:
    whole = {
        "seconds_per_epoch": 2.5, "train_batch_s": 0.5, "val_batch_s": 0.25, "train_batches": 4,
        "val_batches": 2, "measured_batches": 2, "device": "cpu", "hidden_dim": 16, "max_epochs": 150,
    }  # fmt: skip
    assert asdict(parse_estimate(json.dumps(whole))) == whole
    for line, problem in [
        ("Loading…", "printed no estimate"),
        (json.dumps({**whole, "extra": 1}), "incomplete"),
        (json.dumps({k: v for k, v in whole.items() if k != "device"}), "incomplete"),
        (json.dumps({**whole, "train_batch_s": -1.0}), "not positive"),
        (json.dumps({**whole, "val_batches": "2"}), "not positive"),
    ]:
        with pytest.raises(EstimateFailed, match=problem):
            parse_estimate(line)
