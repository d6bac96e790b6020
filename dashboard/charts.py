"""Plotly figure builders for the Overview, Classify and Compare pages (class colours from the theme)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import cv2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.theme import class_color_map, predictor_color_map, short_name

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _class_bars_by_predictor(
    table: pd.DataFrame,
    class_names: Sequence[str],
    column_prefix: str,
    title: str,
    axis_title: str,
    height: int,
) -> go.Figure:
    """One group per predictor row, one bar per class from the `<prefix><class>` columns (percent)."""
    colors = class_color_map(class_names)
    labels = [short_name(p) for p in table["predictor"]]
    figure = go.Figure()
    for name in class_names:
        figure.add_bar(
            x=labels,
            y=table[f"{column_prefix}{name}"],
            name=name,
            marker_color=colors[name],
            hovertemplate=f"%{{x}}<br>{column_prefix}{name}: %{{y:.1f}}%<extra></extra>",
        )
    values = table[[f"{column_prefix}{name}" for name in class_names]].to_numpy(dtype=float)
    figure.update_layout(
        barmode="group",
        title=title,
        yaxis={"title": axis_title, "range": [zoomed_floor(values), 100]},
        legend={"orientation": "h", "y": -0.15},
        margin=_MARGIN,
        height=height,
    )
    return figure


def zoomed_floor(values: np.ndarray) -> float:
    """Axis floor for percentages: 10 points below the lowest value, in steps of 10 (0 at worst),
    so compositions a few points apart do not look alike on a 0-100 axis."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0
    return float(max(0.0, np.floor(finite.min() / 10.0) * 10.0 - 10.0))


def probability_bars(table: pd.DataFrame, class_names: Sequence[str]) -> go.Figure:
    """One horizontal bar per predictor (rows of `clip_table`), split into its classes' probabilities.

    Horizontal and stacked so the predictor names stay whole and the chart stays short at any
    width; the title lives on the page, where the chart's toolbar cannot cover it."""
    colors = class_color_map(class_names)
    labels = [short_name(p) for p in table["predictor"]]
    figure = go.Figure()
    for name in class_names:
        values = table[name]
        figure.add_bar(
            y=labels,
            x=values,
            name=name,
            orientation="h",
            marker_color=colors[name],
            text=[f"{v:.0f}%" if v >= 12 else "" for v in values],
            textposition="inside",
            insidetextanchor="middle",
            hovertemplate=f"%{{y}}<br>{name}: %{{x:.1f}}%<extra></extra>",
        )
    figure.update_layout(
        barmode="stack",
        xaxis={"title": "probability (%)", "range": [0, 100]},
        yaxis={"autorange": "reversed", "automargin": True},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=90 + 26 * len(labels),
    )
    return figure


def interval_chart(table: pd.DataFrame, metric: str, low: str, high: str, title: str) -> go.Figure:
    """A point with its 95% interval per predictor (rows of `SplitPredictions.headline_table`)."""
    colors = predictor_color_map(list(table["predictor"]))
    figure = go.Figure()
    for _, row in table.iterrows():
        figure.add_scatter(
            x=[row[metric]],
            y=[short_name(row["predictor"])],
            mode="markers",
            marker={"size": 11, "color": colors[row["predictor"]]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [row[high] - row[metric]],
                "arrayminus": [row[metric] - row[low]],
            },
            showlegend=False,
            hovertemplate=f"%{{y}}: %{{x:.1f}}% ({row[low]:.1f}–{row[high]:.1f}%)<extra></extra>",
        )
    figure.update_layout(
        title=title, xaxis={"title": "%"}, yaxis={"autorange": "reversed"}, margin=_MARGIN, height=300
    )
    return figure


def agreement_heatmap(matrix: pd.DataFrame, title: str, value_format: str, colorscale: str) -> go.Figure:
    """Member x member heatmap with the values written in the cells."""
    labels = [short_name(n) for n in matrix.index]
    values = matrix.to_numpy(dtype=float)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=labels,
            y=labels,
            colorscale=colorscale,
            text=[[format(v, value_format) for v in row] for row in values],
            texttemplate="%{text}",
            hovertemplate="%{y} vs %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(title=title, yaxis={"autorange": "reversed"}, margin=_MARGIN, height=340)
    return figure


def class_f1_bars(table: pd.DataFrame, class_names: Sequence[str], title: str) -> go.Figure:
    """Per-class F1 of several predictors (rows with `F1 <class>` columns), grouped by predictor."""
    return _class_bars_by_predictor(table, class_names, "F1 ", title, "F1 (%)", 340)


def _png_uri(image: np.ndarray) -> str:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("could not encode a frame thumbnail as PNG")
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def _attention_traces(
    figure: go.Figure, per_frame: np.ndarray, members: Sequence[str], **position: int
) -> None:
    colors = predictor_color_map(list(members))
    frames = np.arange(per_frame.shape[1])
    for name, values in zip(members, per_frame, strict=True):
        figure.add_scatter(
            x=frames,
            y=values,
            mode="lines+markers",
            name=short_name(name),
            line={"color": colors[name]},
            hovertemplate=short_name(name) + " · frame %{x}: %{y:.1f}%<extra></extra>",
            **position,
        )
    # Attention spread evenly over the frames: values near it mean the member looks at every
    # frame alike, so small differences between frames read as such.
    uniform = 100.0 / max(per_frame.shape[1], 1)
    figure.add_hline(
        y=uniform,
        line={"color": "#6B6B6B", "dash": "dot", "width": 1},
        annotation_text=f"uniform {uniform:.1f}%",
        annotation_position="bottom right",
        **position,
    )


def attention_strip(
    per_frame: np.ndarray,
    members: Sequence[str],
    thumbnails: Sequence[np.ndarray] = (),
    positions: Sequence[int] = (),
) -> go.Figure:
    """Pooling attention per decoded frame, with the sampled frames placed above the frame they
    show on the same x axis; without thumbnails, the attention alone."""
    num_frames = per_frame.shape[1]
    if not len(thumbnails):
        figure = go.Figure()
        _attention_traces(figure, per_frame, members)
        figure.update_layout(xaxis={"title": "frame"}, yaxis={"title": "attention (%)"})
    else:
        figure = make_subplots(
            rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.03
        )
        width = num_frames / len(thumbnails)
        for image, position in zip(thumbnails, positions, strict=True):
            figure.add_layout_image(
                source=_png_uri(image),
                xref="x",
                yref="y domain",
                x=position - width / 2,
                y=1,
                sizex=width * 0.96,
                sizey=1,
                sizing="contain",
                xanchor="left",
                yanchor="top",
                layer="above",
            )
        figure.update_yaxes(visible=False, range=[0, 1], row=1, col=1)
        _attention_traces(figure, per_frame, members, row=2, col=1)
        figure.update_yaxes(title="attention (%)", row=2, col=1)
        figure.update_xaxes(title="frame", row=2, col=1)
    figure.update_xaxes(range=[-0.5, num_frames - 0.5])
    figure.update_layout(
        title="Pooling attention per frame",
        margin=_MARGIN,
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure
