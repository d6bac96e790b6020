import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from core.evaluation.jobs import EvaluationRequest, JobRegistry, JobState
from core.evaluation.runs import list_runs, load_run, run_evaluation, save_run
from tests.factories import write_ensemble, write_features

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def project(tmp_path: Path) -> tuple[list[Path], Path, Path]:
    checkpoints = write_ensemble(tmp_path / "models_enhanced", members=2)
    features = tmp_path / "features_enhanced" / "test_features_multiscale.h5"
    features.parent.mkdir()
    write_features(features, num_videos=12, seed=3)
    runs = tmp_path / "runs"
    runs.mkdir()
    return checkpoints, features, runs


def test_finished_job_saves_the_evaluate_run(project: tuple[list[Path], Path, Path]) -> None:
    checkpoints, features, runs = project
    request = EvaluationRequest(tuple(checkpoints), features, ("reverse",), batch_size=5, device="cpu")
    registry = JobRegistry()
    snapshot = registry.submit(request, runs).wait(60)
    assert snapshot.state is JobState.FINISHED, snapshot.error
    assert snapshot.done == snapshot.total > 0 and snapshot.fraction == 1.0
    assert snapshot.run_path.parent == runs and snapshot.run_path.name.endswith("-test-2models-tta.json")
    saved = load_run(snapshot.run_path)
    expected = run_evaluation(checkpoints, features, tta_modes=("reverse",), batch_size=5, device="cpu")
    assert saved.tta_modes == ["original", "reverse"]
    assert saved.scores == expected.scores
    np.testing.assert_allclose(saved.probabilities, expected.probabilities, atol=1e-6)
    assert registry.active() == []


def test_cancelled_job_writes_nothing(project: tuple[list[Path], Path, Path]) -> None:
    checkpoints, features, runs = project
    existing = save_run(run_evaluation(checkpoints, features, tta_modes=()), runs / "earlier.json")
    registry = JobRegistry()
    first_batch = threading.Event()
    release = threading.Event()

    def hold(done: int, total: int) -> None:
        first_batch.set()
        release.wait(10)

    request = EvaluationRequest(tuple(checkpoints), features, ("reverse", "speed_up"), batch_size=2)
    job = registry.submit(request, runs, on_progress=hold)
    assert first_batch.wait(30)
    assert [s.state for s in registry.active()] == [JobState.RUNNING]
    registry.cancel(job.job_id)
    release.set()
    snapshot = job.wait(30)
    assert snapshot.state is JobState.CANCELLED
    assert 0 < snapshot.done < snapshot.total
    assert sorted(p.name for p in runs.iterdir()) == ["earlier.json", "earlier.npz"]
    assert [path for path, _ in list_runs(runs).runs] == [existing]


def test_failed_job_reports_the_file(project: tuple[list[Path], Path, Path], tmp_path: Path) -> None:
    checkpoints, _, runs = project
    missing = tmp_path / "features_enhanced" / "val_features_multiscale.h5"
    snapshot = JobRegistry().submit(EvaluationRequest(tuple(checkpoints), missing), runs).wait(30)
    assert snapshot.state is JobState.FAILED
    assert "val_features_multiscale.h5" in snapshot.error
    assert list(runs.iterdir()) == []


def test_registry_forgets_old_finished_jobs(project: tuple[list[Path], Path, Path]) -> None:
    checkpoints, features, runs = project
    registry = JobRegistry()
    for _ in range(3):
        registry.submit(EvaluationRequest(tuple(checkpoints[:1]), features), runs).wait(60)
    registry.forget_finished(keep=1)
    assert [s.job_id for s in registry.snapshots()] == [3]
    assert len(list_runs(runs).runs) == 3


KILLED_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from core.evaluation.jobs import EvaluationRequest, JobRegistry

    def slow(done, total):
        print("progress", done, total, flush=True)
        time.sleep(0.5)

    checkpoints = tuple(Path(p) for p in sys.argv[3:])
    request = EvaluationRequest(checkpoints, Path(sys.argv[1]), ("reverse",), batch_size=1)
    JobRegistry().submit(request, Path(sys.argv[2]), on_progress=slow).wait()
    """
)


def test_process_killed_mid_run_leaves_the_listing_intact(project: tuple[list[Path], Path, Path]) -> None:
    checkpoints, features, runs = project
    existing = save_run(run_evaluation(checkpoints, features, tta_modes=()), runs / "earlier.json")
    command = [sys.executable, "-c", KILLED_WORKER, str(features), str(runs), *map(str, checkpoints)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) as worker:
        assert worker.stdout.readline().startswith("progress")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert worker.returncode == -signal.SIGKILL
    listing = list_runs(runs)
    assert [path for path, _ in listing.runs] == [existing]
    assert listing.unreadable == []
    assert sorted(p.name for p in runs.iterdir()) == ["earlier.json", "earlier.npz"]


def test_a_features_file_replaced_during_the_job_is_named_as_the_cause(
    project: tuple[list[Path], Path, Path],
) -> None:
    """Rows of the old and new file would mix; the job blames the file, not the models, and saves
    nothing."""
    checkpoints, features, runs = project
    replaced = threading.Event()

    def replace_the_file(done: int, total: int) -> None:
        if not replaced.is_set():
            other = features.with_name("other.h5")
            write_features(other, num_videos=12, seed=9)
            os.replace(other, features)
            replaced.set()

    request = EvaluationRequest(tuple(checkpoints), features, ("reverse",), batch_size=2, device="cpu")
    snapshot = JobRegistry().submit(request, runs, on_progress=replace_the_file).wait(60)
    assert replaced.is_set()
    assert snapshot.state is JobState.FAILED
    assert snapshot.error.startswith(f"{features} changed while this job was reading it")
    assert "gave NaN" not in snapshot.error
    assert list(runs.iterdir()) == []
