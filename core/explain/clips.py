"""The clip an explanation is about: a stored video of a features file (by name), or a video file
featurised with the ensemble's recipe; with the decoded frames when the file is on disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features.extraction import featurize_clip_with_frames
from core.features.recipe import FeatureRecipe
from core.features.store import open_features
from core.paths import ProjectPaths, split_of
from core.video.decode import decode_uniform_frames
from core.video.lookup import find_video_file, video_file_candidates


@dataclass(frozen=True)
class ClipToExplain:
    name: str
    sequence: np.ndarray
    """The real (unpadded) [T, D] sequence."""
    class_names: list[str]
    recipe: FeatureRecipe | None
    video_path: Path | None
    """The video file, when it is on disk (spatial saliency needs it)."""
    frames: np.ndarray | None = None
    """Decoded frames [N, H, W, 3], when already decoded."""


def stored_clip(features_path: Path, video_name: str) -> ClipToExplain:
    """A video of a features file by name; its file is looked for in the project the features
    file belongs to (`<root>/features_enhanced/<split>_features_multiscale.h5`)."""
    with open_features(features_path) as handle:
        if video_name not in handle.video_names:
            raise ValueError(
                f"{features_path}: no video named {video_name!r} "
                f"(it holds {handle.num_videos}; names look like {handle.video_names[0]!r})"
            )
        sequence = handle.read_video(handle.video_names.index(video_name))
        class_names, recipe = list(handle.class_names), handle.recipe
    data_dir = ProjectPaths.at(Path(features_path).resolve().parent.parent).data_dir
    video = find_video_file(data_dir, split_of(Path(features_path)), video_name)
    return ClipToExplain(video_name, sequence, class_names, recipe, video)


def video_file_places(features_path: Path, video_name: str) -> list[Path]:
    """Where `stored_clip` looked for the video file."""
    data_dir = ProjectPaths.at(Path(features_path).resolve().parent.parent).data_dir
    return video_file_candidates(data_dir, split_of(Path(features_path)), video_name)


def featurized_clip(
    path: Path,
    recipe: FeatureRecipe,
    class_names: list[str],
    *,
    weights: Path | None = None,
    device: str | None = None,
) -> ClipToExplain:
    """A video file featurised as `recipe` says (VideoDecodeError when it cannot be decoded)."""
    result = featurize_clip_with_frames(path, recipe, weights=weights, device=device)
    return ClipToExplain(path.name, result.features, class_names, recipe, path, result.clip.frames)


def decoded_frames(clip: ClipToExplain) -> np.ndarray:
    """The clip's decoded frames, decoding its file when not done yet."""
    if clip.frames is not None:
        return clip.frames
    if clip.video_path is None or clip.recipe is None:
        raise ValueError(f"{clip.name}: the video file is not on disk, so its frames cannot be shown")
    return decode_uniform_frames(clip.video_path, clip.recipe.num_frames, clip.recipe.image_size).frames
