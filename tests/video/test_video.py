"""Decoding: exact uniform sampling, robust to wrong container counts, short and odd clips."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from core.video.decode import (
    MIN_VIDEO_FRAMES,
    SEEK_MIN_STRIDE,
    VideoDecodeError,
    decode_uniform_frames,
    to_rgb_square,
    uniform_indices,
)

BITS = 10


def index_frame(i: int, size: tuple[int, int]) -> np.ndarray:
    """Frame i shows i in binary as BITS vertical black/white bands, robust to compression."""
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    band = size[0] // BITS
    for bit in range(BITS):
        if (i >> bit) & 1:
            frame[:, bit * band : (bit + 1) * band] = 255
    return frame


def write_index_video(path: Path, count: int, size: tuple[int, int] = (70, 50), fourcc: str = "mp4v") -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, size)
    assert writer.isOpened()
    for i in range(count):
        writer.write(index_frame(i, size))
    writer.release()
    return path


def write_h264_with_durations(path: Path, durations: list[int], size: tuple[int, int] = (80, 48)) -> Path:
    """H.264 whose frame i lasts durations[i]/300 s. OpenCV maps frame numbers to timestamps by
    the average rate, so in such a file seeking by frame number lands on the wrong frames."""
    time_base = Fraction(1, 300)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = time_base
        pts = 0
        for i, duration in enumerate(durations):
            frame = av.VideoFrame.from_ndarray(index_frame(i, size)[..., ::-1].copy(), format="rgb24")
            frame.pts, frame.time_base = pts, time_base
            pts += duration
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


VARIABLE_RATE_CLIPS = {
    # A phone switching between 60 and 15 fps every 50 frames.
    "rate_changes.mp4": lambda n: [5 if (i // 50) % 2 == 0 else 20 for i in range(n)],
    # A screen recording that paused for 2/3 s halfway; Matroska then over-reports the count.
    "one_pause.mkv": lambda n: [200 if i == n // 2 else 10 for i in range(n)],
}


def read_index(frame: np.ndarray) -> int:
    gray = frame.mean(axis=2)
    band = gray.shape[1] / BITS
    return sum(1 << bit for bit in range(BITS) if gray[:, int(bit * band + band / 2)].mean() > 127)


def set_reported_frame_count(path: Path, count: int) -> None:
    """Rewrite the mp4 `stts` sample count: the container then reports `count` frames."""
    data = bytearray(path.read_bytes())
    box = data.find(b"stts")
    data[box + 12 : box + 16] = struct.pack(">I", count)
    path.write_bytes(bytes(data))


def decoded_indices(path: Path, num_frames: int, size: int = 32) -> list[int]:
    return [read_index(f) for f in decode_uniform_frames(path, num_frames, size).frames]


def test_samples_exact_uniform_indices(tmp_path):
    video = write_index_video(tmp_path / "clip.mp4", 40)
    clip = decode_uniform_frames(video, 16, 32)
    assert clip.frames.shape == (16, 32, 32, 3) and clip.frames.dtype == np.uint8
    assert clip.total_frames == 40 and clip.method == "sequential"
    assert [read_index(f) for f in clip.frames] == uniform_indices(40, 16).tolist()
    assert clip.source_indices.tolist() == uniform_indices(40, 16).tolist()


@pytest.mark.parametrize("reported", [80, 20])
def test_wrong_container_frame_count_is_corrected(tmp_path, reported):
    video = write_index_video(tmp_path / "clip.mp4", 40)
    set_reported_frame_count(video, reported)
    assert cv2.VideoCapture(str(video)).get(cv2.CAP_PROP_FRAME_COUNT) == reported
    clip = decode_uniform_frames(video, 16, 32)
    assert clip.total_frames == 40
    assert [read_index(f) for f in clip.frames] == uniform_indices(40, 16).tolist()


def test_long_clip_is_read_by_seeking_with_the_same_frames(tmp_path):
    count = SEEK_MIN_STRIDE * 8 + 20
    video = write_index_video(tmp_path / "long.mp4", count)
    clip = decode_uniform_frames(video, 8, 32)
    assert clip.method == "seek"
    assert [read_index(f) for f in clip.frames] == uniform_indices(count, 8).tolist()


@pytest.mark.parametrize("name", sorted(VARIABLE_RATE_CLIPS))
def test_long_variable_frame_rate_clip_gives_the_exact_frames(tmp_path, name):
    count = SEEK_MIN_STRIDE * 8 + 100
    video = write_h264_with_durations(tmp_path / name, VARIABLE_RATE_CLIPS[name](count))
    capture = cv2.VideoCapture(str(video))
    landed = []
    for index in uniform_indices(count, 8).tolist():
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        landed.append(read_index(capture.read()[1]))
    capture.release()
    assert landed != uniform_indices(count, 8).tolist()  # seeking by frame number is wrong here
    clip = decode_uniform_frames(video, 8, 32)
    assert clip.method == "sequential" and clip.total_frames == count
    assert [read_index(f) for f in clip.frames] == uniform_indices(count, 8).tolist()


def test_long_constant_rate_matroska_clip_is_still_read_by_seeking(tmp_path):
    count = SEEK_MIN_STRIDE * 8 + 100
    video = write_h264_with_durations(tmp_path / "steady.mkv", [10] * count)
    clip = decode_uniform_frames(video, 8, 32)
    assert clip.method == "seek" and clip.total_frames == count
    assert [read_index(f) for f in clip.frames] == uniform_indices(count, 8).tolist()


def test_short_clip_repeats_frames_to_the_requested_count(tmp_path):
    video = write_index_video(tmp_path / "short.mp4", 10)
    assert decoded_indices(video, 16) == [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 9]


def test_too_short_clip_is_refused_naming_the_file(tmp_path):
    video = write_index_video(tmp_path / "tiny.mp4", MIN_VIDEO_FRAMES - 1)
    with pytest.raises(VideoDecodeError, match=r"tiny\.mp4.*only 7 decodable frame"):
        decode_uniform_frames(video, 16, 32)


def test_non_video_and_missing_files_are_refused(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoDecodeError, match=r"notes\.mp4"):
        decode_uniform_frames(text, 8, 32)
    with pytest.raises(VideoDecodeError, match="file not found"):
        decode_uniform_frames(tmp_path / "absent.mp4", 8, 32)


def test_truncated_video_is_refused(tmp_path):
    video = write_index_video(tmp_path / "cut.mp4", 40)
    video.write_bytes(video.read_bytes()[:600])
    with pytest.raises(VideoDecodeError, match=r"cut\.mp4"):
        decode_uniform_frames(video, 8, 32)


def test_odd_sized_avi_decodes(tmp_path):
    video = write_index_video(tmp_path / "odd.avi", 30, size=(101, 37), fourcc="MJPG")
    assert decoded_indices(video, 8, size=24) == uniform_indices(30, 8).tolist()


def test_grayscale_and_alpha_frames_become_rgb():
    gray = np.full((5, 7), 200, np.uint8)
    bgra = np.zeros((5, 7, 4), np.uint8)
    bgra[..., 2] = 255
    assert to_rgb_square(gray, 4).shape == (4, 4, 3)
    assert (to_rgb_square(gray, 4) == 200).all()
    red = to_rgb_square(bgra, 4)
    assert (red[..., 0] == 255).all() and (red[..., 1:] == 0).all()
