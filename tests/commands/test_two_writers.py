"""Two writers of one output: exactly one writes, the other is refused in one line at once (an
exclusive lock taken before the output is checked, not check-then-write). The lock leaves no file
behind, never follows a link or opens a FIFO, and one left by a killed writer is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.cli import main
from core.evaluation.runs import load_run
from core.model.checkpoints import load_checkpoint
from core.outputs import LOCK_SUFFIX, OutputBusy, OutputRefused, hold_output, hold_outputs, lock_file
from core.paths import RETRAIN_PROVENANCE_JSON, ProjectPaths
from tests.commands.test_output_rule_cli import digest, one_error_line
from tests.factories import write_features, write_project

ROOT = Path(__file__).resolve().parents[2]


def held_elsewhere(path: Path) -> OutputRefused | None:
    """What a second writer (another thread: its own lock file handle) gets for `path` now."""
    outcome: list[OutputRefused | None] = []

    def second() -> None:
        try:
            with hold_output(path):
                outcome.append(None)
        except OutputRefused as exc:
            outcome.append(exc)

    worker = threading.Thread(target=second, daemon=True)
    worker.start()
    worker.join(10)
    assert outcome, "the second writer waited instead of being refused"
    return outcome[0]


def test_a_held_output_refuses_a_second_writer_and_leaves_nothing(tmp_path):
    out = tmp_path / "new" / "deeper" / "run.json"
    with hold_outputs([out, out.with_suffix(".npz")]):
        refusal = held_elsewhere(out)
        assert isinstance(refusal, OutputBusy) and "\n" not in str(refusal)
        assert str(out) in str(refusal) and "being written by another command" in str(refusal)
    assert held_elsewhere(out) is None
    assert list(tmp_path.iterdir()) == []


def test_a_lock_file_that_is_a_link_or_a_fifo_is_refused_and_left_alone(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("the user's")
    linked, piped = tmp_path / "linked.json", tmp_path / "piped.json"
    lock_file(linked).symlink_to(outside)
    os.mkfifo(lock_file(piped))
    for out in (linked, piped):
        refusal = held_elsewhere(out)
        assert isinstance(refusal, OutputRefused) and not isinstance(refusal, OutputBusy)
    assert outside.read_text() == "the user's" and lock_file(linked).is_symlink()


def test_a_lock_left_by_a_killed_writer_is_taken_over(tmp_path):
    out = tmp_path / "run.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom core.outputs import hold_output\n"
         f"with hold_output({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert isinstance(held_elsewhere(out), OutputBusy)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    assert lock_file(out).exists()
    assert held_elsewhere(out) is None and not lock_file(out).exists()


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    root = write_project(tmp_path_factory.mktemp("writers"), num_videos=8)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=8, seed=3)
    return ProjectPaths.at(root)


def test_evaluate_is_refused_while_another_command_writes_its_run(paths, capsys):
    out = paths.runs_dir / "busy.json"
    features = str(paths.features_file("test"))
    arguments = ["evaluate", "--models", str(paths.models_dir), "--features", features, "--out", str(out),
                 "--device", "cpu"]  # fmt: skip
    with hold_output(out):
        before = digest(paths.root)
        line = one_error_line(main(arguments), capsys.readouterr().err)
        assert digest(paths.root) == before
    assert f"{out} is being written by another command now" in line
    assert main(arguments) == 0 and load_run(out).members
    assert not list(paths.runs_dir.glob(f"*{LOCK_SUFFIX}"))


def retrain_command(paths: ProjectPaths, out: Path) -> list[str]:
    return [sys.executable, "-m", "core", "retrain", "--models", str(paths.models_dir), "--member", "2",
            "--features", str(paths.features_dir), "--out", str(out), "--device", "cpu", "--epochs", "2",
            "--batch-size", "4"]  # fmt: skip


def test_two_retrains_into_one_folder_started_together_one_writes(paths, tmp_path):
    out = tmp_path / "candidate"
    before = digest(paths.root)
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    started = [
        subprocess.Popen(retrain_command(paths, out), cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    finished = [process.communicate(timeout=240) for process in started]
    codes = sorted(process.returncode for process in started)
    assert codes == [0, 1], finished
    (refused,) = [err for (_, err), process in zip(finished, started, strict=True) if process.returncode == 1]
    line = one_error_line(1, refused)
    assert str(out) in line and ("being written by another command" in line or "already holds files" in line)
    assert load_checkpoint(out / "best_ensemble_model_2.pt", "cpu").seed == 46
    assert (out / RETRAIN_PROVENANCE_JSON).is_file() and not list(out.glob(f".*{LOCK_SUFFIX}"))
    assert digest(paths.root) == before
