"""The output rule on the command line, case by case: an existing file that the command did not
write is refused in one line naming it and `--overwrite`; nothing the user made changes (every
case hashes the whole project before and after); a refused or failed command leaves nothing
behind; with `--overwrite` only the command's own files are replaced."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.evaluation.runs import load_run, sidecar_path
from core.paths import ProjectPaths
from tests.factories import write_features, write_project


def digest(root: Path) -> dict[str, str]:
    """Every file under `root` (hidden ones too) by relative path, with the SHA-256 of its bytes."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def one_error_line(code: int, stderr: str) -> str:
    assert code == 1, stderr
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    return ProjectPaths.at(write_project(tmp_path_factory.mktemp("project"), num_videos=8))


def evaluate(paths: ProjectPaths, out: Path, *extra: str) -> int:
    features = str(paths.features_file("test"))
    return main(["evaluate", "--models", str(paths.models_dir), "--features", features, "--out", str(out),
                 "--device", "cpu", *extra])  # fmt: skip


def refused_without_change(paths: ProjectPaths, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    before = digest(paths.root)
    line = one_error_line(evaluate(paths, out), capsys.readouterr().err)
    assert digest(paths.root) == before
    return line


@pytest.mark.parametrize(
    "target",
    [
        lambda p: p.features_file("test"),
        lambda p: p.features_file("val"),
        lambda p: p.checkpoint(1),
        lambda p: p.training_metrics_csv,
    ],
    ids=["the analysed features file", "another features file", "a checkpoint", "the training CSV"],
)
def test_evaluate_never_writes_over_a_project_file(target, project, capsys):
    out = target(project)
    line = refused_without_change(project, out, capsys)
    assert str(out) in line


def test_evaluate_refuses_a_users_json_and_names_overwrite(project, capsys):
    mine = project.root / "notes" / "mine.json"
    mine.parent.mkdir(exist_ok=True)
    mine.write_text('{"my": "notes"}')
    line = refused_without_change(project, mine, capsys)
    assert str(mine) in line and "--overwrite" in line


def test_evaluate_refuses_a_sidecar_that_would_replace_a_users_file(project, capsys):
    report = project.root / "notes" / "report.npz"
    report.parent.mkdir(exist_ok=True)
    np.savez(report, mine=np.arange(3))
    line = refused_without_change(project, project.root / "notes" / "report.txt", capsys)
    assert str(report) in line and "--overwrite" in line


def test_evaluate_refuses_an_out_that_is_its_own_sidecar(project, tmp_path, capsys):
    line = one_error_line(evaluate(project, tmp_path / "data.npz"), capsys.readouterr().err)
    assert "both as the evaluation run and as the probabilities sidecar" in line
    assert list(tmp_path.iterdir()) == []


def test_evaluate_refuses_a_folder_and_leaves_no_stray_sidecar(project, tmp_path, capsys):
    folder = tmp_path / "runs.json"
    folder.mkdir()
    line = one_error_line(evaluate(project, folder), capsys.readouterr().err)
    assert "is a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.json"]


def test_evaluate_refuses_an_unwritable_folder_before_any_work(project, tmp_path, capsys):
    if os.geteuid() == 0:
        locked = tmp_path / "file-not-folder"
        locked.write_text("x")
        out = locked / "run.json"
        expected = "is not a folder"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        out = locked / "run.json"
        expected = "is not writable"
    line = one_error_line(evaluate(project, out), capsys.readouterr().err)
    assert expected in line


def test_a_failed_evaluate_leaves_nothing_behind(project, tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "run.json"
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    code = main(["evaluate", "--checkpoints", str(broken), "--features", str(project.features_file("test")),
                 "--out", str(out)])  # fmt: skip
    one_error_line(code, capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.pt"]


def test_evaluate_replaces_its_own_earlier_run_without_the_flag(project, tmp_path, capsys):
    out = tmp_path / "run.json"
    assert evaluate(project, out) == 0
    first = out.read_bytes()
    assert evaluate(project, out) == 0
    assert load_run(out).num_videos == 8 and out.read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.npz"]


def test_overwrite_replaces_the_users_file_but_never_an_input(project, tmp_path, capsys):
    mine = tmp_path / "mine.json"
    mine.write_text("{}")
    assert evaluate(project, mine, "--overwrite") == 0
    assert load_run(mine).num_videos == 8 and sidecar_path(mine).is_file()
    capsys.readouterr()
    before = digest(project.root)
    line = one_error_line(
        evaluate(project, project.features_file("test"), "--overwrite"), capsys.readouterr().err
    )
    assert "is an input of this command" in line
    assert digest(project.root) == before


def test_train_overwrite_keeps_files_the_run_does_not_write(tmp_path, capsys):
    root = write_project(tmp_path / "p", num_videos=8)
    paths = ProjectPaths.at(root)
    write_features(paths.features_file("train"), num_videos=8, seed=3)
    out = tmp_path / "models"
    out.mkdir()
    backup = out / "best_ensemble_model_backup.pt"
    ninth = out / "best_ensemble_model_9.pt"
    notes = out / "notes.txt"
    for keep in (backup, ninth, notes):
        keep.write_bytes(b"the user's own file")
    (out / "best_ensemble_model_1.pt").write_bytes(b"an old member 1")
    code = main(["train", "--features", str(paths.features_dir), "--out", str(out), "--models", "1",
                 "--epochs", "1", "--hidden-dim", "8", "--lstm-layers", "1", "--heads", "2",
                 "--batch-size", "8", "--device", "cpu"])  # fmt: skip
    assert code == 1 and "--overwrite" in capsys.readouterr().err
    code = main(["train", "--features", str(paths.features_dir), "--out", str(out), "--models", "1",
                 "--epochs", "1", "--hidden-dim", "8", "--lstm-layers", "1", "--heads", "2",
                 "--batch-size", "8", "--device", "cpu", "--overwrite"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert all(keep.read_bytes() == b"the user's own file" for keep in (backup, ninth, notes))
    assert (out / "best_ensemble_model_1.pt").read_bytes() != b"an old member 1"


def test_extract_refuses_an_out_that_is_not_a_feature_file(tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    out = tmp_path / "results.h5"
    out.write_text("my own notes, not HDF5")
    code = main(["extract", "--videos", str(videos), "--out", str(out)])
    line = one_error_line(code, capsys.readouterr().err)
    assert str(out) in line and "--overwrite" in line
    assert out.read_text() == "my own notes, not HDF5"


def test_extract_resumes_its_own_feature_file_without_the_flag(tmp_path):
    import argparse

    from core.commands.extract import register
    from core.commands.extract_run import check_extraction_output

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    out = write_features(tmp_path / "test_features_multiscale.h5", num_videos=3).path
    args = parser.parse_args(["extract", "--videos", str(tmp_path), "--out", str(out)])
    assert check_extraction_output(args) is True
    fresh = parser.parse_args(["extract", "--videos", str(tmp_path), "--out", str(out), "--no-resume"])
    assert check_extraction_output(fresh) is False


def test_a_refused_output_is_checked_before_the_checkpoints_are_loaded(project, tmp_path, capsys):
    """The refusal comes first: an unloadable member would otherwise be the error reported."""
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"a": 1}))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"junk")
    code = main(["evaluate", "--checkpoints", str(broken), "--features", str(project.features_file("test")),
                 "--out", str(mine)])  # fmt: skip
    line = one_error_line(code, capsys.readouterr().err)
    assert "already exists" in line and "broken.pt" not in line
