"""Classifying a clip a user uploads: accepted types, a safely named temporary copy, and
featurisation with the checkpoints' recipe that also keeps the sampled frames for display."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
import torch

from core.backbones import load_backbone
from core.extraction import check_recipe_backbone, featurize_frames
from core.recipe import FeatureRecipe
from core.video import VIDEO_EXTENSIONS, DecodedClip, decode_uniform_frames

UPLOAD_TYPES: tuple[str, ...] = tuple(ext.lstrip(".") for ext in VIDEO_EXTENSIONS)


class UnsupportedUpload(ValueError):
    """A file whose name does not end in a video extension the classifier accepts."""


@dataclass(frozen=True)
class FeaturizedClip:
    clip: DecodedClip
    features: np.ndarray
    """float32 [T, D] multi-scale sequence, T = recipe.sequence_length."""


def upload_suffix(filename: str) -> str:
    """The lower-cased extension of an accepted video name, e.g. `.mp4`."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise UnsupportedUpload(
            f"{filename}: not a video file the classifier accepts; upload one of {', '.join(UPLOAD_TYPES)}"
        )
    return suffix


@contextmanager
def upload_as_temp_file(data: bytes, filename: str) -> Iterator[Path]:
    """The upload's bytes in a temporary file with a generated name (only the extension is
    kept, because decoders look at it); deleted on exit."""
    suffix = upload_suffix(filename)
    with tempfile.NamedTemporaryFile(prefix="upload-", suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        yield Path(handle.name)


def featurize_with_frames(
    path: str | Path,
    recipe: FeatureRecipe,
    *,
    device: torch.device | str | None = None,
    progress: Callable[[float], None] | None = None,
) -> FeaturizedClip:
    """Decode once, featurise exactly like `core.extraction.featurize_clip`, keep the frames.

    Raises VideoDecodeError (not a video, corrupt, too short), BackboneError, RecipeError.
    """
    backbone = load_backbone(recipe.backbone, None, device)
    check_recipe_backbone(recipe, backbone)
    clip = decode_uniform_frames(path, recipe.num_frames, recipe.image_size)
    if progress is not None:
        progress(0.25)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(0.25 + 0.75 * done / total)

    features = featurize_frames(backbone, clip, recipe, progress=report)
    return FeaturizedClip(clip=clip, features=features)
