"""Thumbnails beside listed videos, where the project keeps the files: a `frame` image column
for `st.dataframe`, filled for the first rows (each is one decoded frame, cached)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core.paths import ProjectPaths
from core.video.lookup import find_video_file
from dashboard.cache import thumbnail_uri

THUMBNAIL_COLUMN = "frame"
# Rows that get a picture: a long list is scrolled, not looked at frame by frame, and each
# first view of a row costs a decode.
MAX_THUMBNAILS = 60


@dataclass(frozen=True)
class VideoFolder:
    """Where a listed split's videos may be: the project's data/ folder and the split's name."""

    paths: ProjectPaths
    split: str


def thumbnail_uris(data_dir: Path, videos: Iterable[tuple[str, str]]) -> list[str | None]:
    """A frame per (split, video name) whose file is on disk, for the first MAX_THUMBNAILS rows."""
    uris: list[str | None] = []
    for position, (split, name) in enumerate(videos):
        path = find_video_file(data_dir, split, str(name)) if position < MAX_THUMBNAILS else None
        uris.append(None if path is None else thumbnail_uri(path))
    return uris


def with_frame_column(table: pd.DataFrame, uris: list[str | None]) -> pd.DataFrame:
    """`table` with the frames as its first column; unchanged when there is none to show."""
    if not any(uris):
        return table
    return table.assign(**{THUMBNAIL_COLUMN: uris})[[THUMBNAIL_COLUMN, *table.columns]]


def with_thumbnails(
    table: pd.DataFrame, folder: VideoFolder | None, video_column: str = "video"
) -> pd.DataFrame:
    """`table` of one split's videos with a first column of thumbnails where the files are on disk."""
    if folder is None or table.empty:
        return table
    names = ((folder.split, name) for name in table[video_column])
    return with_frame_column(table, thumbnail_uris(folder.paths.data_dir, names))


def thumbnail_column() -> dict[str, st.column_config.ImageColumn]:
    return {THUMBNAIL_COLUMN: st.column_config.ImageColumn("", width=60)}
