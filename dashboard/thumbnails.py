"""Thumbnails beside listed videos, where the project keeps the files: a `frame` image column
for `st.dataframe`, filled for the first rows (each is one decoded frame, cached)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.paths import ProjectPaths
from core.video.lookup import find_video_file
from dashboard.cache import video_thumbnail

THUMBNAIL_COLUMN = "frame"
# Rows that get a picture: a long list is scrolled, not looked at frame by frame, and each
# first view of a row costs a decode.
MAX_THUMBNAILS = 60


@dataclass(frozen=True)
class VideoFolder:
    """Where a listed split's videos may be: the project's data/ folder and the split's name."""

    paths: ProjectPaths
    split: str


def _data_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def with_thumbnails(
    table: pd.DataFrame, folder: VideoFolder | None, video_column: str = "video"
) -> pd.DataFrame:
    """`table` with a first column of thumbnails; unchanged when none of its videos is on disk."""
    if folder is None or table.empty:
        return table
    data_dir = folder.paths.data_dir
    uris: list[str | None] = []
    for position, name in enumerate(table[video_column]):
        path = find_video_file(data_dir, folder.split, str(name)) if position < MAX_THUMBNAILS else None
        uris.append(None if path is None else _data_uri(video_thumbnail(path)))
    if not any(uris):
        return table
    return table.assign(**{THUMBNAIL_COLUMN: uris})[[THUMBNAIL_COLUMN, *table.columns]]


def thumbnail_column() -> dict[str, st.column_config.ImageColumn]:
    return {THUMBNAIL_COLUMN: st.column_config.ImageColumn("", width=60)}
