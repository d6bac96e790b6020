"""Caches behind the Classify page: one clip's per-member, per-mode probabilities and attention,
and the decoded frames of a test video, so toggling members or TTA never re-runs a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.evaluation.clip_verdict import strip_positions, thumbnails
from core.features.store import open_features
from core.model.checkpoints import LoadedCheckpoint
from core.model.inference import SequencePrediction, predict_sequence
from core.model.tta import TTA_MODES
from core.video.decode import VideoDecodeError, decode_uniform_frames
from core.video.player import webm_for_browser
from core.video.uploads import UnsupportedUpload, upload_as_temp_file
from dashboard.state import fingerprint


@dataclass(frozen=True)
class FrameStrip:
    positions: np.ndarray
    images: list[np.ndarray]


def member_fingerprints(members: list[LoadedCheckpoint]) -> tuple[str, ...]:
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
        member_fingerprints(members),
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
    return _upload_prediction(digest, member_fingerprints(members), [m.model for m in members], features)


@st.cache_data(show_spinner="Decoding the video's frames…", max_entries=32)
def _frame_strip(path: str, stamp: tuple[int, int], num_frames: int, image_size: int) -> FrameStrip | str:
    try:
        clip = decode_uniform_frames(path, num_frames, image_size)
    except VideoDecodeError as exc:
        return str(exc)
    positions = strip_positions(len(clip.frames))
    return FrameStrip(positions, thumbnails(clip.frames, positions))


def frame_strip(path: Path, num_frames: int, image_size: int) -> FrameStrip | str:
    """The strip's thumbnails, or the decoding error's message."""
    stat = path.stat()
    return _frame_strip(str(path), (stat.st_mtime_ns, stat.st_size), num_frames, image_size)


@st.cache_data(show_spinner="Preparing the player…", max_entries=32)
def _playable(path: str, stamp: tuple[int, int]) -> bytes | None:
    try:
        return webm_for_browser(path)
    except VideoDecodeError:
        return None


def playable_video(path: Path) -> bytes | None:
    """WebM bytes the browser can play (None when the file cannot be decoded)."""
    stat = path.stat()
    return _playable(str(path), (stat.st_mtime_ns, stat.st_size))


@st.cache_data(show_spinner="Preparing the player…", max_entries=8)
def playable_upload(digest: str, name: str, _data: bytes) -> bytes | None:
    try:
        with upload_as_temp_file(_data, name) as path:
            return webm_for_browser(path)
    except (VideoDecodeError, UnsupportedUpload):
        return None
