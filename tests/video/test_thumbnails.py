"""A list's thumbnail: a decoded frame of a real clip as a small PNG, or None for a broken file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from core.paths import ProjectPaths
from core.video.thumbnails import THUMBNAIL_SIZE, thumbnail_png
from dashboard.thumbnails import THUMBNAIL_COLUMN, VideoFolder, with_thumbnails
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


def test_listed_videos_get_a_thumbnail_only_where_the_file_is_on_disk(tmp_path) -> None:
    paths = ProjectPaths.at(tmp_path)
    write_noise_clip(paths.data_dir / "demo" / "test" / "Gaming" / "arcade" / "a.mp4")
    table = pd.DataFrame(
        {"video": ["Gaming/arcade/a.mp4", "Gaming/arcade/gone.mp4"], "true_class": ["Gaming"] * 2}
    )
    shown = with_thumbnails(table, VideoFolder(paths, "test"))
    assert shown.columns[0] == THUMBNAIL_COLUMN
    assert shown[THUMBNAIL_COLUMN].iloc[0].startswith("data:image/png;base64,")
    assert pd.isna(shown[THUMBNAIL_COLUMN].iloc[1])
    assert with_thumbnails(table, VideoFolder(paths, "val")).columns.tolist() == ["video", "true_class"]
