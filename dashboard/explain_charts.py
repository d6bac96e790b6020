"""Figures of the explanation panel: step scores carried onto the decoded frames (with the frame
strip above them and attention beside them, against its uniform share), the deletion curves
against the band of random orders on the full probability axis, and Grad-CAM's colour scale."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.explain.explanation import Explanation
from core.explain.reading import Agreement
from core.explain.saliency import colours
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
SUPPORTS, OPPOSES = "#2E7D32", "#9E9E9E"
RANDOM_BAND = "rgba(107, 107, 107, 0.25)"
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
    uniform: np.ndarray | None = None,
) -> go.Figure:
    """Bars: the method's score per decoded frame (green where the frame supports the class);
    line: the attention per frame (percent, right axis) unless the method is attention itself;
    dotted: each frame's uniform share of attention (every step 1/T), on the attention's axis."""
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
    on_right = attention is not None and method != "attention"
    if on_right:
        figure.add_scatter(x=np.arange(frames), y=100 * attention, mode="lines+markers", name="Attention (%)",
                           line={"color": METHOD_COLORS["attention"]}, row=rows, col=1,
                           secondary_y=True)  # fmt: skip
    if uniform is not None and (on_right or method == "attention"):
        share = 100 * uniform if on_right else uniform
        figure.add_scatter(x=np.arange(frames), y=share, mode="lines", name="Uniform share",
                           line={"color": "#6B6B6B", "dash": "dot"}, row=rows, col=1,
                           secondary_y=on_right)  # fmt: skip
    if on_right:
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


def deletion_figure(
    explanations: Mapping[str, Explanation], class_name: str, agreements: Sequence[Agreement] = ()
) -> go.Figure:
    """The class probability as steps are removed, most attributed first, per method, over the band
    of the random orders (lowest to highest at each point, their median dashed), on the full 0..1
    axis. Methods that rank alike (an `agreements` pair) share one line."""
    first = next(iter(explanations.values()))
    removed = first.points
    curves = first.random.curves
    figure = go.Figure()
    figure.add_scatter(x=removed, y=curves.max(axis=0), mode="lines", line={"width": 0}, hoverinfo="skip",
                       showlegend=False)  # fmt: skip
    figure.add_scatter(x=removed, y=curves.min(axis=0), mode="lines", line={"width": 0}, fill="tonexty",
                       fillcolor=RANDOM_BAND, name=f"{len(curves)} random orders (band)")  # fmt: skip
    figure.add_scatter(x=removed, y=np.median(curves, axis=0), mode="lines", name="Random orders (median)",
                       line={"color": "#6B6B6B", "dash": "dash"})  # fmt: skip
    merged = {a.second: a.first for a in agreements if a.first in explanations and a.second in explanations}
    for method, explanation in explanations.items():
        if method in merged:
            continue
        partners = [m for m, kept in merged.items() if kept == method]
        name = " = ".join(METHOD_LABELS[m] for m in [method, *partners])
        figure.add_scatter(x=removed, y=explanation.deletion_curve, mode="lines+markers", name=name,
                           line={"color": METHOD_COLORS[method]})  # fmt: skip
    figure.update_layout(
        title="Deletion curves: lower is more faithful",
        xaxis={"title": "steps removed"},
        yaxis={"title": f"p({class_name})", "range": [0, 1], "tickformat": ".1f"},
        margin=_MARGIN,
        height=340,
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def colour_scale_figure(peak: float) -> go.Figure:
    """Grad-CAM's shared colour scale (inferno), 0 to the clip's peak."""
    values = np.linspace(0.0, peak, 128)
    # The overlays' own colours, sampled, so the scale cannot drift from what the frames show.
    stops = np.linspace(0.0, 1.0, 11)
    scale = [
        [float(v), "rgb({},{},{})".format(*rgb)]
        for v, rgb in zip(stops, colours(stops[None])[0], strict=True)
    ]
    heatmap = go.Heatmap(z=[values], x=values, colorscale=scale, zmin=0.0, zmax=max(peak, 1e-12),
                         showscale=False, hovertemplate="%{x:.3g}<extra></extra>")  # fmt: skip
    figure = go.Figure(heatmap)
    figure.update_layout(
        title="Grad-CAM scale (every frame of this clip)",
        height=110,
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        yaxis={"visible": False},
        xaxis={"tickformat": ".2g"},
    )
    return figure
