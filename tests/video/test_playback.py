import cv2
import numpy as np
import pytest

from core.video.decode import VideoDecodeError
from core.video.player import native_mime_type, webm_for_browser


def _write_mp4v(path, frames=12, size=(101, 37)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 12, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 20) % 256, np.uint8))
    writer.release()


def test_mp4v_clip_becomes_webm_with_all_frames_and_even_size(tmp_path):
    source = tmp_path / "clip.mp4"
    _write_mp4v(source)
    data = webm_for_browser(source)
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML header: a Matroska/WebM file
    out = tmp_path / "out.webm"
    out.write_bytes(data)
    capture = cv2.VideoCapture(str(out))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == 12
    assert frames[0].shape[:2] == (36, 100)
    assert abs(int(frames[5].mean()) - 100) <= 12  # lossy VP9 + YUV round trip
    assert int(frames[10].mean()) > int(frames[2].mean()) + 100


def test_long_side_is_capped_and_duration_limited(tmp_path):
    source = tmp_path / "big.mp4"
    _write_mp4v(source, frames=30, size=(960, 540))
    out = tmp_path / "small.webm"
    out.write_bytes(webm_for_browser(source, max_side=320, max_seconds=1.0))
    capture = cv2.VideoCapture(str(out))
    ok, frame = capture.read()
    count = 1 + sum(1 for _ in iter(lambda: capture.read()[0], False))
    capture.release()
    assert ok and frame.shape[:2] == (180, 320)
    assert count == 12


def test_non_video_is_refused_with_the_file_name(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoDecodeError, match=r"notes\.mp4"):
        webm_for_browser(text)


def test_browser_codecs_are_served_as_they_are_others_need_reencoding(tmp_path):
    mp4v = tmp_path / "clip.mp4"
    _write_mp4v(mp4v)
    assert native_mime_type(mp4v) is None  # MPEG-4 Part 2: Chromium does not play it
    webm = tmp_path / "clip.webm"
    webm.write_bytes(webm_for_browser(mp4v))
    assert native_mime_type(webm) == "video/webm"
    renamed = tmp_path / "clip.avi"
    renamed.write_bytes(webm.read_bytes())
    assert native_mime_type(renamed) is None  # only mp4/webm containers are trusted as they are
    assert native_mime_type(tmp_path / "missing.mp4") is None
