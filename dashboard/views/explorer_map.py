"""The Data explorer's map (UMAP of a chosen representation, one beside another) with box and
lasso selection, and the nearest neighbours of a chosen video across every split."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.audit.duplicates import nearest_rows
from core.audit.embedding_map import MAP_POINT_CAP, EmbeddingMap
from core.audit.map_cache import map_key
from core.audit.splits import stacked_means
from dashboard.cache import fingerprint, member_vectors, stacked_vectors, unit_rows, video_map
from dashboard.theme import MAX_PICKER_OPTIONS, PERCENT_FORMAT, class_color_map, short_name
from dashboard.views.explorer_videos import render_video_list

if TYPE_CHECKING:
    from dashboard.views.explorer_data import ExplorerData

# Options are short words (the URL holds a bound selectbox's shown text): "features", "Model 2".
FEATURES = "frame features"
NO_SECOND_MAP = "nothing"
COLOURS: dict[str, str] = {
    "true class": "true_class",
    "predicted class": "predicted_class",
    "right / wrong": "correct",
    "members disagree": "members_disagree",
    "confidence": "confidence",
    "subcategory": "subcategory",
    "split": "split",
}
VERDICT_COLORS = {"right": "#54A24B", "wrong": "#E45756", "agree": "#A3A3A3", "disagree": "#F58518"}
NEIGHBOURS = 10
MAP_HEIGHT = 480


def representation_label(option: str) -> str:
    if option == FEATURES:
        return "Frame features (averaged over time)"
    return f"{option} (its last hidden layer)"


def representation(data: ExplorerData, option: str) -> tuple[str, np.ndarray]:
    """A key naming the vectors (content of every input), and the vectors in stacked order."""
    paths = [split.path for split in data.compared]
    inputs = [fingerprint(path) for path in paths]
    if option == FEATURES:
        key = map_key(inputs, option, MAP_POINT_CAP)
        return key, stacked_vectors(key, lambda: stacked_means(data.compared)[0])
    member = next(m for m in data.context.members.members if short_name(m.name) == option)
    key = map_key([*inputs, fingerprint(member.path)], option, MAP_POINT_CAP)
    return key, member_vectors(paths, member)


def _verdict(column: str, values: pd.Series) -> pd.Series:
    if column == "correct":
        return values.map({True: "right", False: "wrong"}).fillna("no prediction")
    return values.map({True: "disagree", False: "agree"}).fillna("no prediction")


def map_figure(points: pd.DataFrame, colour: str, class_names: list[str]) -> go.Figure:
    column = COLOURS[colour]
    figure = go.Figure()
    custom = points[["split", "video"]].to_numpy()
    hover = "%{customdata[1]}<br>%{customdata[0]}<extra>%{fullData.name}</extra>"
    if column == "confidence":
        figure.add_trace(
            go.Scattergl(
                x=points["x"],
                y=points["y"],
                mode="markers",
                name="confidence",
                customdata=custom,
                hovertemplate=hover.replace("<extra>", "<br>confidence %{marker.color:.0f}%<extra>"),
                marker={
                    "size": 6,
                    "color": points["confidence"],
                    "colorscale": "Viridis",
                    "colorbar": {"title": "%", "thickness": 12},
                },
            )
        )
    else:
        values = (
            points[column]
            if column not in ("correct", "members_disagree")
            else _verdict(column, points[column])
        )
        colours = {**class_color_map(class_names), **VERDICT_COLORS}
        for value in sorted(values.astype(str).unique()):
            shown = (values.astype(str) == value).to_numpy()
            figure.add_trace(
                go.Scattergl(
                    x=points["x"][shown],
                    y=points["y"][shown],
                    mode="markers",
                    name=value or "(none)",
                    customdata=custom[shown],
                    hovertemplate=hover,
                    marker={"size": 6, "color": colours.get(value), "opacity": 0.85},
                )
            )
    figure.update_layout(
        height=MAP_HEIGHT,
        dragmode="lasso",
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        xaxis={"showticklabels": False, "title": None},
        yaxis={"showticklabels": False, "title": None},
    )
    return figure


def map_points(data: ExplorerData, embedding: EmbeddingMap, splits: list[str]) -> pd.DataFrame:
    points = data.videos.iloc[embedding.rows].assign(
        x=embedding.coordinates[:, 0], y=embedding.coordinates[:, 1]
    )
    return points[points["split"].isin(splits)]


def render_one_map(data: ExplorerData, option: str, colour: str, splits: list[str], key: str) -> list:
    vector_key, vectors = representation(data, option)
    embedding = video_map(data.context.paths.cache_dir, vector_key, vectors)
    points = map_points(data, embedding, splits)
    st.markdown(f"**{representation_label(option)}**")
    event = st.plotly_chart(
        map_figure(points, colour, list(data.compared[0].class_names)),
        on_select="rerun",
        selection_mode=("points", "box", "lasso"),
        key=key,
        width="stretch",
    )
    drawn = (
        f"A uniform sample of {len(embedding.rows):,} of the {embedding.total:,} videos "
        f"(maps draw at most {MAP_POINT_CAP:,})"
        if embedding.sampled
        else f"All {embedding.total:,} videos"
    )
    st.caption(f"{drawn}: {embedding.method}; {len(points):,} shown for the chosen splits.")
    return [tuple(point["customdata"][:2]) for point in event.selection.points]


def render_controls(data: ExplorerData) -> tuple[str, str, str, list[str]]:
    options = [FEATURES, *map(short_name, data.context.member_names)]
    columns = st.columns([3, 3, 2, 3])
    first = columns[0].selectbox("Map of", options, key="explorer_map", bind="query-params")
    second = columns[1].selectbox(
        "Beside it",
        [NO_SECOND_MAP, *[o for o in options if o != first]],
        key="explorer_beside",
        bind="query-params",
    )
    colour = columns[2].selectbox("Colour by", list(COLOURS), key="explorer_colour", bind="query-params")
    names = [split.split for split in data.compared]
    splits = columns[3].pills(
        "Splits", names, selection_mode="multi", default=names, key="explorer_splits", bind="query-params"
    )
    return first, second, colour, splits


def render_selection(data: ExplorerData, selected: list[tuple[str, str]]) -> None:
    if not selected:
        st.caption("Select points on a map (box or lasso) to list those videos here.")
        return
    chosen = pd.MultiIndex.from_tuples(selected)
    keys = pd.MultiIndex.from_frame(data.videos[["split", "video"]])
    table = data.videos[keys.isin(chosen)]
    st.markdown(f"**{len(table)} selected video(s)**")
    columns = ["split", "video", "true_class", "predicted_class", "confidence"]
    render_video_list(
        table[[c for c in columns if c in table]],
        data.files,
        "explorer_selected",
        {"confidence": st.column_config.NumberColumn(format=PERCENT_FORMAT)},
    )


def neighbour_candidates(data: ExplorerData, selected: list[tuple[str, str]]) -> list[int]:
    """Rows to pick from: the selection, then misclassified videos, then the rest, capped."""
    keys = list(zip(data.videos["split"], data.videos["video"], strict=True))
    position = {key: row for row, key in enumerate(keys)}
    first = [position[key] for key in selected if key in position]
    wrong = np.flatnonzero(data.videos["correct"].to_numpy() == False).tolist()  # noqa: E712 - None stays out
    ordered = list(dict.fromkeys([*first, *wrong, *range(len(keys))]))
    return ordered[:MAX_PICKER_OPTIONS]


def render_neighbours(data: ExplorerData, option: str, selected: list[tuple[str, str]]) -> None:
    st.subheader("Nearest neighbours across splits")
    vector_key, vectors = representation(data, option)
    unit = unit_rows(vector_key, vectors)
    videos = data.videos
    row = st.selectbox(
        "Video",
        neighbour_candidates(data, selected),
        key="explorer_neighbour_of",
        format_func=lambda r: f"{videos['video'].iat[r]} ({videos['split'].iat[r]})",
    )
    if row is None:
        return
    rows, similarities = nearest_rows(unit, row, NEIGHBOURS)
    table = videos.iloc[rows][["split", "video", "true_class", "predicted_class"]].assign(
        similarity=similarities
    )
    st.caption(
        f"The {len(rows)} videos most similar to it in {representation_label(option).lower()} "
        "(cosine similarity of centred vectors), from every split: which training videos look like "
        "a failing test video."
    )
    render_video_list(
        table[["similarity", "split", "video", "true_class", "predicted_class"]],
        data.files,
        "explorer_neighbours",
        {"similarity": st.column_config.NumberColumn(format="%.3f")},
    )


def render_map_and_neighbours(data: ExplorerData) -> None:
    st.subheader("Map of the videos")
    first, second, colour, splits = render_controls(data)
    if second == NO_SECOND_MAP:
        selected = render_one_map(data, first, colour, splits, "explorer_map_first")
    else:
        left, right = st.columns(2)
        with left:
            selected = render_one_map(data, first, colour, splits, "explorer_map_first")
        with right:
            selected += render_one_map(data, second, colour, splits, "explorer_map_second")
    render_selection(data, list(dict.fromkeys(selected)))
    render_neighbours(data, first, selected)
