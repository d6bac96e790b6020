"""Videos -> multi-scale feature sequences (docs/formats.md), for a folder of labelled videos or one clip.

Each decoded frame goes through the backbone once; the three scales only gather rows of those
frame features. Decoding of the next video runs in a background thread while the backbone
works on the current one (OpenCV releases the GIL), so decoding rarely limits throughput.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.classes import CLASS_NAMES, class_index
from core.features.backbones import Backbone, BackboneSpec, load_backbone
from core.features.choices import DEFAULT_BATCH_SIZE, NORMALIZATIONS
from core.features.recipe import FeatureRecipe, scale_indices
from core.features.writer import FeatureWriter
from core.video.decode import VIDEO_EXTENSIONS, DecodedClip, VideoDecodeError, decode_uniform_frames

_PREFETCH_VIDEOS = 2


class RecipeError(ValueError):
    """No trustworthy feature recipe for classifying new clips, with the reason."""


@dataclass(frozen=True)
class ExtractionProgress:
    done: int
    total: int
    current: str
    videos_per_s: float
    eta_s: float


@dataclass
class ExtractionReport:
    written: int
    skipped: list[tuple[str, str]]
    out_path: Path
    already_present: int = 0


@dataclass(frozen=True)
class VideoEntry:
    path: Path
    name: str
    """Path relative to the videos folder, e.g. `Gaming/fps/clip.mp4`: unique and stable."""
    label: int


@dataclass
class _Listing:
    videos: list[VideoEntry] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def multiscale_sequence(frame_features: torch.Tensor, scales: Sequence[float]) -> torch.Tensor:
    """Average of the per-scale frame sequences, each zero-padded at the end (docs/formats.md)."""
    n = frame_features.shape[0]
    picks = [torch.from_numpy(scale_indices(n, s)).to(frame_features.device) for s in scales]
    length = max(len(p) for p in picks)
    total = frame_features.new_zeros((length, frame_features.shape[1]))
    for p in picks:
        total[: len(p)] += frame_features[p]
    return total / len(scales)


def check_recipe_backbone(recipe: FeatureRecipe, backbone: Backbone | BackboneSpec) -> None:
    if recipe.backbone != backbone.name:
        raise RecipeError(f"recipe asks for backbone {recipe.backbone} but {backbone.name} is loaded")
    if recipe.feature_dim != backbone.feature_dim:
        raise RecipeError(
            f"recipe says {recipe.feature_dim}-d features but {backbone.name} gives {backbone.feature_dim}-d"
        )
    if recipe.normalization not in NORMALIZATIONS:
        raise RecipeError(
            f"unknown normalization {recipe.normalization!r}; known: {', '.join(NORMALIZATIONS)}"
        )


def featurize_frames(
    backbone: Backbone,
    clip: DecodedClip,
    recipe: FeatureRecipe,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """float32 [T, D] multi-scale sequence of decoded frames; progress(batches done, batches)."""
    frames = clip.frames
    starts = range(0, len(frames), batch_size)
    outputs = []
    for done, start in enumerate(starts, start=1):
        outputs.append(backbone.embed(frames[start : start + batch_size], recipe.normalization, batch_size))
        if progress is not None:
            progress(done, len(starts))
    sequence = multiscale_sequence(torch.cat(outputs), recipe.scales)
    return sequence.cpu().numpy().astype(np.float32, copy=False)


@dataclass(frozen=True)
class FeaturizedClip:
    clip: DecodedClip
    features: np.ndarray
    """float32 [T, D] multi-scale sequence, T = recipe.sequence_length."""


def featurize_clip_with_frames(
    path: str | Path,
    recipe: FeatureRecipe,
    *,
    weights: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[float], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> FeaturizedClip:
    """One clip made exactly as `recipe` says, with the decoded frames it was made from.

    Raises VideoDecodeError for files that are not decodable videos or are too short,
    BackboneError when the recipe's backbone weights are missing, RecipeError when the recipe
    contradicts its backbone. `progress` receives the fraction done, 0..1.
    """
    backbone = load_backbone(recipe.backbone, weights, device)
    check_recipe_backbone(recipe, backbone)
    clip = decode_uniform_frames(path, recipe.num_frames, recipe.image_size)
    if progress is not None:
        progress(0.25)

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(0.25 + 0.75 * done / total)

    features = featurize_frames(backbone, clip, recipe, batch_size=batch_size, progress=report)
    return FeaturizedClip(clip=clip, features=features)


def featurize_clip(
    path: str | Path,
    recipe: FeatureRecipe,
    *,
    weights: str | Path | None = None,
    device: torch.device | str | None = None,
    progress: Callable[[float], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """The [T, D] sequence of one clip made exactly as `recipe` says (T = recipe.sequence_length);
    raises as `featurize_clip_with_frames`."""
    return featurize_clip_with_frames(
        path, recipe, weights=weights, device=device, progress=progress, batch_size=batch_size
    ).features


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def list_videos(videos_dir: Path, class_names: Sequence[str] = CLASS_NAMES) -> _Listing:
    """Videos under `videos_dir/{category}/{subcategory}/`, labelled by their category folder.

    Category folders must be class names; files without a video extension are listed as
    rejected so the report shows them.
    """
    if not videos_dir.is_dir():
        raise FileNotFoundError(f"{videos_dir}: videos folder not found")
    categories = sorted(p for p in videos_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    unknown = [p.name for p in categories if p.name not in class_names]
    if unknown:
        raise ValueError(
            f"{videos_dir}: folder(s) {', '.join(unknown)} are not classes ({', '.join(class_names)}); "
            "rename them or pass the class list with --classes"
        )
    listing = _Listing()
    for category in categories:
        label = class_index(category.name, list(class_names))
        for path in sorted(p for p in category.rglob("*") if p.is_file() and not _is_hidden(p, videos_dir)):
            name = path.relative_to(videos_dir).as_posix()
            if path.suffix.lower() in VIDEO_EXTENSIONS:
                listing.videos.append(VideoEntry(path, name, label))
            else:
                listing.rejected.append((name, f"not a video file (extension {path.suffix or 'none'})"))
    return listing


def _decode_or_error(entry: VideoEntry, recipe: FeatureRecipe) -> DecodedClip | VideoDecodeError:
    try:
        return decode_uniform_frames(entry.path, recipe.num_frames, recipe.image_size)
    except VideoDecodeError as exc:
        return exc


def _decoded_in_background(
    entries: Sequence[VideoEntry], recipe: FeatureRecipe
) -> Iterator[tuple[VideoEntry, DecodedClip | VideoDecodeError]]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="decode") as pool:
        pending: deque[tuple[VideoEntry, Future[DecodedClip | VideoDecodeError]]] = deque()
        upcoming = iter(entries)
        for entry in upcoming:
            pending.append((entry, pool.submit(_decode_or_error, entry, recipe)))
            if len(pending) > _PREFETCH_VIDEOS:
                break
        while pending:
            entry, future = pending.popleft()
            following = next(upcoming, None)
            if following is not None:
                pending.append((following, pool.submit(_decode_or_error, following, recipe)))
            yield entry, future.result()


@dataclass(frozen=True)
class ExtractionOptions:
    """What a folder extraction makes and with what, whichever engine runs it."""

    recipe: FeatureRecipe
    class_names: Sequence[str] = CLASS_NAMES
    weights: Path | None = None
    """Backbone weights; None: the recipe's backbone's default file."""
    batch_size: int = DEFAULT_BATCH_SIZE
    device: torch.device | str | None = None
    resume: bool = True
    """Keep the videos already in the output file (and, on Ray, in leftover shards)."""


def extract_directory(
    videos_dir: Path,
    out_path: Path,
    options: ExtractionOptions,
    progress: Callable[[ExtractionProgress], None] | None = None,
) -> ExtractionReport:
    """Featurise every video of a labelled folder into a feature file (docs/formats.md).

    Each finished video is flushed to disk, so an interrupted run resumed later (resume=True)
    skips the videos already in the file. Undecodable files are skipped and reported.
    """
    recipe = options.recipe
    listing = list_videos(Path(videos_dir), options.class_names)
    backbone = load_backbone(recipe.backbone, options.weights, options.device)
    check_recipe_backbone(recipe, backbone)
    report = ExtractionReport(written=0, skipped=list(listing.rejected), out_path=Path(out_path))
    with FeatureWriter.for_recipe(
        out_path, recipe, class_names=options.class_names, resume=options.resume
    ) as writer:
        todo = [entry for entry in listing.videos if entry.name not in writer.done_names]
        report.already_present = len(listing.videos) - len(todo)
        started = time.perf_counter()
        for done, (entry, decoded) in enumerate(_decoded_in_background(todo, recipe), start=1):
            if isinstance(decoded, VideoDecodeError):
                report.skipped.append((entry.name, decoded.problem))
            else:
                features = featurize_frames(backbone, decoded, recipe, batch_size=options.batch_size)
                writer.append(entry.name, features, entry.label)
                report.written += 1
            if progress is not None:
                rate = done / max(time.perf_counter() - started, 1e-9)
                progress(ExtractionProgress(done, len(todo), entry.name, rate, (len(todo) - done) / rate))
    return report


def resolve_classification_recipe(
    checkpoint_recipes: Sequence[FeatureRecipe | None], features_recipe: FeatureRecipe | None
) -> FeatureRecipe:
    """The recipe new clips must be featurised with to be classified by these checkpoints.

    The checkpoints' own recipe wins; original checkpoints carry none, and then the recipe of
    the feature file they are evaluated on stands in. Never a guess.
    """
    known = [recipe for recipe in checkpoint_recipes if recipe is not None]
    if known:
        for other in known[1:]:
            differences = known[0].differences(other)
            if differences:
                raise RecipeError(
                    "the ensemble members were trained on features made differently "
                    f"({'; '.join(differences)}); classify with members of one training run"
                )
        return known[0]
    if features_recipe is not None:
        return features_recipe
    raise RecipeError(
        "neither the checkpoints nor the features file record how their training features were made "
        "(backbone, frames, image size, scales); pass --features with a file written by "
        "`python -m core extract`, or use checkpoints trained by `python -m core train`"
    )


def check_recipe_fits_models(recipe: FeatureRecipe, model_feature_dims: Sequence[int]) -> None:
    mismatched = sorted({dim for dim in model_feature_dims if dim != recipe.feature_dim})
    if mismatched:
        raise RecipeError(
            f"the feature recipe gives {recipe.feature_dim}-d features ({recipe.backbone}) but the models "
            f"expect {', '.join(map(str, mismatched))}-d; their features came from another backbone"
        )
