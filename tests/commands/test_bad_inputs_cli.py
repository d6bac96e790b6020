"""Bad input on the command line: exit code 1 and one `error:` line on stderr naming the file,
never a traceback; one broken member among good ones is skipped with a warning; concurrent
writers and a killed training leave only valid files."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.cli import main
from core.demo.bundle import foreign_demo_files, remove_earlier_demo_videos
from core.demo.clips import clip_path, plan_clips
from core.evaluation.runs import EvaluationError, load_run
from core.model.checkpoints import load_checkpoint, save_checkpoint
from core.paths import ProjectPaths
from tests.bad_inputs import (
    BAD_CHECKPOINTS,
    BAD_FEATURE_FILES,
    BAD_RUNS,
    write_bad_checkpoint,
    write_bad_features,
    write_bad_run,
    write_good_run,
    write_nan_into,
)
from tests.factories import TINY_CONFIG, make_model, write_ensemble, write_features, write_project

ROOT = Path(__file__).resolve().parents[2]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def assert_one_error(code: int, stderr: str, *parts: str) -> None:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    (line,) = error_lines(stderr)
    for part in parts:
        assert part in line, (part, line)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    return ProjectPaths.at(write_project(tmp_path_factory.mktemp("project"), num_videos=12))


def evaluate(paths: ProjectPaths, out: Path, *extra: str, features: Path | None = None) -> int:
    features = features or paths.features_file("test")
    return main(["evaluate", "--features", str(features), "--out", str(out), "--device", "cpu", *extra])


@pytest.mark.parametrize("kind", list(BAD_CHECKPOINTS))
def test_a_lone_bad_checkpoint_is_one_line_naming_it(kind, project, tmp_path, capsys):
    bad = tmp_path / f"{kind}.pt"
    message = write_bad_checkpoint(bad, kind)
    code = evaluate(project, tmp_path / "run.json", "--checkpoints", str(bad))
    assert_one_error(code, capsys.readouterr().err, str(bad), message, "no usable checkpoint")
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("kind", ["nan_weights", "epoch_not_a_number", "negative_hidden_dim"])
def test_one_bad_member_among_good_ones_is_skipped_with_a_warning(kind, tmp_path, capsys):
    models = tmp_path / "models"
    write_ensemble(models)
    bad = models / "best_ensemble_model_2.pt"
    message = write_bad_checkpoint(bad, kind)
    features = write_features(tmp_path / "test_features_multiscale.h5", num_videos=8).path
    out = tmp_path / "run.json"
    code = main(["evaluate", "--models", str(models), "--features", str(features), "--out", str(out)])
    stderr = capsys.readouterr().err
    assert code == 0 and not error_lines(stderr)
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and str(bad) in warnings[0] and message in warnings[0]
    run = load_run(out)
    assert run.members == ["best_ensemble_model_1", "best_ensemble_model_3", "best_ensemble_model_4"]
    assert [w for w in run.warnings if str(bad) in w and message in w]


def test_every_member_bad_lists_each_one(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    first = write_bad_checkpoint(models / "best_ensemble_model_1.pt", "nan_weights")
    second = write_bad_checkpoint(models / "best_ensemble_model_2.pt", "metrics_a_list")
    features = write_features(tmp_path / "test_features_multiscale.h5", num_videos=8).path
    code = main(
        ["evaluate", "--models", str(models), "--features", str(features), "--out", str(tmp_path / "r.json")]
    )
    assert_one_error(
        code, capsys.readouterr().err, "best_ensemble_model_1.pt", first, "best_ensemble_model_2.pt", second
    )


def test_members_with_different_class_counts_are_named_with_their_counts(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    save_checkpoint(models / "best_ensemble_model_1.pt", make_model(TINY_CONFIG), epoch=1)
    three = dataclasses.replace(TINY_CONFIG, num_classes=3)
    save_checkpoint(
        models / "best_ensemble_model_2.pt", make_model(three), epoch=1, class_names=["a", "b", "c"]
    )
    features = write_features(tmp_path / "test_features_multiscale.h5", num_videos=8).path
    code = main(
        ["evaluate", "--models", str(models), "--features", str(features), "--out", str(tmp_path / "r.json")]
    )
    assert_one_error(
        code,
        capsys.readouterr().err,
        "best_ensemble_model_1 4, best_ensemble_model_2 3",
        "cannot be averaged",
    )


@pytest.mark.parametrize("kind", list(BAD_FEATURE_FILES))
def test_a_bad_features_file_is_one_line_naming_it(kind, project, tmp_path, capsys):
    bad = tmp_path / f"{kind}.h5"
    message = write_bad_features(bad, kind)
    code = evaluate(project, tmp_path / "run.json", "--models", str(project.models_dir), features=bad)
    assert_one_error(code, capsys.readouterr().err, str(bad), message)
    assert not (tmp_path / "run.json").exists()


def test_nan_in_a_compatible_features_file_is_one_line_naming_it(project, tmp_path, capsys):
    # Streaming reads values only after the compatibility check, so the NaN needs a file the
    # ensemble could otherwise evaluate.
    bad = tmp_path / "test_features_multiscale.h5"
    shutil.copy(project.features_file("test"), bad)
    write_nan_into(bad)
    code = evaluate(project, tmp_path / "run.json", "--models", str(project.models_dir), features=bad)
    assert_one_error(code, capsys.readouterr().err, str(bad), "contain NaN or inf values")
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("kind", list(BAD_RUNS))
def test_a_malformed_run_file_is_one_error_naming_it(kind, tmp_path):
    paths = ProjectPaths.at(write_project(tmp_path, num_videos=8))
    good = write_good_run(tmp_path)
    bad = paths.runs_dir / f"{kind}.json"
    message = write_bad_run(bad, kind, good)
    with pytest.raises(EvaluationError) as caught:
        load_run(bad)
    assert str(caught.value).startswith(str(bad)) and message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("option", "target"),
    [
        ("--features", "missing.h5"),
        ("--features", "a_folder"),
        ("--checkpoints", "missing.pt"),
        ("--checkpoints", "a_folder"),
        ("--models", "no_such_folder"),
    ],
)
def test_missing_paths_and_folders_are_one_line_naming_them(option, target, project, tmp_path, capsys):
    (tmp_path / "a_folder").mkdir()
    path = tmp_path / target
    args = {"--models": str(project.models_dir), "--features": str(project.features_file("test"))}
    args[option] = str(path)
    argv = ["evaluate", "--out", str(tmp_path / "run.json"), "--device", "cpu"]
    for name, value in args.items():
        argv += [name, value]
    code = main(argv)
    assert_one_error(code, capsys.readouterr().err, str(path))


@pytest.mark.parametrize(("name", "content"), [("empty.mp4", b""), ("notes.mp4", b"just some text\n")])
def test_classify_a_clip_that_is_not_a_video(name, content, project, tmp_path, capsys):
    clip = tmp_path / name
    clip.write_bytes(content)
    code = main(["classify", str(clip), "--models", str(project.models_dir), "--device", "cpu"])
    stderr = capsys.readouterr().err
    assert code == 1 and "Traceback" not in stderr
    (line,) = error_lines(stderr)
    assert str(clip) in line and "not a video" in line


def test_tta_modes_given_twice_are_refused(project, tmp_path, capsys):
    code = evaluate(
        project, tmp_path / "run.json", "--models", str(project.models_dir), "--tta",
        "--tta-modes", "reverse", "reverse", "reverse",
    )  # fmt: skip
    assert_one_error(code, capsys.readouterr().err, "reverse")
    assert not (tmp_path / "run.json").exists()


def core_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "core", *args]


def test_two_evaluations_writing_one_out_leave_one_valid_run(project, tmp_path):
    """Started together, the second is refused while the first holds the output (started after
    it finished, it replaces the first's run, its own kind of file); never both at once."""
    out = tmp_path / "runs" / "shared.json"
    out.parent.mkdir()
    command = core_command(
        "evaluate", "--models", str(project.models_dir), "--features", str(project.features_file("test")),
        "--tta", "--out", str(out), "--device", "cpu",
    )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    writers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for writer in writers:
        _, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0 or f"{out} is being written by another command now" in stderr, stderr
    assert 0 in [writer.returncode for writer in writers]
    run = load_run(out)
    assert run.num_videos == 12 and run.tta_modes == ["original", "reverse", "speed_up", "speed_down"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["shared.json", "shared.npz"]


def train_command(features: Path, out: Path, *extra: str) -> list[str]:
    return core_command(
        "train", "--features", str(features), "--out", str(out), "--models", "2", "--epochs", "12",
        "--patience", "12", "--hidden-dim", "16", "--lstm-layers", "1", "--heads", "2", "--batch-size", "4",
        "--device", "cpu", *extra,
    )  # fmt: skip


def test_training_killed_with_sigkill_resumes_to_valid_checkpoints(tmp_path):
    features = tmp_path / "features"
    features.mkdir()
    write_features(features / "train_features_multiscale.h5", num_videos=16, seed=3)
    write_features(features / "val_features_multiscale.h5", num_videos=8, seed=4)
    out = tmp_path / "models"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    trainer = subprocess.Popen(
        train_command(features, out), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    first = out / "best_ensemble_model_1.pt"
    deadline = time.monotonic() + 240
    while not first.exists() and trainer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    # Killed while member 1 is still improving (or saving): no handler runs, no cleanup happens.
    trainer.send_signal(signal.SIGKILL)
    trainer.wait(timeout=30)
    assert trainer.returncode == -signal.SIGKILL, "training finished before it could be killed"

    resumed = subprocess.run(
        train_command(features, out, "--resume"),
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    for n in (1, 2):
        assert load_checkpoint(out / f"best_ensemble_model_{n}.pt", "cpu").epoch is not None
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert json.loads((out / "configuration_analysis.json").read_text())["checkpoints"]


def test_demo_never_deletes_files_it_did_not_write(tmp_path, capsys):
    own = tmp_path / "data" / "demo" / "holiday" / "beach.mp4"
    own.parent.mkdir(parents=True)
    own.write_bytes(b"the user's own clip")
    code = main(["demo", "--root", str(tmp_path), "--scale", "ci", "--device", "cpu"])
    assert_one_error(code, capsys.readouterr().err, "data/demo/holiday/beach.mp4", "--overwrite")
    assert own.read_bytes() == b"the user's own clip"
    assert not (tmp_path / "models_enhanced").exists()


def test_files_a_demo_build_writes_are_not_foreign(tmp_path):
    paths = ProjectPaths.at(tmp_path)
    for split, seed in (("train", 30), ("val", 31)):
        for spec in plan_clips(seed, 2):
            made = clip_path(paths.demo_videos_dir / split, spec)
            made.parent.mkdir(parents=True, exist_ok=True)
            made.write_bytes(b"")
    (paths.demo_videos_dir / "manifest.json").write_text("{}")
    assert foreign_demo_files(paths) == []
    stray = paths.demo_videos_dir / "train" / "Gaming" / "notes.txt"
    stray.write_text("mine")
    assert foreign_demo_files(paths) == [stray]


def test_a_rebuild_removes_only_what_the_demo_wrote(tmp_path):
    """`demo --overwrite` replaces the demo's own clips; a user's file among them stays."""
    paths = ProjectPaths.at(tmp_path)
    made = [clip_path(paths.demo_videos_dir / "train", spec) for spec in plan_clips(30, 2)]
    for clip in made:
        clip.parent.mkdir(parents=True, exist_ok=True)
        clip.write_bytes(b"")
    stray = paths.demo_videos_dir / "train" / "Gaming" / "notes.txt"
    stray.write_text("mine")
    remove_earlier_demo_videos(paths)
    assert not any(clip.exists() for clip in made)
    assert stray.read_text() == "mine"
    assert [p for p in paths.demo_videos_dir.rglob("*") if p.is_file()] == [stray]
