"""Lists of videos on the Data explorer: a table with a frame of each video when the file is on
disk, and a picker that opens any of them in Classify (on its own split)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.navigation import render_open_split_video_in_classify
from dashboard.thumbnails import THUMBNAIL_COLUMN as FRAME_COLUMN
from dashboard.thumbnails import thumbnail_uris, with_frame_column


@dataclass(frozen=True)
class VideoFiles:
    """Where a split's videos and features live."""

    data_dir: Path
    features_files: dict[str, Path]

    def features_file(self, split: str) -> str:
        return str(self.features_files.get(split, ""))


def with_thumbnails(table: pd.DataFrame, files: VideoFiles) -> pd.DataFrame:
    """`table` (with `split` and `video` columns) with a frame column first, when any of its first
    rows has its video file on disk; else unchanged."""
    videos = zip(table["split"], table["video"], strict=True)
    return with_frame_column(table, thumbnail_uris(files.data_dir, videos))


def list_column_config() -> dict[str, object]:
    """Short headers, and names cut to a medium width (the full name shows on hover), so a list
    fits the page without scrolling sideways."""
    text = st.column_config.TextColumn
    return {
        FRAME_COLUMN: st.column_config.ImageColumn("frame", width="small"),
        "video": text("video", width="medium"),
        "match": text("match", width="medium"),
        "match_split": text("match split"),
        "true_class": text("true class"),
        "predicted_class": text("predicted"),
    }


def render_video_list(table: pd.DataFrame, files: VideoFiles, key: str, config: dict | None = None) -> None:
    """The videos with their frames, and one click from Classify."""
    shown = with_thumbnails(table.reset_index(drop=True), files)
    st.dataframe(
        shown,
        hide_index=True,
        column_config={**list_column_config(), **(config or {})},
        key=f"{key}_table",
        row_height=56 if FRAME_COLUMN in shown else None,
    )
    render_open_in_classify_from(table, files, key)


def render_open_in_classify_from(table: pd.DataFrame, files: VideoFiles, key: str) -> None:
    choices = [
        (f"{video} ({split})", video, files.features_file(split))
        for split, video in zip(table["split"], table["video"], strict=True)
        if files.features_file(split)
    ]
    render_open_split_video_in_classify(choices[:1000], key)
