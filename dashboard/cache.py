"""Every `st.cache_*` wrapper of the app, and nothing else.

Models, split indexes and background TTA passes live in `st.cache_resource` (shared across
sessions, inference only); fingerprints, split probabilities read back from disk, clip
predictions and decoded frames in `st.cache_data`. Each wrapper is keyed by content (a hash)
or by a file's mtime and size, so an edited file is never served stale; the public functions
compute those keys.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from core.audit.duplicates import unit_vectors
from core.audit.embedding_map import EmbeddingMap, embedding_map
from core.audit.map_cache import load_cached_map, store_map
from core.audit.representations import member_embeddings
from core.audit.splits import SplitReading, read_splits
from core.evaluation.clip_frames import FrameStrip, frame_strip_of
from core.evaluation.jobs import JobRegistry
from core.explain.explanation import Explanation, explanations_of_scores
from core.explain.predictor import ExplainedPredictor
from core.explain.saliency import SaliencyMaps, grad_cam
from core.explain.temporal import METHODS, step_scores
from core.features.backbones import load_backbone
from core.features.inventory import FeatureFileInfo, inspect_feature_file
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureIndex, load_feature_index, open_features
from core.model.background import BackgroundPredictions
from core.model.checkpoints import LoadedCheckpoint, find_ensemble_checkpoints, load_checkpoint
from core.model.ensemble import Ensemble, load_ensemble
from core.model.inference import SequencePrediction, predict_sequence, predict_split
from core.model.prediction_cache import file_fingerprint, load_cached_probabilities
from core.model.tta import TTA_MODES
from core.paths import checkpoint_file_name, features_file_name
from core.training.estimate import EpochEstimate
from core.training.estimate_process import estimate_in_own_process
from core.training.jobs import RetrainRegistry
from core.training.retrain import MemberRecipe, member_recipe
from core.video.decode import VideoDecodeError, decode_uniform_frames
from core.video.player import native_mime_type, webm_for_browser
from core.video.thumbnails import thumbnail_png
from core.video.uploads import UnsupportedUpload, upload_as_temp_file


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@st.cache_resource
def job_registry() -> JobRegistry:
    """One registry of background evaluation runs per server process, so a run survives page
    switches and reruns."""
    return JobRegistry()


@st.cache_resource
def demo_build_lock() -> threading.Lock:
    """One demo-bundle build per server process, however many sessions ask for it."""
    return threading.Lock()


@st.cache_data(show_spinner=False, max_entries=256)
def _fingerprint_of(path: str, stamp: tuple[int, int]) -> str:
    return file_fingerprint(path)


def fingerprint(path: Path) -> str:
    """Content hash, recomputed only when the file's mtime or size changes."""
    return _fingerprint_of(str(path), _stamp(path))


@st.cache_resource(show_spinner="Loading checkpoints…", max_entries=4)
def _load_members(paths: tuple[str, ...], fingerprints: tuple[str, ...], device: str) -> Ensemble:
    return load_ensemble([Path(p) for p in paths], device)


def load_members(paths: list[Path], device: str) -> Ensemble:
    return _load_members(tuple(map(str, paths)), tuple(fingerprint(p) for p in paths), device)


@st.cache_resource(show_spinner="Reading the split's labels…", max_entries=8)
def _feature_index(path: str, fingerprint_: str) -> FeatureIndex:
    return load_feature_index(path)


def feature_index(path: Path) -> FeatureIndex:
    """A split's labels, lengths and names (not its features), shared read-only across sessions."""
    return _feature_index(str(path), fingerprint(path))


@st.cache_resource
def background_predictions() -> BackgroundPredictions:
    """One registry of background TTA passes per server process, so a pass survives page
    switches and reruns and is shared by sessions looking at the same split."""
    return BackgroundPredictions()


@st.cache_data(show_spinner=False, max_entries=16)
def _inspect(path: str, stamp: tuple[int, int]) -> FeatureFileInfo:
    return inspect_feature_file(Path(path))


def feature_info(path: Path) -> FeatureFileInfo:
    return _inspect(str(path), _stamp(path))


@st.cache_data(show_spinner=False, max_entries=16)
def _probabilities_from_disk(cache_dir: str, key: str, shape: tuple[int, ...]) -> np.ndarray:
    probabilities = load_cached_probabilities(Path(cache_dir), key, shape)
    if probabilities is None:
        raise FileNotFoundError(f"{cache_dir}: no cached predictions {key}")
    return probabilities


def stored_probabilities(cache_dir: Path, key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Probabilities of `shape` stored under `key`, held in memory after the first read; None when
    absent or when the file holds anything else (computed again and replaced)."""
    try:
        return _probabilities_from_disk(str(cache_dir), key, shape)
    except FileNotFoundError:
        # Raised rather than returned so a miss is not cached: the file appears once computed.
        return None


def _member_fingerprints(members: list[LoadedCheckpoint]) -> tuple[str, ...]:
    return tuple(fingerprint(m.path) for m in members)


@st.cache_data(show_spinner="Running the ensemble on this video…", max_entries=128)
def _stored_clip_prediction(
    features_path: str, features_fingerprint: str, index: int, members: tuple[str, ...], _models: list
) -> SequencePrediction:
    with open_features(features_path) as handle:
        sequence = handle.read_video(index)
    return predict_sequence(_models, sequence, TTA_MODES)


def stored_clip_prediction(
    features_path: Path, index: int, members: list[LoadedCheckpoint]
) -> SequencePrediction:
    """Probabilities [members, TTA modes, K] and attention [members, T] of one stored video."""
    return _stored_clip_prediction(
        str(features_path),
        fingerprint(features_path),
        index,
        _member_fingerprints(members),
        [m.model for m in members],
    )


@st.cache_data(show_spinner="Running the ensemble on the upload…", max_entries=16)
def _upload_prediction(
    digest: str, members: tuple[str, ...], _models: list, _features: np.ndarray
) -> SequencePrediction:
    return predict_sequence(_models, _features, TTA_MODES)


def upload_prediction(
    digest: str, features: np.ndarray, members: list[LoadedCheckpoint]
) -> SequencePrediction:
    """Keyed by the upload's content hash and the checkpoints' content."""
    return _upload_prediction(digest, _member_fingerprints(members), [m.model for m in members], features)


@st.cache_data(show_spinner="Decoding the video's frames…", max_entries=32)
def _frame_strip(path: str, stamp: tuple[int, int], num_frames: int, image_size: int) -> FrameStrip | str:
    try:
        clip = decode_uniform_frames(path, num_frames, image_size)
    except VideoDecodeError as exc:
        return str(exc)
    return frame_strip_of(clip.frames)


def frame_strip(path: Path, num_frames: int, image_size: int) -> FrameStrip | str:
    """The strip's thumbnails, or the decoding error's message."""
    return _frame_strip(str(path), _stamp(path), num_frames, image_size)


@st.cache_data(show_spinner="Preparing the player…", max_entries=32)
def _playable(path: str, stamp: tuple[int, int]) -> bytes | None:
    try:
        return webm_for_browser(path)
    except VideoDecodeError:
        return None


def playable_video(path: Path) -> bytes | None:
    """WebM bytes the browser can play (None when the file cannot be decoded)."""
    return _playable(str(path), _stamp(path))


@st.cache_data(show_spinner="Preparing the player…", max_entries=8)
def playable_upload(digest: str, name: str, _data: bytes) -> bytes | None:
    try:
        with upload_as_temp_file(_data, name) as path:
            return webm_for_browser(path)
    except (VideoDecodeError, UnsupportedUpload):
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def upload_mime_type(digest: str, name: str, _data: bytes) -> str | None:
    """The upload's MIME type when the browser plays it as it is (see `native_mime_type`)."""
    try:
        with upload_as_temp_file(_data, name) as path:
            return native_mime_type(path)
    except UnsupportedUpload:
        return None


@st.cache_resource
def retrain_registry() -> RetrainRegistry:
    """One registry of background retrain jobs per server process (their folders outlive it)."""
    return RetrainRegistry()


@st.cache_resource(show_spinner=False, max_entries=8)
def _member_recipe(models_dir: str, member: int, fingerprints: tuple[str, ...]) -> MemberRecipe:
    return member_recipe(Path(models_dir), member)


def retrain_recipe(models_dir: Path, member: int) -> MemberRecipe:
    """How member `member` was made and the seeds in use, reloaded when a checkpoint changes."""
    paths = find_ensemble_checkpoints(models_dir)
    return _member_recipe(str(models_dir), member, tuple(fingerprint(p) for p in paths))


@st.cache_data(show_spinner="Timing a few training batches in a process of its own…", max_entries=16)
def _epoch_estimate(
    models_dir: str, member: int, features_dir: str, fingerprints: tuple[str, ...], device: str
) -> EpochEstimate:
    return estimate_in_own_process(Path(models_dir), member, Path(features_dir), device)


def epoch_estimate(models_dir: Path, member: int, features_dir: Path, device: str) -> EpochEstimate:
    """Seconds per epoch of this member on the training features and device, timed once per
    (member, features, device) content in a process started as the retrain job's is (raises
    EstimateFailed with the process's one-line reason)."""
    inputs = [
        models_dir / checkpoint_file_name(member),
        *(features_dir / features_file_name(s) for s in ("train", "val")),
    ]
    return _epoch_estimate(
        str(models_dir), member, str(features_dir), tuple(fingerprint(p) for p in inputs), device
    )


@st.cache_data(show_spinner="Running the candidate on the analysed split…", max_entries=8)
def _candidate_probabilities(
    checkpoint: str, checkpoint_fp: str, features: str, features_fp: str, modes: tuple[str, ...], device: str
) -> np.ndarray:
    model = load_checkpoint(checkpoint, device).model
    with open_features(features) as handle:
        return predict_split([model], handle, modes, device=device)


def candidate_probabilities(
    checkpoint: Path, features: Path, modes: tuple[str, ...], device: str
) -> np.ndarray:
    """[1, modes, videos, classes] of a candidate checkpoint on a features file."""
    return _candidate_probabilities(
        str(checkpoint), fingerprint(checkpoint), str(features), fingerprint(features), modes, device
    )


@st.cache_resource(show_spinner="Reading every split's features…", max_entries=4)
def _audit_reading(paths: tuple[str, ...], fingerprints: tuple[str, ...]) -> SplitReading:
    return read_splits([Path(p) for p in paths])


def audit_reading(paths: list[Path]) -> SplitReading:
    """Every split's index and time-averaged features (shared read-only), and the files that
    cannot take part."""
    return _audit_reading(tuple(map(str, paths)), tuple(fingerprint(p) for p in paths))


@st.cache_resource(show_spinner="Reading each video through the member…", max_entries=8)
def _member_vectors(
    paths: tuple[str, ...], fingerprints: tuple[str, ...], member: str, _model: object
) -> np.ndarray:
    parts = []
    for path in paths:
        with open_features(path) as handle:
            parts.append(member_embeddings(_model, handle))
    return np.concatenate(parts)


def member_vectors(paths: list[Path], member: LoadedCheckpoint) -> np.ndarray:
    """The member's last hidden layer for every video of the files, stacked in their order."""
    return _member_vectors(
        tuple(map(str, paths)), tuple(fingerprint(p) for p in paths), fingerprint(member.path), member.model
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def _unit(key: str, _vectors: np.ndarray) -> np.ndarray:
    return unit_vectors(_vectors)


def unit_rows(key: str, vectors: np.ndarray) -> np.ndarray:
    """Centred unit vectors (shared read-only), `key` naming what `vectors` are."""
    return _unit(key, vectors)


@st.cache_data(show_spinner="Laying out the map (UMAP; a first map also compiles it, up to a minute)…",
               max_entries=8)  # fmt: skip
def _video_map(cache_dir: str, key: str, _vectors: np.ndarray) -> EmbeddingMap:
    found = load_cached_map(Path(cache_dir), key, len(_vectors))
    if found is None:
        found = embedding_map(_vectors)
        store_map(Path(cache_dir), key, found)
    return found


def video_map(cache_dir: Path, key: str, vectors: np.ndarray) -> EmbeddingMap:
    """The 2-D map of `vectors`, from the on-disk cache when `key` was laid out before."""
    return _video_map(str(cache_dir), key, vectors)


@st.cache_data(show_spinner=False, max_entries=2000)
def _thumbnail(path: str, stamp: tuple[int, int]) -> str | None:
    png = thumbnail_png(path)
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def thumbnail_uri(path: Path) -> str | None:
    """A frame of the video as a data URI for an image column; None when it cannot be decoded."""
    return _thumbnail(str(path), _stamp(path))


@st.cache_resource(show_spinner="Averaging every video's frame features…", max_entries=4)
def _stacked(key: str, _compute: Callable[[], np.ndarray]) -> np.ndarray:
    return _compute()


def stacked_vectors(key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """Vectors `compute` builds, once per `key` (which names their content), shared read-only."""
    return _stacked(key, compute)


@st.cache_data(show_spinner=False, max_entries=64)
def _stored_sequence(features_path: str, features_fingerprint: str, index: int) -> np.ndarray:
    with open_features(features_path) as handle:
        return handle.read_video(index)


def stored_sequence(features_path: Path, index: int) -> np.ndarray:
    """One stored video's real [T, D] sequence."""
    return _stored_sequence(str(features_path), fingerprint(features_path), index)


@st.cache_data(show_spinner=False, max_entries=384)
def _step_scores(
    clip_key: str, members: tuple[str, ...], predictor: str, target: int, method: str,
    _predictor: ExplainedPredictor, _sequence: np.ndarray,
) -> np.ndarray:  # fmt: skip
    return step_scores(_predictor, _sequence, method)


@st.cache_data(show_spinner=False, max_entries=128)
def _explained(
    clip_key: str, members: tuple[str, ...], predictor: str, target: int, video: str,
    class_names: tuple[str, ...], _predictor: ExplainedPredictor, _sequence: np.ndarray,
    _scores: dict[str, np.ndarray],
) -> dict[str, Explanation]:  # fmt: skip
    return explanations_of_scores(_predictor, _sequence, _scores, video=video, class_names=class_names)


def explanations(
    clip_key: str,
    members: list[LoadedCheckpoint],
    predictor: ExplainedPredictor,
    sequence: np.ndarray,
    video: str,
    class_names: list[str],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Explanation]:
    """Every method's explanation of one clip (`clip_key`: its content), keyed by the clip, the
    checkpoints' content, the predictor and the class; progress(done, total) between the parts
    (each method's scores, then every deletion curve at once), which are cached one by one."""
    key = (clip_key, _member_fingerprints(members), predictor.name, predictor.target)
    total = len(METHODS) + 1
    scores = {}
    for done, method in enumerate(METHODS):
        if progress is not None:
            progress(done, total)
        scores[method] = _step_scores(*key, method, predictor, sequence)
    if progress is not None:
        progress(len(METHODS), total)
    results = _explained(*key, video, tuple(class_names), predictor, sequence, scores)
    if progress is not None:
        progress(total, total)
    return results


@st.cache_data(show_spinner=False, max_entries=4)
def _decoded_frames(path: str, stamp: tuple[int, int], num_frames: int, image_size: int) -> np.ndarray | str:
    try:
        return decode_uniform_frames(path, num_frames, image_size).frames
    except VideoDecodeError as exc:
        return str(exc)


def decoded_frames(path: Path, num_frames: int, image_size: int) -> np.ndarray | str:
    """All decoded frames of a video file, or the decoding error's message."""
    return _decoded_frames(str(path), _stamp(path), num_frames, image_size)


@st.cache_data(show_spinner="Computing Grad-CAM through the backbone…", max_entries=32)
def _saliency(
    frames_key: str, members: tuple[str, ...], predictor: str, target: int, recipe_json: str,
    positions: tuple[int, ...], _predictor: ExplainedPredictor, _frames: np.ndarray,
) -> SaliencyMaps:  # fmt: skip
    recipe = FeatureRecipe.from_json(recipe_json)
    return grad_cam(load_backbone(recipe.backbone), _frames, recipe, _predictor, positions)


def saliency(
    frames_key: str,
    members: list[LoadedCheckpoint],
    predictor: ExplainedPredictor,
    recipe: FeatureRecipe,
    frames: np.ndarray,
    positions: np.ndarray,
) -> SaliencyMaps:
    """Grad-CAM overlays of the shown frames, keyed by the frames' source (`frames_key`), the
    checkpoints' content, the predictor, the class and the recipe. Raises BackboneError when the
    backbone's weights are missing."""
    return _saliency(
        frames_key, _member_fingerprints(members), predictor.name, predictor.target, recipe.to_json(),
        tuple(int(p) for p in positions), predictor, frames,
    )  # fmt: skip
