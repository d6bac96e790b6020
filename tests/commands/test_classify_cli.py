"""The extract and classify commands end to end, on generated clips and real checkpoint files."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.commands import classify, extract
from core.features.extraction import RecipeError, featurize_clip
from core.features.recipe import FeatureRecipe
from core.features.store import open_features
from core.features.writer import FeatureWriter
from core.model.checkpoints import load_checkpoint, save_checkpoint
from core.model.inference import predict_sequence
from core.model.network import TemporalClassifier, TemporalModelConfig
from tests.factories import write_noise_clip as write_clip

SMALL = FeatureRecipe(num_frames=8, image_size=32)
CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


def run_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command", required=True)
    extract.register(subparsers)
    classify.register(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


def write_members(folder: Path, recipes: list[FeatureRecipe | None]) -> list[Path]:
    paths = []
    for number, recipe in enumerate(recipes, start=1):
        torch.manual_seed(number)
        config = TemporalModelConfig(hidden_dim=16, num_lstm_layers=1, num_attention_heads=2)
        path = folder / f"best_ensemble_model_{number}.pt"
        save_checkpoint(path, TemporalClassifier(config), epoch=1, recipe=recipe, seed=41 + number)
        paths.append(path)
    return paths


def test_classify_json_matches_the_library_and_averages_modes(tmp_path, capsys):
    members = write_members(tmp_path / "models", [SMALL, SMALL])
    clip = write_clip(tmp_path / "upload.mp4")
    code = run_command(
        ["classify", str(clip), "--models", str(tmp_path / "models"), "--tta", "--json", "--device", "cpu"]
    )
    assert code == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["path"] == str(clip)
    assert set(result["models"]) == {"best_ensemble_model_1", "best_ensemble_model_2"}
    assert set(result["tta_modes"]) == {"original", "reverse", "speed_up", "speed_down"}

    features = featurize_clip(clip, SMALL, device="cpu")
    models = [load_checkpoint(p, "cpu").model for p in members]
    expected = predict_sequence(models, features).probabilities
    ensemble_tta = expected.mean(axis=(0, 1))
    assert [result["ensemble_tta"][c] for c in CLASSES] == pytest.approx(ensemble_tta.tolist(), abs=1e-5)
    assert [result["ensemble"][c] for c in CLASSES] == pytest.approx(
        expected[:, 0].mean(0).tolist(), abs=1e-5
    )
    assert result["predicted_class"] == CLASSES[int(ensemble_tta.argmax())]
    assert result["confidence"] == pytest.approx(float(ensemble_tta.max()), abs=1e-5)


def test_classify_a_non_video_fails_with_a_clear_message(tmp_path, capsys):
    write_members(tmp_path / "models", [SMALL])
    bogus = tmp_path / "report.pdf"
    bogus.write_text("%PDF-1.4 not a video")
    code = run_command(["classify", str(bogus), "--models", str(tmp_path / "models"), "--device", "cpu"])
    captured = capsys.readouterr()
    assert code == 1
    assert "report.pdf: not a video OpenCV can open" in captured.err


def test_original_checkpoints_use_the_features_file_recipe(tmp_path, capsys):
    write_members(tmp_path / "models", [None])
    features = tmp_path / "test_features_multiscale.h5"
    with FeatureWriter(features, recipe=SMALL, max_frames=SMALL.sequence_length, feature_dim=1280):
        pass
    clip = write_clip(tmp_path / "clip.mp4")
    argv = ["classify", str(clip), "--models", str(tmp_path / "models"), "--json", "--device", "cpu"]
    assert run_command([*argv, "--features", str(features)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["predicted_class"] in CLASSES
    with pytest.raises(RecipeError, match="neither the checkpoints nor the features file"):
        run_command([*argv, "--features", str(tmp_path / "absent.h5")])


def test_members_trained_on_different_recipes_are_refused(tmp_path):
    write_members(tmp_path / "models", [SMALL, FeatureRecipe(num_frames=16, image_size=32)])
    clip = write_clip(tmp_path / "clip.mp4")
    with pytest.raises(RecipeError, match="num_frames: 8 vs 16"):
        run_command(["classify", str(clip), "--models", str(tmp_path / "models"), "--device", "cpu"])


def test_extract_command_writes_the_file_and_reports_skips_in_its_exit_code(tmp_path, capsys):
    videos = tmp_path / "videos"
    write_clip(videos / "Natural_Content" / "street" / "n1.mp4")
    (videos / "Natural_Content" / "street" / "bad.mkv").write_bytes(bytes(100))
    out = tmp_path / "out.h5"
    argv = [
        "extract",
        "--videos",
        str(videos),
        "--out",
        str(out),
        "--frames",
        "8",
        "--image-size",
        "32",
        "--device",
        "cpu",
    ]
    assert run_command(argv) == 1
    captured = capsys.readouterr()
    assert "wrote 1 video(s)" in captured.out
    assert "Natural_Content/street/bad.mkv: not a video OpenCV can open" in captured.err
    with open_features(out) as handle:
        assert handle.video_names == ["Natural_Content/street/n1.mp4"]
        assert handle.labels.tolist() == [3]
        assert handle.recipe == SMALL
    (videos / "Natural_Content" / "street" / "bad.mkv").unlink()
    assert run_command(argv) == 0
    assert "1 video(s) were already in" in capsys.readouterr().out


def test_a_text_file_named_mp4_gives_one_clean_line_and_no_decoder_noise(tmp_path):
    """A fresh process, so OpenCV and FFmpeg start with their own log settings as a user's would."""
    (member,) = write_members(tmp_path, [SMALL])
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("just text, not a video")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    command = ["classify", str(bogus), "--checkpoints", str(member), "--device", "cpu"]
    done = subprocess.run(
        [sys.executable, "-m", "core", *command],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {bogus}: not a video OpenCV can open (unknown format or corrupt file)"
    ]
    assert done.stdout == ""
