"""Every `st.cache_*` wrapper of the app, and nothing else.

Models, split indexes and background TTA passes live in `st.cache_resource` (shared across
sessions, inference only); fingerprints, split probabilities read back from disk, clip
predictions and decoded frames in `st.cache_data`. Each wrapper is keyed by content (a hash)
or by a file's mtime and size, so an edited file is never served stale; the public functions
compute those keys.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import streamlit as st

from core.evaluation.clip_frames import FrameStrip, frame_strip_of
from core.evaluation.jobs import JobRegistry
from core.features.inventory import FeatureFileInfo, inspect_feature_file
from core.features.store import FeatureIndex, load_feature_index, open_features
from core.model.background import BackgroundPredictions
from core.model.checkpoints import LoadedCheckpoint
from core.model.ensemble import Ensemble, load_ensemble
from core.model.inference import SequencePrediction, predict_sequence
from core.model.prediction_cache import file_fingerprint, load_cached_probabilities
from core.model.tta import TTA_MODES
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
def _probabilities_from_disk(cache_dir: str, key: str) -> np.ndarray:
    probabilities = load_cached_probabilities(Path(cache_dir), key)
    if probabilities is None:
        raise FileNotFoundError(f"{cache_dir}: no cached predictions {key}")
    return probabilities


def stored_probabilities(cache_dir: Path, key: str) -> np.ndarray | None:
    """Probabilities stored under `key`, held in memory after the first read; None when absent."""
    try:
        return _probabilities_from_disk(str(cache_dir), key)
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


@st.cache_data(show_spinner=False, max_entries=2000)
def _thumbnail(path: str, stamp: tuple[int, int]) -> bytes | None:
    return thumbnail_png(path)


def video_thumbnail(path: Path) -> bytes | None:
    """PNG of the video's first frame, cached per file content (None when it does not decode)."""
    return _thumbnail(str(path), _stamp(path))


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
