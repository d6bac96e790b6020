"""Training history: loss, accuracy, F1 and learning-rate curves per model, best epochs, and an
epoch-by-epoch playback of per-class validation F1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.classes import CLASS_NAMES
from core.evaluation.predictions import SplitPredictions
from core.model.checkpoints import find_ensemble_checkpoints
from core.training.history import HistorySource, best_epochs, load_history_source
from core.training.snapshots import TARGET_ACCURACY, epoch_snapshot, history_models, model_epochs, next_epoch
from dashboard.context import DashboardContext
from dashboard.plain_text import code, plain
from dashboard.theme import COLLAPSED_LINE, PERCENT_FORMAT, class_color_map, predictor_color_map

EPOCH_KEY = "history_epoch"
# Streamlit drops a widget's state when its page is left; the epoch is also kept here to come back to.
SAVED_EPOCH_KEY = "history_epoch_saved"
# Set when Play restarts at the first epoch, so the next tick shows it instead of moving past it.
HOLD_KEY = "history_play_hold"
PLAYING_KEY = "history_playing"
PLAYBACK_MODEL_KEY = "history_playback_model"
PLAY_EVERY = "1s"
PANELS = (
    ("Loss", "train_loss", "val_loss"),
    ("Accuracy (%)", "train_acc", "val_acc"),
    ("Weighted F1 (%)", "train_f1", "val_f1"),
    ("Learning rate", "lr", None),
)


def model_label(model: int) -> str:
    return f"Model {model}"


def model_colors(models: Sequence[int]) -> dict[int, str]:
    colors = predictor_color_map([f"best_ensemble_model_{m}" for m in models])
    return {m: colors[f"best_ensemble_model_{m}"] for m in models}


def _add_series(figure: go.Figure, group: pd.DataFrame, column: str, panel: int, style: dict) -> None:
    if column not in group or group[column].isna().all():
        return
    row, col = divmod(panel, 2)
    figure.add_trace(
        go.Scatter(x=group["epoch"], y=group[column], mode="lines", **style), row=row + 1, col=col + 1
    )


def _add_markers(figure: go.Figure, marks: pd.Series, group: pd.DataFrame, color: str, label: str) -> None:
    """Best epoch (star) and early-stopping point (x) on the val accuracy and val F1 panels."""
    for panel, column in ((1, "val_acc"), (2, "val_f1")):
        if column not in group or group[column].isna().all():
            continue
        row, col = divmod(panel, 2)
        for epoch, symbol, what in (
            (marks["best_epoch"], "star", "best epoch"),
            (marks["last_epoch"], "x", "stopped"),
        ):
            value = group.loc[group["epoch"] == epoch, column]
            figure.add_trace(
                go.Scatter(
                    x=[epoch], y=value, mode="markers", marker={"symbol": symbol, "size": 13, "color": color},
                    name=f"{label} {what}", legendgroup=label, showlegend=False,
                    hovertemplate=f"{label} {what}: epoch {epoch}<br>%{{y:.1f}}<extra></extra>",
                ),
                row=row + 1, col=col + 1,
            )  # fmt: skip


def history_figure(
    history: pd.DataFrame, models: Sequence[int], collapsed: Mapping[int, str] | None = None
) -> go.Figure:
    """Curves per model; a member in `collapsed` (model -> class) is drawn thick and dashed, and
    its legend entry says on which class it collapsed."""
    collapsed = collapsed or {}
    figure = make_subplots(
        rows=2, cols=2, subplot_titles=[title for title, _, _ in PANELS], vertical_spacing=0.16
    )
    colors = model_colors(sorted(history["model"].unique()))
    marks = best_epochs(history).set_index("model")
    for model in models:
        group = history[history["model"] == model].sort_values("epoch")
        label, color = model_label(model), colors[model]
        if model in collapsed:
            label = f"{label} (collapsed on {collapsed[model]})"
        val_line = {"color": color, **(COLLAPSED_LINE if model in collapsed else {})}
        for panel, (_, train, val) in enumerate(PANELS):
            first = panel == 0
            train_style = {"name": f"{label} train", "legendgroup": label, "showlegend": first}
            train_style["line"] = {"color": color, "dash": "dot" if val else "solid"}
            _add_series(figure, group, train, panel, train_style)
            if val:
                val_style = {"name": f"{label} val", "legendgroup": label, "showlegend": first}
                _add_series(figure, group, val, panel, {**val_style, "line": val_line})
        _add_markers(figure, marks.loc[model], group, color, label)
    epochs = int(history["epoch"].max())
    figure.update_xaxes(tick0=1, dtick=max(1, round(epochs / 10)))
    figure.update_xaxes(title_text="epoch", row=2)
    figure.update_layout(height=680, legend={"orientation": "h", "y": -0.12})
    return figure


def collapsed_models(split: SplitPredictions | None) -> dict[int, str]:
    """Model number -> class, for members the Overview flags as collapsed (from their names)."""
    if split is None:
        return {}
    found = {}
    for name, class_name, _, _ in split.collapsed_members():
        number = name.removeprefix("best_ensemble_model_")
        if number.isdigit():
            found[int(number)] = class_name
    return found


def render_curves(history: pd.DataFrame, models: list[int], collapsed: Mapping[int, str]) -> None:
    st.plotly_chart(history_figure(history, models, collapsed), key="history_curves")
    st.caption(
        "Solid: validation; dotted: training. ★ best validation epoch (kept); ✕ last epoch (early stop)."
        + (" Thick dashed: a member flagged as collapsed." if collapsed else "")
    )
    table = best_epochs(history[history["model"].isin(models)])
    table["model"] = table["model"].map(model_label)
    st.dataframe(
        table,
        hide_index=True,
        key="history_best_epochs",
        column_config={"best_val_acc": st.column_config.NumberColumn("best val acc", format=PERCENT_FORMAT)},
    )


def toggle_playing(epochs: list[int]) -> None:
    """Play/pause button callback; playing from the last epoch starts over."""
    playing = not st.session_state.get(PLAYING_KEY, False)
    if playing and st.session_state.get(EPOCH_KEY) == epochs[-1]:
        st.session_state[EPOCH_KEY] = epochs[0]
        st.session_state[HOLD_KEY] = True
    st.session_state[PLAYING_KEY] = playing


def class_f1_chart(snapshot_f1: pd.DataFrame, mean_f1: float, class_names: list[str]) -> go.Figure:
    figure = px.bar(
        snapshot_f1,
        x="class",
        y="val_f1",
        color="class",
        color_discrete_map=class_color_map(class_names),
        text=[f"{v:.1f}%" for v in snapshot_f1["val_f1"]],
        labels={"val_f1": "validation F1 (%)", "class": ""},
        height=380,
    )
    figure.add_hline(y=mean_f1, line={"color": "#1F1F1F", "dash": "dash"})
    figure.add_hline(y=TARGET_ACCURACY, line={"color": "#E45756", "dash": "dot"})
    # Line labels go in the title: inside the plot they collide with the bars' labels.
    figure.update_layout(
        title={
            "text": f"mean {mean_f1:.1f}% (dashed) · the original's {TARGET_ACCURACY:.0f}% goal (dotted)",
            "font": {"size": 13},
        }
    )
    figure.update_layout(showlegend=False, yaxis_range=[0, 105])
    return figure


def advance_playback(epochs: list[int]) -> None:
    """One playback tick: next epoch, or stop at the end (and rerun the app to stop ticking)."""
    following = next_epoch(epochs, st.session_state[EPOCH_KEY])
    if following is None:
        st.session_state[PLAYING_KEY] = False
        st.rerun(scope="app")
    st.session_state[EPOCH_KEY] = following


def choose_start_epoch(epochs: list[int]) -> None:
    """Keep the slider's epoch; else the one this session left the page at; else the link's
    (`?history_epoch=`, applied by the slider itself); else the last epoch."""
    state = st.session_state
    if state.get(EPOCH_KEY) in epochs:
        return
    if state.get(SAVED_EPOCH_KEY) in epochs:
        state[EPOCH_KEY] = state[SAVED_EPOCH_KEY]
    elif EPOCH_KEY not in st.query_params:
        state[EPOCH_KEY] = epochs[-1]


def playback(history: pd.DataFrame, model: int, class_names: list[str]) -> None:
    epochs = model_epochs(history, model)
    choose_start_epoch(epochs)
    if st.session_state.get(PLAYING_KEY) and not st.session_state.pop(HOLD_KEY, False):
        advance_playback(epochs)
    epoch = st.select_slider("Epoch", options=epochs, key=EPOCH_KEY, bind="query-params")
    st.session_state[SAVED_EPOCH_KEY] = epoch
    snapshot = epoch_snapshot(history, model, epoch, class_names)
    columns = st.columns(3)
    columns[0].metric("Val accuracy", f"{snapshot.val_acc:.1f}%")
    columns[1].metric("Val weighted F1", "–" if snapshot.val_f1 is None else f"{snapshot.val_f1:.1f}%")
    columns[2].metric("Mean per-class F1", f"{snapshot.mean_f1:.1f}%")
    if snapshot.class_f1.empty:
        st.info("This history has no per-class validation F1 (`class_<k>_f1` columns).")
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(
        class_f1_chart(snapshot.class_f1, snapshot.mean_f1, class_names), key="history_class_f1"
    )
    left.caption(
        f"Dotted: {TARGET_ACCURACY:.0f}%, the accuracy goal line the original project drew on its plots "
        "(its ensemble + TTA reached about 95% on the real test set)."
    )
    right.dataframe(
        snapshot.class_f1,
        hide_index=True,
        key="history_class_f1_table",
        column_config={"val_f1": st.column_config.NumberColumn("val F1", format=PERCENT_FORMAT)},
    )


def render_playback(history: pd.DataFrame, models: list[int], class_names: list[str]) -> None:
    st.subheader("Playback")
    model = st.selectbox(
        "Model", models, format_func=model_label, key=PLAYBACK_MODEL_KEY, bind="query-params"
    )
    epochs = model_epochs(history, model)
    playing = bool(st.session_state.get(PLAYING_KEY))
    st.button(
        "Pause" if playing else "Play",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=toggle_playing,
        args=(epochs,),
        key="history_play",
    )
    st.fragment(playback, run_every=PLAY_EVERY if playing else None)(history, model, class_names)


def render_source(source: HistorySource) -> None:
    if source.csv_missing:
        st.info(f"{plain(source.csv_problem)}. Showing the {source.origin} instead.")
    elif source.csv_problem:
        st.error(
            f"{plain(source.csv_problem)}. Fix or regenerate the file; showing the {source.origin} meanwhile."
        )
    else:
        st.caption(f"From {code(source.origin)}")


def render_page(context: DashboardContext) -> None:
    paths = context.paths
    st.title("Training history")
    source = load_history_source(paths.training_metrics_csv, find_ensemble_checkpoints(paths.models_dir))
    render_source(source)
    if source.empty:
        st.warning(
            f"No training history to show: no readable {code(paths.training_metrics_csv.name)} in "
            f"{code(paths.models_dir)}, and no checkpoint there stores a `history`."
        )
        st.stop()
    history = source.table
    class_names = context.split.class_names if context.split else list(CLASS_NAMES)
    all_models = history_models(history)
    models = st.multiselect(
        "Models",
        all_models,
        default=all_models,
        format_func=model_label,
        key="history_models",
        bind="query-params",
    )
    if not models:
        st.info("Choose at least one model.")
        st.stop()
    render_curves(history, models, collapsed_models(context.split))
    render_playback(history, models, class_names)
