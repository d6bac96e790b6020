"""Figures of the explanation panel: step scores carried onto the decoded frames (with the frame
strip above them and attention beside them), and the deletion curves against random order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.explain.explanation import Explanation
from dashboard.charts import _png_uri

METHOD_LABELS: dict[str, str] = {
    "occlusion": "Occlusion",
    "integrated_gradients": "Integrated gradients",
    "attention": "Attention",
}
METHOD_COLORS: dict[str, str] = {
    "occlusion": "#E45756",
    "integrated_gradients": "#4C78A8",
    "attention": "#F58518",
}
# Occlusion and integrated gradients often rank the steps alike: a dotted line keeps both visible.
METHOD_DASHES: dict[str, str] = {"occlusion": "solid", "integrated_gradients": "dot", "attention": "solid"}
SUPPORTS, OPPOSES = "#2E7D32", "#9E9E9E"
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _thumbnails(
    figure: go.Figure, thumbnails: Sequence[np.ndarray], positions: Sequence[int], frames: int
) -> None:
    width = frames / len(thumbnails)
    for image, position in zip(thumbnails, positions, strict=True):
        figure.add_layout_image(
            source=_png_uri(image), xref="x", yref="y domain", x=position - width / 2, y=1,
            sizex=width * 0.96, sizey=1, sizing="contain", xanchor="left", yanchor="top", layer="above",
        )  # fmt: skip
    figure.update_yaxes(visible=False, range=[0, 1], row=1, col=1)


def frame_scores_figure(
    scores: np.ndarray,
    attention: np.ndarray | None,
    method: str,
    title: str,
    thumbnails: Sequence[np.ndarray] = (),
    positions: Sequence[int] = (),
) -> go.Figure:
    """Bars: the method's score per decoded frame (green where the frame supports the class);
    line: the attention per frame (percent, right axis) unless the method is attention itself."""
    frames = len(scores)
    with_strip = bool(len(thumbnails))
    rows = 2 if with_strip else 1
    specs = [[{}], [{"secondary_y": True}]] if with_strip else [[{"secondary_y": True}]]
    figure = make_subplots(rows=rows, cols=1, shared_xaxes=True, specs=specs, vertical_spacing=0.03,
                           row_heights=[0.3, 0.7] if with_strip else None)  # fmt: skip
    if with_strip:
        _thumbnails(figure, thumbnails, positions, frames)
    colors = [SUPPORTS if value >= 0 else OPPOSES for value in scores]
    figure.add_bar(x=np.arange(frames), y=scores, marker_color=colors, name=METHOD_LABELS[method],
                   hovertemplate="frame %{x}<br>score %{y:.4f}<extra></extra>", row=rows, col=1)  # fmt: skip
    if attention is not None and method != "attention":
        figure.add_scatter(x=np.arange(frames), y=100 * attention, mode="lines+markers", name="Attention (%)",
                           line={"color": METHOD_COLORS["attention"]}, row=rows, col=1,
                           secondary_y=True)  # fmt: skip
        figure.update_yaxes(
            title="attention (%)",
            row=rows,
            col=1,
            secondary_y=True,
            rangemode="tozero",
            tickformat=".0f",
            showgrid=False,
        )
    figure.update_yaxes(
        title=METHOD_LABELS[method].lower(), tickformat=".2~g", row=rows, col=1, secondary_y=False
    )
    figure.update_xaxes(title="frame", range=[-0.5, frames - 0.5], row=rows, col=1)
    figure.update_layout(title=title, margin=_MARGIN, height=400 if with_strip else 300,
                         legend={"orientation": "h", "y": -0.25})  # fmt: skip
    return figure


def deletion_figure(explanations: Mapping[str, Explanation], class_name: str) -> go.Figure:
    """The class probability as steps are removed, most attributed first, per method, and for
    random order (dashed)."""
    figure = go.Figure()
    for method, explanation in explanations.items():
        curve = explanation.deletion_curve
        figure.add_scatter(x=np.arange(len(curve)), y=curve, mode="lines+markers", name=METHOD_LABELS[method],
                           line={"color": METHOD_COLORS[method], "dash": METHOD_DASHES[method]})  # fmt: skip
    random_curve = next(iter(explanations.values())).random_deletion_curve
    figure.add_scatter(x=np.arange(len(random_curve)), y=random_curve, mode="lines", name="Random order",
                       line={"color": "#6B6B6B", "dash": "dash"})  # fmt: skip
    figure.update_layout(
        title="Deletion curves: lower is more faithful",
        xaxis={"title": "steps removed"},
        yaxis={"title": f"p({class_name})", "tickformat": ".3f"},
        margin=_MARGIN,
        height=340,
        legend={"orientation": "h", "y": -0.3},
    )
    return figure
