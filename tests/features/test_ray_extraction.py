"""`--engine ray` on a real local Ray cluster: the same feature file as the local engine, broken
clips reported and skipped, interrupted runs resumed from their shards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from core.classes import CLASS_NAMES
from core.cli import main
from core.features.extraction import ExtractionOptions, extract_directory
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureFileError, open_features
from core.features.writer import FeatureWriter
from tests.factories import start_slow_writer, write_noise_clip

ray = pytest.importorskip("ray")

from core.features.ray_engine import (  # noqa: E402
    RUN_MARKER_SUFFIX,
    RayOptions,
    default_shard_dir,
    end_earlier_runs,
    end_run,
    extract_directory_ray,
    plan_actors,
    remove_shards,
    shard_files,
    start_run,
    write_shard,
)

TINY = FeatureRecipe(num_frames=6, image_size=64)
GOOD = [
    "Animation/cartoon/a1.mp4",
    "Animation/cartoon/a2.avi",
    "Gaming/fps/g1.mp4",
    "Natural_Content/wild/n1.mp4",
]
BROKEN = "Gaming/fps/broken.mp4"


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    for seed, name in enumerate(GOOD):
        write_noise_clip(root / name, count=10 + 3 * seed, seed=seed)
    (root / BROKEN).write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    return root


@pytest.fixture(scope="module")
def one_thread():
    """Ray's CPU actors run torch on one thread (OMP_NUM_THREADS=num_cpus); the local reference
    does too, so both sum in the same order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def local_file(videos: Path, tmp_path_factory: pytest.TempPathFactory, one_thread) -> Path:
    out = tmp_path_factory.mktemp("local") / "features.h5"
    report = extract_directory(videos, out, ExtractionOptions(recipe=TINY, device="cpu"))
    assert report.written == len(GOOD) and [name for name, _ in report.skipped] == [BROKEN]
    return out


def assert_same_file(ours: Path, reference: Path) -> None:
    with open_features(ours) as got, open_features(reference) as want:
        assert got.video_names == want.video_names == GOOD
        assert got.labels.tolist() == want.labels.tolist() == [0, 0, 2, 3]
        assert got.num_frames.tolist() == want.num_frames.tolist()
        assert got.recipe == want.recipe == TINY
        assert got.class_names == want.class_names
        difference = np.abs(got.read_all().features - want.read_all().features).max()
        assert difference <= 1e-5
    with h5py.File(ours) as got, h5py.File(reference) as want:
        assert attrs_of(got) == attrs_of(want)
        assert attrs_of(got)["num_videos"] == len(GOOD)


def attrs_of(h5: h5py.File) -> dict[str, object]:
    return {key: np.asarray(value).tolist() for key, value in h5.attrs.items()}


def test_ray_engine_writes_the_local_engines_file_and_reports_the_broken_clip(
    cluster, videos, local_file, tmp_path, capsys
):
    out = tmp_path / "features.h5"
    argv = ["extract", "--videos", str(videos), "--out", str(out), "--frames", "6", "--image-size", "64"]
    exit_code = main([*argv, "--engine", "ray", "--device", "cpu", "--shard-videos", "2"])
    assert exit_code == 1
    err = capsys.readouterr().err
    assert f"{BROKEN}: not a video OpenCV can open" in err
    assert_same_file(out, local_file)
    assert not default_shard_dir(out).exists()


def test_interrupted_ray_run_resumes_from_its_shards(cluster, videos, local_file, tmp_path):
    out = tmp_path / "features.h5"
    options, cluster = ExtractionOptions(recipe=TINY, device="cpu"), RayOptions(shard_videos=1)

    def interrupt(update):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_directory_ray(videos, out, options, progress=interrupt, cluster=cluster)
    kept = shard_files(default_shard_dir(out))
    # How many land before the interrupt is reached depends on the machine's load; all may.
    assert 1 <= len(kept) <= len(GOOD)
    assert not list(default_shard_dir(out).glob(f".*{RUN_MARKER_SUFFIX}")), "the run did not end"
    with open_features(out) as partial:
        assert partial.num_videos == 0

    progress = []
    report = extract_directory_ray(videos, out, options, progress=progress.append, cluster=cluster)
    assert report.written == len(GOOD) and report.already_present == 0
    assert report.skipped == [(BROKEN, report.skipped[0][1])]
    redone = len(GOOD) + 1 - len(kept)
    assert [p.done for p in progress] == list(range(1, redone + 1))
    assert_same_file(out, local_file)
    assert not default_shard_dir(out).exists(), sorted(p.name for p in default_shard_dir(out).glob("*"))


def shard_batch(names: list[str]) -> dict[str, np.ndarray]:
    """What the backbone stage hands `write_shard`: featurised videos, none of them broken."""
    count = len(names)
    return {
        "index": np.arange(count),
        "name": np.array(names),
        "features": np.ones((count, TINY.sequence_length, TINY.feature_dim), np.float32),
        "label": np.zeros(count, np.int64),
        "error": np.array([""] * count),
    }


def test_a_shard_lands_only_while_its_run_is_live(tmp_path):
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    marker = start_run(shard_dir)
    write_shard(shard_batch(GOOD[:2]), TINY.to_json(), list(CLASS_NAMES), str(marker))
    [landed] = shard_files(shard_dir)
    with open_features(landed) as shard:
        assert shard.video_names == GOOD[:2]
    end_run(marker)
    # A task cancelled with its run but still finishing, as on a busy cluster.
    result = write_shard(shard_batch(GOOD[2:]), TINY.to_json(), list(CLASS_NAMES), str(marker))
    assert list(result["name"]) == GOOD[2:]
    assert shard_files(shard_dir) == [landed]
    assert sorted(p.name for p in shard_dir.iterdir()) == [landed.name]


def test_a_shard_write_killed_midway_leaves_no_file_once_the_shards_are_merged(tmp_path):
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    marker = start_run(shard_dir)
    write_shard(shard_batch(GOOD[:2]), TINY.to_json(), list(CLASS_NAMES), str(marker))
    # What a force-cancelled write_shard task leaves: its temp file, and no process behind it.
    writer = start_slow_writer(shard_dir / "000000002-cancelled.h5")
    writer.kill()
    writer.wait(timeout=10)
    end_run(marker)
    remove_shards(shard_dir, shard_files(shard_dir))
    assert not shard_dir.exists()


def test_a_new_run_ends_the_runs_before_it(tmp_path):
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    killed = start_run(shard_dir)
    end_earlier_runs(shard_dir)
    write_shard(shard_batch(GOOD[:1]), TINY.to_json(), list(CLASS_NAMES), str(killed))
    assert list(shard_dir.iterdir()) == []


def test_actors_take_one_gpu_each_or_most_cpus():
    assert plan_actors({"CPU": 16, "GPU": 4}, None, None).size == 4
    assert plan_actors({"CPU": 16, "GPU": 4}, None, None).gpus_per_actor == 1
    on_cpus = plan_actors({"CPU": 16, "GPU": 4}, None, "cpu")
    assert (on_cpus.size, on_cpus.device, on_cpus.gpus_per_actor) == (14, "cpu", 0)
    assert plan_actors({"CPU": 2}, None, None).size == 1
    assert plan_actors({"CPU": 2}, 3, None).size == 3
    with pytest.raises(ValueError, match="no GPUs"):
        plan_actors({"CPU": 2}, None, "cuda")


def test_the_cli_does_not_import_ray_for_the_local_engine():
    code = "import sys; from core.cli import build_parser; build_parser(); print('ray' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert result.stdout.strip() == "False"


def test_shards_of_another_recipe_are_refused_before_any_work(videos, tmp_path):
    out = tmp_path / "features.h5"
    other = FeatureRecipe(num_frames=8, image_size=64)
    shard = default_shard_dir(out) / "000000000-left.h5"
    with FeatureWriter(shard, recipe=other, max_frames=other.sequence_length, feature_dim=1280) as writer:
        writer.append(GOOD[0], np.ones((other.sequence_length, 1280), np.float32), 0)
    with pytest.raises(FeatureFileError, match=r"another recipe \(num_frames: 6 vs 8\)"):
        extract_directory_ray(videos, out, ExtractionOptions(recipe=TINY, device="cpu"))
    assert not out.exists()
