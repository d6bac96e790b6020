"""The Metrics page: views of one split's predictions, shared with the Evaluation runs page
(which shows them for a stored run). Every function takes a `key` so two pages, or two runs,
never share widget state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core.evaluation.calibration import (
    DEFAULT_BINS,
    ClassCurve,
    calibration_table,
    class_calibration_table,
    precision_recall_curves,
    reliability_bins,
    roc_curves,
)
from core.evaluation.confusion import confusion_cells
from core.evaluation.predictions import ENSEMBLE, ENSEMBLE_TTA, SplitPredictions
from dashboard.context import DashboardContext, require_split
from dashboard.navigation import render_open_in_classify
from dashboard.plain_text import code, plain
from dashboard.theme import PERCENT_FORMAT, class_color_map, predictor_color_map, short_name
from dashboard.thumbnails import VideoFolder, thumbnail_column, with_thumbnails

CELL_TEXT = "#1F1F1F"
CHOSEN_CELL = "#E45756"
METRIC_LABELS = {"precision": "Precision", "recall": "Recall", "f1": "F1"}


def default_predictor(split: SplitPredictions) -> str:
    return ENSEMBLE_TTA if split.has_tta else ENSEMBLE


def percent_columns(*names: str) -> dict[str, st.column_config.NumberColumn]:
    return {name: st.column_config.NumberColumn(format=PERCENT_FORMAT) for name in names}


def choose_predictors(split: SplitPredictions, key: str, label: str = "Predictors") -> list[str]:
    return st.multiselect(
        label,
        split.predictor_names,
        default=split.predictor_names,
        format_func=short_name,
        key=f"{key}_predictors",
        bind="query-params",
    )


def choose_predictor(split: SplitPredictions, key: str, label: str) -> str:
    names = split.predictor_names
    return st.selectbox(
        label,
        names,
        index=names.index(default_predictor(split)),
        format_func=short_name,
        key=key,
        bind="query-params",
    )


def per_class_chart(table: pd.DataFrame, class_names: list[str]) -> go.Figure:
    long = table.melt(
        id_vars=["predictor", "class"], value_vars=list(METRIC_LABELS), var_name="metric", value_name="value"
    )
    long["metric"] = long["metric"].map(METRIC_LABELS)
    long["predictor"] = long["predictor"].map(short_name)
    figure = px.bar(
        long,
        x="predictor",
        y="value",
        color="class",
        barmode="group",
        facet_col="metric",
        color_discrete_map=class_color_map(class_names),
        category_orders={"class": class_names, "metric": list(METRIC_LABELS.values())},
        labels={"value": "%", "predictor": ""},
        height=420,
    )
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    figure.update_yaxes(range=[0, 105])
    return figure


def render_per_class(split: SplitPredictions, key: str) -> None:
    st.subheader("Per-class precision, recall and F1")
    chosen = choose_predictors(split, key)
    if not chosen:
        st.info("Choose at least one predictor.")
        return
    table = split.per_class_table(chosen)
    st.plotly_chart(per_class_chart(table, split.class_names), key=f"{key}_per_class_chart")
    shown = table.assign(predictor=table["predictor"].map(short_name))
    st.dataframe(
        shown,
        hide_index=True,
        key=f"{key}_per_class_table",
        column_config=percent_columns("precision", "recall", "f1"),
    )
    collapsed = [
        f"- {short_name(name)} on {class_name}: F1 {f1:.1f}% vs {reference:.1f}% (median of the others)"
        for name, class_name, f1, reference in split.collapsed_members()
        if name in chosen
    ]
    if collapsed:
        st.warning("Collapsed members (class F1 far below the others):\n" + "\n".join(collapsed))


def colored_class(name: str, colors: dict[str, str]) -> str:
    return f"<span style='color:{colors[name]}'><b>{name}</b></span>"


def cell_labels(cells: pd.DataFrame) -> list[str]:
    return [f"<b>{c}</b><br>{p:.1f}%" for c, p in zip(cells["count"], cells["row_percent"], strict=True)]


def confusion_chart(cells: pd.DataFrame, class_names: list[str], chosen: tuple[str, str]) -> go.Figure:
    """Square markers with the count and row share written in each cell; a scatter because
    plotly heatmaps report no clicks in this Streamlit version. The `chosen` (true, predicted)
    cell, whose videos are listed, gets a thick outline."""
    colors = class_color_map(class_names)
    is_chosen = [(t, p) == chosen for t, p in zip(cells["true_class"], cells["predicted_class"], strict=True)]
    ticks = [colored_class(name, colors) for name in class_names]
    figure = go.Figure(
        go.Scatter(
            x=cells["predicted_class"],
            y=cells["true_class"],
            mode="markers+text",
            marker={
                "symbol": "square",
                "size": 86,
                "color": cells["row_percent"],
                # Light enough at 100% for dark text, so text can keep one colour after a click.
                "colorscale": [[0.0, "#F7FBFF"], [1.0, "#4A98C9"]],
                "cmin": 0,
                "cmax": 100,
                "colorbar": {"title": "row %"},
                "line": {
                    "width": [5 if c else 1 for c in is_chosen],
                    "color": [CHOSEN_CELL if c else "#888" for c in is_chosen],
                },
            },
            text=cell_labels(cells),
            textfont={"color": CELL_TEXT, "size": 14},
            # Plotly fades unselected points after a click; every cell must stay readable.
            unselected={"marker": {"opacity": 1.0}, "textfont": {"color": CELL_TEXT}},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
        )
    )
    figure.update_xaxes(
        title="Predicted class", categoryorder="array", categoryarray=class_names,
        tickvals=class_names, ticktext=ticks, side="top",
    )  # fmt: skip
    figure.update_yaxes(
        title="True class", categoryorder="array", categoryarray=list(reversed(class_names)),
        tickvals=class_names, ticktext=ticks,
    )  # fmt: skip
    figure.update_layout(height=140 + 100 * len(class_names), width=240 + 110 * len(class_names))
    figure.update_layout(clickmode="event+select", dragmode=False, margin={"t": 80})
    return figure


def _select_clicked_cell(chart_key: str, true_key: str, predicted_key: str, class_names: list[str]) -> None:
    """Chart click -> the cell pickers, so a click and the pickers show the same cell."""
    points = st.session_state[chart_key].selection.points
    if points:
        # Cells are drawn row-major, so the point index is true * K + predicted.
        true_index, predicted_index = divmod(int(points[0]["point_index"]), len(class_names))
        st.session_state[true_key] = class_names[true_index]
        st.session_state[predicted_key] = class_names[predicted_index]


def chosen_class(key: str, class_names: list[str]) -> str:
    """A cell picker's class before the picker exists: this session's, else the link's, else the first."""
    for value in (st.session_state.get(key), st.query_params.get(key)):
        if value in class_names:
            return value
    return class_names[0]


def render_confusion(split: SplitPredictions, key: str, folder: VideoFolder | None = None) -> None:
    st.subheader("Confusion matrix")
    predictor = choose_predictor(split, f"{key}_confusion_predictor", "Predictor")
    metrics = split.metrics(predictor)
    cells = confusion_cells(metrics.confusion_matrix, split.class_names)
    chart_key, true_key, predicted_key = f"{key}_cm_chart", f"{key}_cm_true", f"{key}_cm_predicted"
    chosen = (chosen_class(true_key, split.class_names), chosen_class(predicted_key, split.class_names))
    left, right = st.columns([3, 2])
    with left:
        st.caption("Each cell: number of videos, and their share of the true class (row). Click a cell.")
        st.plotly_chart(
            confusion_chart(cells, split.class_names, chosen),
            key=chart_key,
            on_select=lambda: _select_clicked_cell(chart_key, true_key, predicted_key, split.class_names),
            selection_mode="points",
        )
    with right:
        true_class = st.selectbox("True class", split.class_names, key=true_key, bind="query-params")
        predicted_class = st.selectbox(
            "Predicted class", split.class_names, key=predicted_key, bind="query-params"
        )
    render_cell_videos(split, predictor, (true_class, predicted_class), key, folder)


def render_cell_videos(
    split: SplitPredictions, predictor: str, cell: tuple[str, str], key: str, folder: VideoFolder | None
) -> None:
    true_class, predicted_class = cell
    videos = split.videos_in_cell(
        predictor, split.class_names.index(true_class), split.class_names.index(predicted_class)
    )
    count = f"{len(videos)} video" if len(videos) == 1 else f"{len(videos)} videos"
    st.markdown(f"**{count}** — true {plain(true_class)}, predicted {plain(predicted_class)}")
    if videos.empty:
        return
    st.dataframe(
        with_thumbnails(videos.drop(columns="index"), folder),
        hide_index=True,
        key=f"{key}_cell_videos",
        column_config={**percent_columns("confidence"), **thumbnail_column()},
    )
    render_open_in_classify(videos["video"].tolist(), key)


def reliability_chart(split: SplitPredictions, predictors: list[str], n_bins: int) -> go.Figure:
    colors = predictor_color_map(split.predictor_names)
    figure = go.Figure(
        go.Scatter(
            x=[0, 100], y=[0, 100], mode="lines", name="perfect calibration",
            line={"dash": "dash", "color": "#999"},
        )
    )  # fmt: skip
    for name in predictors:
        bins = reliability_bins(split.labels, split.predictor_probabilities(name), n_bins)
        filled = bins[bins["count"] > 0]
        figure.add_trace(
            go.Scatter(
                x=filled["confidence"],
                y=filled["accuracy"],
                mode="lines+markers",
                name=short_name(name),
                line={"color": colors[name]},
                customdata=filled["count"],
                hovertemplate="confidence %{x:.1f}%<br>accuracy %{y:.1f}%<br>%{customdata} videos",
            )
        )
    figure.update_layout(
        xaxis_title="Confidence of the predicted class (%)", yaxis_title="Accuracy (%)", height=420
    )
    figure.update_xaxes(range=[0, 101])
    figure.update_yaxes(range=[0, 101])
    return figure


def render_calibration(split: SplitPredictions, key: str) -> None:
    st.subheader("Calibration")
    st.caption(
        "Reliability diagram over all classes: videos binned by the confidence of the predicted "
        "class; a calibrated predictor sits on the diagonal. ECE = count-weighted mean gap."
    )
    predictors = choose_predictors(split, f"{key}_calibration", "Predictors shown")
    n_bins = st.slider("Bins", 5, 20, DEFAULT_BINS, key=f"{key}_bins", bind="query-params")
    st.plotly_chart(reliability_chart(split, predictors, n_bins), key=f"{key}_reliability_chart")
    probabilities = {name: split.predictor_probabilities(name) for name in predictors}
    table = calibration_table(split.labels, probabilities, n_bins)
    if not table.empty:
        table["predictor"] = table["predictor"].map(short_name)
    st.dataframe(
        table,
        hide_index=True,
        key=f"{key}_ece_table",
        column_config={
            "ece": st.column_config.NumberColumn("ECE", format=PERCENT_FORMAT),
            "mean_confidence": st.column_config.NumberColumn("mean confidence", format=PERCENT_FORMAT),
            "accuracy": st.column_config.NumberColumn(format=PERCENT_FORMAT),
        },
    )
    render_class_calibration(split, probabilities, n_bins, key)


def render_class_calibration(
    split: SplitPredictions, probabilities: dict[str, np.ndarray], n_bins: int, key: str
) -> None:
    st.markdown(
        "**Per class** (one-vs-rest: each video's probability for the class against whether it is one)"
    )
    table = class_calibration_table(split.labels, probabilities, split.class_names, n_bins)
    if not table.empty:
        table["predictor"] = table["predictor"].map(short_name)
    st.dataframe(
        table,
        hide_index=True,
        key=f"{key}_class_ece_table",
        column_config={
            "ece": st.column_config.NumberColumn("class ECE", format=PERCENT_FORMAT),
            "mean_probability": st.column_config.NumberColumn(
                "mean probability", format=PERCENT_FORMAT, help="Mean probability given to the class"
            ),
            "share": st.column_config.NumberColumn(
                "share of videos", format=PERCENT_FORMAT, help="The class's share of the videos"
            ),
        },
    )


def curves_chart(
    curves: list[ClassCurve], x_title: str, y_title: str, colors: dict[str, str], diagonal: bool
) -> go.Figure:
    figure = go.Figure()
    if diagonal:
        figure.add_trace(
            go.Scatter(
                x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "#999"}, name="chance"
            )
        )
    for curve in curves:
        figure.add_trace(
            go.Scatter(
                x=curve.x,
                y=curve.y,
                mode="lines",
                name=f"{curve.class_name} (AUC {curve.area:.3f})",
                line={"color": colors[curve.class_name]},
            )
        )
    # Legend in rows under the plot and small margins: the plot keeps most of the figure's area.
    figure.update_layout(
        xaxis={"title": x_title, "range": [-0.02, 1.02]},
        yaxis={"title": y_title, "range": [-0.02, 1.02]},
        height=520,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
    )
    return figure


def render_curves(split: SplitPredictions, key: str) -> None:
    st.subheader("ROC and precision-recall, one class vs the rest")
    predictor = choose_predictor(split, f"{key}_curves_predictor", "Predictor for the curves")
    probabilities = split.predictor_probabilities(predictor)
    colors = class_color_map(split.class_names)
    left, right = st.columns(2)
    roc = roc_curves(split.labels, probabilities, split.class_names)
    pr = precision_recall_curves(split.labels, probabilities, split.class_names)
    left.plotly_chart(
        curves_chart(roc, "False-positive rate", "True-positive rate", colors, True), key=f"{key}_roc"
    )
    right.plotly_chart(curves_chart(pr, "Recall", "Precision", colors, False), key=f"{key}_pr")
    skipped = sorted(set(split.class_names) - {c.class_name for c in roc})
    if skipped:
        st.caption(
            f"No ROC curve for {plain(', '.join(skipped))}: the split has no video of that class or only it."
        )


def render_downloads(split: SplitPredictions, key: str, file_stem: str) -> None:
    st.subheader("Downloads")
    left, right = st.columns(2)
    left.download_button(
        "Metrics table (CSV)",
        split.per_class_table().to_csv(index=False),
        file_name=f"{file_stem}_metrics.csv",
        mime="text/csv",
        key=f"{key}_download_metrics",
        icon=":material/download:",
    )
    right.download_button(
        "Per-video predictions (CSV)",
        split.per_video_predictions().to_csv(index=False),
        file_name=f"{file_stem}_predictions.csv",
        mime="text/csv",
        key=f"{key}_download_predictions",
        icon=":material/download:",
    )


def render_metric_views(
    split: SplitPredictions, key: str, file_stem: str, videos: VideoFolder | None = None
) -> None:
    render_per_class(split, key)
    render_confusion(split, key, videos)
    render_calibration(split, key)
    render_curves(split, key)
    render_downloads(split, key, file_stem)


def render_page(context: DashboardContext) -> None:
    split = require_split(context)
    st.title("Metrics")
    st.caption(
        f"{code(context.analysed.path.name)} · {len(split.video_names)} videos · "
        f"{len(split.member_names)} members · TTA modes: {', '.join(split.modes)}"
    )
    folder = VideoFolder(context.paths, context.analysed.split)
    render_metric_views(split, key="metrics", file_stem=context.analysed.path.stem, videos=folder)
