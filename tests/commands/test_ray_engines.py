"""`evaluate --engine ray` and `train --engine ray` on one real local Ray instance: the local
engine's run and members, an interrupted evaluation resumed from its shards, problems said in one
line before Ray is contacted, and a cluster run started from the app's form."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.cli import main
from core.evaluation.runs import load_run, run_evaluation
from dashboard.plain_text import plain
from tests.conftest import APP, finish_background_tta
from tests.factories import write_features, write_project

ray = pytest.importorskip("ray")

from core.evaluation import ray_evaluate  # noqa: E402
from core.evaluation.ray_evaluate import (  # noqa: E402
    SHARD_SUFFIX,
    ActorPlan,
    RayEvaluation,
    Shard,
    list_shards,
    missing_ranges,
    plan_evaluation_actors,
)
from core.features.ray_engine import RUN_MARKER_SUFFIX, default_shard_dir  # noqa: E402
from core.model.checkpoints import find_ensemble_checkpoints  # noqa: E402
from core.training.ray_train import TaskPlan, plan_member_tasks  # noqa: E402

TRAIN_FLAGS = ["--models", "2", "--epochs", "2", "--batch-size", "4", "--hidden-dim", "8",
               "--lstm-layers", "1", "--heads", "2", "--device", "cpu"]  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def one_thread():
    """Ray's 1-CPU workers run torch on one thread; the local reference does too, so both sum in
    the same order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("project"), num_videos=12)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=16, seed=3)
    return root


def members(root: Path) -> list[Path]:
    return find_ensemble_checkpoints(root / "models_enhanced")[:2]


def features_of(root: Path) -> Path:
    return root / "features_enhanced" / "test_features_multiscale.h5"


def evaluate_args(root: Path, out: Path, *extra: str) -> list[str]:
    checkpoints = [str(p) for p in members(root)]
    return ["evaluate", "--checkpoints", *checkpoints, "--features", str(features_of(root)), "--tta",
            "--device", "cpu", "--out", str(out), *extra]  # fmt: skip


def assert_same_run(ours: Path, reference: Path) -> None:
    got, want = load_run(ours), load_run(reference)
    assert got.video_names == want.video_names
    assert got.members == want.members == ["best_ensemble_model_1", "best_ensemble_model_2"]
    assert got.tta_modes == want.tta_modes == ["original", "reverse", "speed_up", "speed_down"]
    assert got.labels.tolist() == want.labels.tolist()
    assert np.abs(got.probabilities - want.probabilities).max() <= 1e-5
    assert {n: s.accuracy for n, s in got.scores.items()} == {n: s.accuracy for n, s in want.scores.items()}


@pytest.fixture(scope="module")
def local_run(project: Path, tmp_path_factory: pytest.TempPathFactory, one_thread) -> Path:
    out = tmp_path_factory.mktemp("local") / "run.json"
    assert main(evaluate_args(project, out)) == 0
    return out


def test_an_interrupted_ray_evaluation_resumes_from_its_shards_into_the_local_engines_run(
    cluster, project, local_run, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run.json"
    shard_dir = default_shard_dir(out)

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        engine = RayEvaluation.beside(out, actors=1, rows_per_shard=2)
        run_evaluation(members(project), features_of(project), progress=interrupt, engine=engine)
    kept = list_shards(shard_dir)
    # How many land before the interrupt is reached depends on the machine's load; all may.
    assert 1 <= len(kept) <= 6
    assert not list(shard_dir.glob(f".*{RUN_MARKER_SUFFIX}")), "the run did not end"
    np.save(shard_dir / f"{'0' * 16}-{0:012d}-{2:012d}{SHARD_SUFFIX}", np.zeros((1, 1, 2, 4), np.float32))

    redone = []

    def recording(*args):
        redone.extend(ray_evaluate_missing_ranges(*args))
        return redone

    ray_evaluate_missing_ranges = ray_evaluate.missing_ranges
    monkeypatch.setattr(ray_evaluate, "missing_ranges", recording)
    assert main([*evaluate_args(project, out), "--engine", "ray", "--actors", "1"]) == 0
    assert f"ran on the ray cluster at {cluster} (cpu)" in capsys.readouterr().out
    finished = {row for shard in kept for row in range(shard.start, shard.stop)}
    assert sorted(row for start, stop in redone for row in range(start, stop)) == sorted(
        set(range(12)) - finished
    )
    assert_same_run(out, local_run)
    document = json.loads(out.read_text())
    assert (document["engine"], document["address"], document["device"]) == ("ray", cluster, "cpu")
    assert json.loads(local_run.read_text())["engine"] == "local"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.npz"]


def last_line(err: str) -> str:
    """The message under the progress bar, which must be the only error line."""
    assert err.count("error:") == 1, err
    return err.strip().splitlines()[-1]


def test_problems_are_one_line_before_ray_is_contacted(project, tmp_path, monkeypatch, capsys):
    def no_cluster(address):
        raise AssertionError("Ray was contacted")

    monkeypatch.setattr(ray_evaluate, "connect", no_cluster)
    broken = tmp_path / "best_ensemble_model_1.pt"
    broken.write_bytes(b"not a checkpoint")
    argv = ["evaluate", "--checkpoints", str(broken), "--features", str(features_of(project)),
            "--out", str(tmp_path / "run.json"), "--engine", "ray"]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert last_line(err).startswith("error: no usable checkpoint:") and str(broken) in last_line(err)
    unreadable = tmp_path / "test_features_multiscale.h5"
    unreadable.write_bytes(b"not hdf5")
    argv = [*evaluate_args(project, tmp_path / "run.json"), "--engine", "ray"]
    argv[argv.index("--features") + 1] = str(unreadable)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert last_line(err).startswith(f"error: {unreadable}: not a readable HDF5 file")
    assert not (tmp_path / "run.json.shards").exists()


def test_without_ray_the_engine_flag_says_how_to_install_it(project, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)
    for module in ("core.evaluation.ray_evaluate", "core.training.ray_train"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    assert main(evaluate_args(project, tmp_path / "run.json", "--engine", "ray")) == 1
    argv = ["train", "--features", str(project / "features_enhanced"), "--out", str(tmp_path / "models")]
    assert main([*argv, "--engine", "ray"]) == 1
    line = "error: --engine ray needs Ray: pip install -r requirements-ray.txt"
    assert capsys.readouterr().err.splitlines() == [line, line]
    assert list(tmp_path.iterdir()) == []


def trained_files(folder: Path) -> dict[str, object]:
    checkpoints = {
        path.name: torch.load(path, weights_only=True)["model_state_dict"]
        for path in find_ensemble_checkpoints(folder)
    }
    history = pd.read_csv(folder / "training_metrics.csv").drop(columns="time_s")
    return {"checkpoints": checkpoints, "history": history}


def assert_same_members(ours: Path, reference: Path) -> None:
    got, want = trained_files(ours), trained_files(reference)
    assert list(got["checkpoints"]) == list(want["checkpoints"]) == [
        "best_ensemble_model_1.pt", "best_ensemble_model_2.pt"
    ]  # fmt: skip
    for name, state in got["checkpoints"].items():
        assert all(torch.equal(state[key], want["checkpoints"][name][key]) for key in state)
    pd.testing.assert_frame_equal(got["history"], want["history"])


@pytest.fixture(scope="module")
def local_members(project: Path, tmp_path_factory: pytest.TempPathFactory, one_thread) -> Path:
    out = tmp_path_factory.mktemp("local_models")
    argv = ["train", "--features", str(project / "features_enhanced"), "--out", str(out), *TRAIN_FLAGS]
    assert main(argv) == 0
    return out


def test_ray_train_writes_the_local_engines_members_that_evaluate_loads_and_resumes(
    cluster, project, local_members, tmp_path, capsys
):
    out = tmp_path / "models"
    argv = ["train", "--features", str(project / "features_enhanced"), "--out", str(out), *TRAIN_FLAGS]
    assert main([*argv, "--engine", "ray"]) == 0
    printed = capsys.readouterr().out
    assert "model 1/2 epoch   2/2" in printed and "model 2/2 epoch   2/2" in printed
    assert_same_members(out, local_members)
    summary = json.loads((out / "configuration_analysis.json").read_text())
    assert [entry["seed"] for entry in summary["checkpoints"].values()] == [42, 43]
    run = tmp_path / "run.json"
    evaluate = ["evaluate", "--models", str(out), "--features", str(features_of(project)), "--out", str(run)]
    assert main([*evaluate, "--device", "cpu"]) == 0
    assert json.loads(run.read_text())["members"] == ["best_ensemble_model_1", "best_ensemble_model_2"]

    # A run that lost member 2 (as if interrupted while it trained) resumes with member 2 alone.
    first = (out / "best_ensemble_model_1.pt").read_bytes()
    (out / "best_ensemble_model_2.pt").unlink()
    assert main([*argv, "--engine", "ray", "--resume"]) == 0
    assert "kept finished models from the interrupted run: [1]" in capsys.readouterr().out
    assert (out / "best_ensemble_model_1.pt").read_bytes() == first
    resumed = trained_files(out)
    want = trained_files(local_members)
    for key, value in resumed["checkpoints"]["best_ensemble_model_2.pt"].items():
        # Alone on the cluster, member 2 trains on both CPUs: other sums, the same member.
        assert torch.allclose(value, want["checkpoints"]["best_ensemble_model_2.pt"][key], atol=1e-4)
    assert resumed["history"][["model", "epoch"]].values.tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]


def test_the_form_offers_a_named_cluster_and_the_run_says_where_it_ran(cluster, project, monkeypatch):
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    runs = project / "runs"
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert "eval_engine" not in [radio.key for radio in app.radio]
    monkeypatch.setenv("RAY_ADDRESS", cluster)
    app.run()
    app.multiselect(key="eval_checkpoints").set_value(members(project))
    app.toggle(key="eval_tta").set_value(False)
    app.radio(key="eval_engine").set_value("ray")
    app.button(key="FormSubmitter:evaluation_form-Start evaluation").click().run()
    deadline = time.monotonic() + 120
    while not list(runs.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    [run_file] = list(runs.glob("*.json"))
    assert sorted(p.name for p in runs.iterdir()) == [run_file.name, run_file.with_suffix(".npz").name]
    run = load_run(run_file)
    assert (run.engine, run.address) == ("ray", cluster)
    reference = run_evaluation(members(project), features_of(project), tta_modes=(), device="cpu")
    assert np.abs(run.probabilities - reference.probabilities).max() <= 1e-5
    app.switch_page("app_pages/6_Evaluation_runs.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert any(f"ray cluster {plain(cluster)} (cpu)" in c.value for c in app.caption)
    assert finish_background_tta() == []


def test_evaluation_actors_take_one_gpu_each_or_one_cpu_each():
    assert plan_evaluation_actors({"CPU": 16, "GPU": 4}, None, None) == ActorPlan(4, "cuda", 1)
    assert plan_evaluation_actors({"CPU": 16, "GPU": 4}, None, "cpu") == ActorPlan(16, "cpu", 0)
    assert plan_evaluation_actors({"CPU": 2}, 3, None) == ActorPlan(3, "cpu", 0)
    with pytest.raises(ValueError, match="no GPUs"):
        plan_evaluation_actors({"CPU": 2}, None, "cuda")


def test_members_take_one_gpu_each_or_share_the_cpus():
    assert plan_member_tasks({"CPU": 16, "GPU": 8}, 4, None, None) == TaskPlan("cuda", 1, 1, 4)
    assert plan_member_tasks({"CPU": 16}, 4, None, None) == TaskPlan("cpu", 4, 0, 4)
    assert plan_member_tasks({"CPU": 16}, 4, 2, torch.device("cpu")) == TaskPlan("cpu", 8, 0, 2)
    with pytest.raises(ValueError, match="no GPUs"):
        plan_member_tasks({"CPU": 16}, 4, None, torch.device("cuda"))


def test_only_the_rows_no_shard_holds_are_predicted_again():
    finished = [Shard(Path(), "k", 2, 4), Shard(Path(), "k", 7, 9)]
    assert missing_ranges(12, finished, 2) == [(0, 2), (4, 6), (6, 7), (9, 11), (11, 12)]
    assert missing_ranges(5, [], 10) == [(0, 5)]
    assert missing_ranges(4, [Shard(Path(), "k", 0, 4)], 2) == []
