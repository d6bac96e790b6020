"""`python -m core explain` end to end on a small real project: its JSON, its saliency PNGs, the
output rule, and one message per bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.cli import main
from core.explain.deletion import curve_area
from core.explain.explanation import explain
from core.explain.predictor import explained_predictor
from core.explain.temporal import METHODS
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.ensemble import load_ensemble
from tests.factories import write_noise_clip, write_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("explain"), num_videos=8)
    split = load_feature_set(root / "features_enhanced" / "test_features_multiscale.h5")
    write_noise_clip(root / "data" / "videos" / "test" / split.video_names[0])
    return root


def explain_args(root: Path, video: str, out: Path, *extra: str) -> list[str]:
    return ["explain", "--features", str(root / "features_enhanced" / "test_features_multiscale.h5"),
            "--video", video, "--models", str(root / "models_enhanced"), "--device", "cpu",
            "--out", str(out), *extra]  # fmt: skip


def test_the_json_holds_the_library_explanation(project, tmp_path) -> None:
    split = load_feature_set(project / "features_enhanced" / "test_features_multiscale.h5")
    out = tmp_path / "explained.json"
    args = explain_args(project, split.video_names[2], out, "--member", "2", "--target", "Gaming")
    assert main([*args, "--method", "integrated_gradients"]) == 0
    written = json.loads(out.read_text())
    assert list(written)[:7] == [
        "video", "member", "target", "method", "steps", "deletion_curve", "random_deletion_curve"
    ]  # fmt: skip
    assert (written["video"], written["member"], written["target"], written["method"]) == (
        split.video_names[2], "best_ensemble_model_2", "Gaming", "integrated_gradients")  # fmt: skip
    steps = int(split.num_frames[2])
    assert (
        len(written["steps"])
        == len(written["deletion_curve"])
        == len(written["random_deletion_curve"])
        == steps
    )
    members = load_ensemble(find_ensemble_checkpoints(project / "models_enhanced"), "cpu").members
    expected = explain(explained_predictor(members, "2", 2), split.video(2), "integrated_gradients",
                       video=split.video_names[2], class_names=split.class_names)  # fmt: skip
    np.testing.assert_allclose(written["steps"], expected.steps, atol=1e-5)
    np.testing.assert_allclose(written["deletion_curve"], expected.deletion_curve, atol=1e-5)


def test_the_ensemble_by_default_towards_its_predicted_class_and_rerun_replaces_its_own(
    project, tmp_path
) -> None:
    split = load_feature_set(project / "features_enhanced" / "test_features_multiscale.h5")
    out = tmp_path / "e.json"
    assert main(explain_args(project, split.video_names[1], out)) == 0
    first = json.loads(out.read_text())
    assert first["member"] == "ensemble" and first["method"] == "occlusion"
    assert first["target"] in split.class_names
    assert main(explain_args(project, split.video_names[1], out, "--method", "attention")) == 0
    assert json.loads(out.read_text())["method"] == "attention"


def test_saliency_writes_one_overlay_per_shown_frame(project, tmp_path) -> None:
    split = load_feature_set(project / "features_enhanced" / "test_features_multiscale.h5")
    folder = tmp_path / "saliency"
    assert (
        main([*explain_args(project, split.video_names[0], tmp_path / "s.json"), "--saliency", str(folder)])
        == 0
    )
    pngs = sorted(p.name for p in folder.iterdir())
    assert pngs == [f"frame_{i:03d}.png" for i in range(8)]
    image = cv2.imread(str(folder / pngs[0]))
    assert image.shape == (64, 64, 3)


def test_a_clip_file_is_featurised_and_explained(project, tmp_path) -> None:
    clip = write_noise_clip(tmp_path / "upload.mp4", seed=3)
    out = tmp_path / "clip.json"
    args = ["explain", "--clip", str(clip), "--models", str(project / "models_enhanced"), "--device", "cpu",
            "--member", "1", "--out", str(out), "--saliency", str(tmp_path / "clip_saliency")]  # fmt: skip
    assert main(args) == 0
    written = json.loads(out.read_text())
    assert written["video"] == "upload.mp4" and len(written["steps"]) == 9
    assert len(list((tmp_path / "clip_saliency").iterdir())) == 8


@pytest.mark.parametrize(
    ("extra", "video", "message"),
    [
        (
            ["--member", "7"],
            None,
            "member 7 does not exist; the loaded members are 1 (best_ensemble_model_1)",
        ),
        (["--target", "Cartoon"], None, "class 'Cartoon' does not exist; the classes are Animation"),
        ([], "missing.mp4", "no video named 'missing.mp4'"),
        (["--saliency", "DIR"], 3, "is not on disk (looked for"),
    ],
    ids=["member", "class", "video", "no-video-file"],
)
def test_bad_input_gets_one_message_and_writes_nothing(
    project, tmp_path, capsys, extra, video, message
) -> None:
    split = load_feature_set(project / "features_enhanced" / "test_features_multiscale.h5")
    name = split.video_names[video if isinstance(video, int) else 1] if not isinstance(video, str) else video
    extra = [str(tmp_path / "png") if e == "DIR" else e for e in extra]
    assert main([*explain_args(project, name, tmp_path / "x.json"), *extra]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and message in error and "\n" not in error
    assert list(tmp_path.iterdir()) == []


def test_an_undecodable_clip_and_a_foreign_output_are_refused(project, tmp_path, capsys) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    out = tmp_path / "x.json"
    models = ["--models", str(project / "models_enhanced"), "--device", "cpu"]
    assert main(["explain", "--clip", str(broken), *models, "--out", str(out)]) == 1
    assert "broken.mp4: not a video OpenCV can open" in capsys.readouterr().err
    assert not out.exists()
    out.write_text("my notes")
    clip = write_noise_clip(tmp_path / "fine.mp4")
    assert main(["explain", "--clip", str(clip), *models, "--out", str(out)]) == 1
    assert "already exists and is not an explanation this command wrote" in capsys.readouterr().err
    assert out.read_text() == "my notes"


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny models on a CI machine busy with other jobs: with two OpenMP threads waiting for each
    other at every LSTM step, one explanation took seconds instead of a fraction of one."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_twelve_test_videos_each_method_carries_its_random_spread_and_the_rule(
    tmp_path, capsys, one_thread
) -> None:
    root = write_project(tmp_path / "demo_like", num_videos=12)
    split = load_feature_set(root / "features_enhanced" / "test_features_multiscale.h5")
    flags = []
    for name in split.video_names:
        for method in METHODS:
            out = tmp_path / "out.json"
            assert main([*explain_args(root, name, out, "--method", method), "--overwrite"]) == 0
            written = json.loads(out.read_text())
            areas = written["random_deletion_areas"]
            assert written["method"] == method and len(areas) >= 8
            assert written["faithful"] == (written["deletion_area"] < min(areas))
            assert written["deletion_area"] == pytest.approx(
                curve_area(np.array(written["deletion_curve"])), abs=1e-5
            )
            flags.append(written["faithful"])
            line = capsys.readouterr().out
            assert ("not faithful" in line) == (not written["faithful"])
    assert len(flags) == 36
