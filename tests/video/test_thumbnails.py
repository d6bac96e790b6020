"""A listed video's thumbnail: its first frame, small, from a real mp4 on disk."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from core.paths import ProjectPaths
from core.video.thumbnails import THUMBNAIL_WIDTH, first_frame, thumbnail_png
from dashboard.thumbnails import THUMBNAIL_COLUMN, VideoFolder, with_thumbnails
from tests.factories import write_noise_clip


def test_thumbnail_is_the_first_frame_at_a_fixed_width(tmp_path) -> None:
    clip = write_noise_clip(tmp_path / "clip.mp4")
    frame = first_frame(clip)
    assert frame is not None and frame.shape == (40, 48, 3)
    image = cv2.imdecode(np.frombuffer(thumbnail_png(clip), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (80, THUMBNAIL_WIDTH, 3)


def test_no_thumbnail_for_a_file_that_is_not_a_video(tmp_path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    assert thumbnail_png(text) is None
    assert thumbnail_png(tmp_path / "missing.mp4") is None


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
