"""A list's thumbnail: a decoded frame of a real clip as a small PNG, or None for a broken file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.video.thumbnails import THUMBNAIL_SIZE, thumbnail_png
from tests.factories import write_noise_clip


def test_a_clip_gives_a_square_png_of_its_middle_frame(tmp_path: Path) -> None:
    png = thumbnail_png(write_noise_clip(tmp_path / "clip.mp4", count=12))
    assert png is not None and png.startswith(b"\x89PNG")
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 3) and image.std() > 10


def test_a_file_that_is_not_a_video_gives_none(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert thumbnail_png(broken) is None
