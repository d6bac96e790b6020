"""Decoding a clip into `n` uniformly sampled RGB frames of the recipe's size (docs/formats.md).

Frame `i` of the `n` samples is source frame `floor(i * (N - 1) / (n - 1))` of the `N` frames the
file really holds. `N` is the number of frames that actually decode: container frame counts are
often missing or wrong (and estimated from duration for variable-frame-rate streams), so a
count that the decode disagrees with is corrected and the sampling redone. Seeking is used only
where it is exact: long clips whose packets are evenly spaced at the nominal frame rate.

Clips with fewer than `n` frames (but at least `MIN_VIDEO_FRAMES`) repeat frames: the same
formula samples some source frames twice, so every clip yields exactly `n` frames and the
stored sequence length never depends on the clip's length. Shorter clips are refused with
`VideoDecodeError`, because a handful of frames carries no temporal content to classify.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".avi", ".mov", ".mkv", ".webm")
MIN_VIDEO_FRAMES = 8
# One seek + read costs about as much as 25 sequential grabs (mp4v 640x360, measured with
# OpenCV 5.0 on the project machine), so seeking only pays when samples are further apart.
SEEK_MIN_STRIDE = 32
# FFmpeg inside OpenCV reads its log level once, when first used, and would otherwise print
# "moov atom not found" and the like before our one-line error; a level the user set wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

_quiet_lock = threading.Lock()
_quiet_depth = 0
_loud_level = 0


class VideoDecodeError(ValueError):
    """A clip that cannot be turned into frames; the message names the file and the reason."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass(frozen=True)
class DecodedClip:
    frames: np.ndarray
    """uint8 [n, size, size, 3], RGB."""
    source_indices: np.ndarray
    """int64 [n]: which source frame each sample is."""
    total_frames: int
    method: str
    """"sequential" or "seek"."""


def uniform_indices(total_frames: int, count: int) -> np.ndarray:
    """`count` indices spread evenly over `total_frames` frames, first and last included."""
    return np.linspace(0, total_frames - 1, count).astype(np.int64)


def to_rgb_square(frame: np.ndarray, size: int) -> np.ndarray:
    """Any OpenCV frame (BGR, BGRA, grayscale, any size) as a uint8 RGB [size, size, 3] image."""
    if frame.ndim == 2 or frame.shape[2] == 1:
        rgb = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    elif frame.shape[2] == 4:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if rgb.shape[:2] != (size, size):
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)
    return rgb


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """OpenCV's own warnings ("[ WARN:0@4.2] global cap.cpp:212 ...") silenced while we read:
    a file that does not decode is reported once, by us, naming the file. Safe across threads:
    the level the user had comes back when the last reader is done."""
    global _quiet_depth, _loud_level
    levels = cv2.utils.logging
    with _quiet_lock:
        if _quiet_depth == 0:
            _loud_level = levels.getLogLevel()
            levels.setLogLevel(levels.LOG_LEVEL_SILENT)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                levels.setLogLevel(_loud_level)


@contextmanager
def _open_capture(path: Path) -> Iterator[cv2.VideoCapture]:
    if not path.is_file():
        raise VideoDecodeError(path, "file not found")
    with quiet_opencv():
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            if not capture.isOpened():
                raise VideoDecodeError(path, "not a video OpenCV can open (unknown format or corrupt file)")
            yield capture
        finally:
            capture.release()


def _reported_frame_count(capture: cv2.VideoCapture) -> int:
    count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    return int(count) if np.isfinite(count) and count > 0 else 0


def _has_constant_frame_rate(capture: cv2.VideoCapture, reported: int) -> bool:
    """True when the stream holds exactly `reported` packets, evenly spaced at the nominal rate.
    Reads the capture to its end.

    OpenCV seeks by frame number through the timestamp `number / fps`, which is the right frame
    only in such a stream; a pause or a rate change shifts every later frame. Packets are read
    without decoding (raw mode), so the scan costs milliseconds even for long clips.
    """
    fps = capture.get(cv2.CAP_PROP_FPS)
    if not (np.isfinite(fps) and fps > 0) or not capture.set(cv2.CAP_PROP_FORMAT, -1):
        return False
    stamps = []
    while capture.grab():
        stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC))
    if len(stamps) != reported:
        return False
    gaps = np.diff(np.sort(np.asarray(stamps)))
    # Some containers (Matroska, WebM) store milliseconds, so a 30 fps gap reads 33 or 34.
    return bool(np.all(np.abs(gaps - 1000.0 / fps) <= 1.0))


def _read_sequentially(path: Path, wanted: set[int], size: int) -> tuple[int, dict[int, np.ndarray]]:
    """Walk the whole stream once; convert only the wanted frames. Returns the true frame count."""
    frames: dict[int, np.ndarray] = {}
    position = 0
    with _open_capture(path) as capture:
        while capture.grab():
            if position in wanted:
                ok, frame = capture.retrieve()
                if not ok or frame is None:
                    raise VideoDecodeError(path, f"frame {position} is corrupt and cannot be decoded")
                frames[position] = to_rgb_square(frame, size)
            position += 1
    return position, frames


def _read_by_seeking(path: Path, wanted: np.ndarray, total: int, size: int) -> dict[int, np.ndarray] | None:
    """Seek to each wanted frame; None when any seek lands elsewhere or the count proves wrong."""
    frames: dict[int, np.ndarray] = {}
    with _open_capture(path) as capture:
        for index in np.unique(wanted).tolist():
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            if not ok or frame is None or int(capture.get(cv2.CAP_PROP_POS_FRAMES)) != index + 1:
                return None
            frames[index] = to_rgb_square(frame, size)
        capture.set(cv2.CAP_PROP_POS_FRAMES, total)
        if capture.grab():
            return None
    return frames


def _assemble(
    path: Path, indices: np.ndarray, frames: dict[int, np.ndarray], total: int, method: str
) -> DecodedClip:
    missing = sorted(set(indices.tolist()) - set(frames))
    if missing:
        raise VideoDecodeError(path, f"frames {missing[:5]} could not be decoded")
    stacked = np.stack([frames[int(i)] for i in indices])
    return DecodedClip(frames=stacked, source_indices=indices, total_frames=total, method=method)


def _check_length(path: Path, total: int, min_frames: int) -> None:
    if total == 0:
        raise VideoDecodeError(path, "no decodable video frames (corrupt file or not a video)")
    if total < min_frames:
        raise VideoDecodeError(
            path, f"only {total} decodable frame(s); at least {min_frames} are needed to classify a clip"
        )


def decode_uniform_frames(
    path: str | Path, num_frames: int, image_size: int, *, min_frames: int = MIN_VIDEO_FRAMES
) -> DecodedClip:
    """`num_frames` frames sampled uniformly over the whole clip, RGB, resized to image_size².

    Long constant-frame-rate clips (samples at least `SEEK_MIN_STRIDE` frames apart) are read by
    seeking, verified frame by frame; anything else, or a failed verification, is read
    sequentially, which also measures the true frame count.
    """
    path = Path(path)
    with _open_capture(path) as capture:
        reported = _reported_frame_count(capture)
        seekable = reported >= SEEK_MIN_STRIDE * num_frames and _has_constant_frame_rate(capture, reported)
    if seekable:
        indices = uniform_indices(reported, num_frames)
        frames = _read_by_seeking(path, indices, reported, image_size)
        if frames is not None:
            return _assemble(path, indices, frames, reported, "seek")
    assumed = max(reported, 1)
    indices = uniform_indices(assumed, num_frames)
    total, frames = _read_sequentially(path, set(indices.tolist()), image_size)
    _check_length(path, total, min_frames)
    if total != assumed:
        indices = uniform_indices(total, num_frames)
        total, frames = _read_sequentially(path, set(indices.tolist()), image_size)
    return _assemble(path, indices, frames, total, "sequential")
