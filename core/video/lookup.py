"""Where the video file behind a feature row lives, when the project keeps its videos.

Feature files store names relative to the labelled videos folder (`Gaming/fps/clip.mp4`);
the folder of a split is one of a few conventional places under `data/`.
"""

from __future__ import annotations

from pathlib import Path

VIDEO_FOLDERS: tuple[str, ...] = ("demo", "videos", "")
"""Sub-folders of `data/` that may hold `{split}/{category}/{subcategory}/{file}`, searched in order."""


def video_file_candidates(data_dir: Path, split: str, video_name: str) -> list[Path]:
    """The places a split's video may be: data/demo/<split>/…, data/videos/<split>/…, data/<split>/…"""
    return [data_dir / folder / split / video_name for folder in VIDEO_FOLDERS]


def find_video_file(data_dir: Path, split: str, video_name: str) -> Path | None:
    """The first existing candidate inside `data_dir`; names that climb out of it (`../`) never match."""
    root = data_dir.resolve()
    for candidate in video_file_candidates(data_dir, split, video_name):
        resolved = candidate.resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved
    return None
