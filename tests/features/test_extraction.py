"""Multi-scale features, folder extraction into the standard features file, resume, recipe resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.features.backbones import load_backbone
from core.features.extraction import (
    ExtractionOptions,
    RecipeError,
    check_recipe_fits_models,
    extract_directory,
    featurize_clip,
    featurize_frames,
    list_videos,
    multiscale_sequence,
    resolve_classification_recipe,
)
from core.features.recipe import FeatureRecipe, scale_indices
from core.features.store import open_features
from core.video.decode import DecodedClip
from tests.factories import write_noise_clip as write_clip

SMALL = FeatureRecipe(num_frames=8, image_size=32)


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet_lite0", device="cpu")


def three_pass_reference(lite0, frames: np.ndarray, recipe: FeatureRecipe) -> torch.Tensor:
    """The original's way: one backbone pass per scale, padded with zeros, averaged."""
    per_scale = [lite0.embed(frames[scale_indices(len(frames), s)], "half", 24) for s in recipe.scales]
    length = max(len(f) for f in per_scale)
    padded = [torch.cat([f, f.new_zeros((length - len(f), f.shape[1]))]) for f in per_scale]
    return torch.stack(padded).mean(dim=0)


def test_one_pass_multiscale_equals_three_passes_with_64_54_73_layout(lite0):
    recipe = FeatureRecipe(num_frames=64, image_size=32)
    assert recipe.scale_lengths() == [64, 54, 73]
    frames = np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    clip = DecodedClip(frames, np.arange(64), 64, "sequential")
    ours = featurize_frames(lite0, clip, recipe)
    reference = three_pass_reference(lite0, frames, recipe).numpy()
    assert ours.shape == (73, 1280) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() <= 1e-5


def test_multiscale_tail_averages_one_real_vector_with_two_zeros():
    features = torch.arange(64, dtype=torch.float32).repeat(2, 1).T
    sequence = multiscale_sequence(features, (1.0, 0.85, 1.15))
    long_scale = scale_indices(64, 1.15)
    assert sequence.shape == (73, 2)
    assert torch.allclose(sequence[64:, 0], torch.from_numpy(long_scale[64:]).float() / 3)


def build_videos(root: Path) -> Path:
    videos = root / "videos"
    write_clip(videos / "Animation" / "cartoon" / "a1.mp4", seed=1)
    write_clip(videos / "Animation" / "cartoon" / "a2.avi", seed=2)
    write_clip(videos / "Gaming" / "fps" / "g1.mp4", count=20, seed=3)
    (videos / "Gaming" / "fps" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    (videos / "Gaming" / "fps" / "readme.txt").write_text("notes")
    return videos


def test_extracted_file_round_trips_through_the_reader(tmp_path, lite0):
    videos = build_videos(tmp_path)
    out = tmp_path / "features.h5"
    progress = []
    report = extract_directory(videos, out, ExtractionOptions(recipe=SMALL, device="cpu"), progress.append)
    assert report.written == 3
    assert dict(report.skipped).keys() == {"Gaming/fps/broken.mp4", "Gaming/fps/readme.txt"}
    assert "not a video file" in dict(report.skipped)["Gaming/fps/readme.txt"]
    assert [p.done for p in progress] == [1, 2, 3, 4] and progress[-1].eta_s == 0
    with open_features(out) as handle:
        assert handle.video_names == [
            "Animation/cartoon/a1.mp4",
            "Animation/cartoon/a2.avi",
            "Gaming/fps/g1.mp4",
        ]
        assert handle.labels.tolist() == [0, 0, 2]
        assert handle.num_frames.tolist() == [9, 9, 9]
        assert handle.max_frames == SMALL.sequence_length == 9
        assert handle.recipe == SMALL
        assert handle.class_names == ["Animation", "Flat_Content", "Gaming", "Natural_Content"]
        expected = featurize_clip(videos / "Gaming" / "fps" / "g1.mp4", SMALL, device="cpu")
        np.testing.assert_allclose(handle.read_video(2), expected, atol=1e-6)


def test_interrupted_extraction_resumes_without_redoing_videos(tmp_path):
    videos = build_videos(tmp_path)
    out = tmp_path / "features.h5"

    def stop_after_first(progress):
        if progress.done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_directory(videos, out, ExtractionOptions(recipe=SMALL, device="cpu"), stop_after_first)
    with open_features(out) as handle:
        assert handle.video_names == ["Animation/cartoon/a1.mp4"]
    report = extract_directory(videos, out, ExtractionOptions(recipe=SMALL, device="cpu"))
    assert report.already_present == 1 and report.written == 2
    with open_features(out) as handle:
        assert handle.num_videos == 3
        assert sorted(handle.video_names) == handle.video_names


def test_resuming_with_another_recipe_is_refused(tmp_path):
    videos = build_videos(tmp_path)
    out = tmp_path / "features.h5"
    extract_directory(videos, out, ExtractionOptions(recipe=SMALL, device="cpu"))
    with pytest.raises(ValueError, match="cannot resume"):
        extract_directory(
            videos, out, ExtractionOptions(recipe=FeatureRecipe(num_frames=8, image_size=48), device="cpu")
        )


def test_unknown_category_folder_is_refused_before_work(tmp_path):
    write_clip(tmp_path / "Sports" / "soccer" / "s.mp4")
    with pytest.raises(ValueError, match=r"Sports are not classes.*--classes"):
        list_videos(tmp_path)
    listing = list_videos(tmp_path, class_names=["Sports"])
    assert [v.name for v in listing.videos] == ["Sports/soccer/s.mp4"]


def test_checkpoint_recipe_wins_and_features_recipe_is_the_fallback():
    from_training = FeatureRecipe(num_frames=16, image_size=128)
    assert resolve_classification_recipe([from_training, from_training], SMALL) == from_training
    assert resolve_classification_recipe([None, None], SMALL) == SMALL


def test_recipe_mismatch_is_refused():
    with pytest.raises(RecipeError, match="num_frames: 16 vs 64"):
        resolve_classification_recipe([FeatureRecipe(num_frames=16), FeatureRecipe()], None)
    with pytest.raises(RecipeError, match="neither the checkpoints nor the features file"):
        resolve_classification_recipe([None], None)
    with pytest.raises(RecipeError, match=r"gives 1280-d features.*expect 2048-d"):
        check_recipe_fits_models(FeatureRecipe(), [2048, 2048])
    check_recipe_fits_models(FeatureRecipe(), [1280])


def test_featurize_refuses_a_recipe_its_backbone_contradicts(tmp_path):
    clip = write_clip(tmp_path / "c.mp4")
    with pytest.raises(RecipeError, match="2048-d features but efficientnet_lite0 gives 1280-d"):
        featurize_clip(clip, FeatureRecipe(num_frames=8, image_size=32, feature_dim=2048), device="cpu")
