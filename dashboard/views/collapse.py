"""Collapse inspector: one member on one class — its F1 beside the others', where the class's
videos went, how sure it was, when the class's validation F1 fell, and the ensemble without it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.demo.collapse import demo_notes, describe
from core.evaluation.collapse import (
    EnsembleCost,
    class_f1_comparison,
    class_probabilities,
    confusion_rows,
    ensemble_cost,
    member_number,
    probability_summary,
    summary_line,
    weakest_class,
)
from core.evaluation.predictions import SplitPredictions
from core.model.checkpoints import find_ensemble_checkpoints
from core.training.history import class_f1_over_epochs, epoch_marks, load_history_source
from dashboard import url_state
from dashboard.context import DashboardContext, require_split
from dashboard.navigation import render_open_in_classify, take_inspect_request
from dashboard.plain_text import code, plain
from dashboard.theme import PERCENT_FORMAT, predictor_color_map, short_name
from dashboard.thumbnails import VideoFolder, thumbnail_column, with_thumbnails
from dashboard.views.explain_panel import render_collapse_explanations
from dashboard.views.retrain_panel import render_retrain_panel

MEMBER_KEY = "collapse_member"
CLASS_KEY = "collapse_class"
# The member the class picker was last filled for: picking another member picks its weakest class.
CLASS_FOR_KEY = "collapse_class_for"
MEMBER_PARAM, CLASS_PARAM = "member", "class"
INSPECTED = "background-color: #FDE2C4"
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def apply_request(split: SplitPredictions) -> None:
    """Preselect what another page asked for, before the pickers exist."""
    request = take_inspect_request()
    if request is None:
        return
    member, class_name = request
    if member in split.member_names:
        st.session_state[MEMBER_KEY] = member
        if class_name in split.class_names:
            st.session_state[CLASS_KEY] = class_name
            st.session_state[CLASS_FOR_KEY] = member
        else:
            st.session_state.pop(CLASS_KEY, None)


def restore_from_link(split: SplitPredictions) -> None:
    """A reloaded or shared link's member and class (`?member=&class=`), on a session's first run."""
    if MEMBER_KEY in st.session_state or st.query_params.get(MEMBER_PARAM) not in split.member_names:
        return
    member = st.query_params[MEMBER_PARAM]
    st.session_state[MEMBER_KEY] = member
    if st.query_params.get(CLASS_PARAM) in split.class_names:
        st.session_state[CLASS_KEY] = st.query_params[CLASS_PARAM]
        st.session_state[CLASS_FOR_KEY] = member


def choose(split: SplitPredictions) -> tuple[str, int]:
    restore_from_link(split)
    left, right = st.columns(2)
    member = left.selectbox("Member", split.member_names, format_func=short_name, key=MEMBER_KEY)
    stale = st.session_state.get(CLASS_FOR_KEY) != member
    if stale or st.session_state.get(CLASS_KEY) not in split.class_names:
        st.session_state[CLASS_KEY] = split.class_names[weakest_class(split, member)]
    st.session_state[CLASS_FOR_KEY] = member
    class_name = right.selectbox("Class", split.class_names, key=CLASS_KEY)
    url_state.write_param(MEMBER_PARAM, member)
    url_state.write_param(CLASS_PARAM, class_name)
    return member, split.class_names.index(class_name)


def _highlight_row(table: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    styles.loc[table[column] == value, :] = INSPECTED
    return styles


# Narrow enough for two columns per class beside the member name at 1280 px; the full header
# shows on hover.
NUMBER_COLUMN_WIDTH = 95


def _member_table(table: pd.DataFrame, member: str, percent: list[str]) -> None:
    shown = table.assign(member=[short_name(m) for m in table["member"]])
    styled = shown.style.apply(_highlight_row, axis=None, column="member", value=short_name(member))
    widths = {c: st.column_config.Column(width=NUMBER_COLUMN_WIDTH, help=c) for c in percent}
    st.dataframe(
        styled.format("{:.1f}%", subset=percent, na_rep="not recorded"), hide_index=True, column_config=widths
    )


def class_f1_long(table: pd.DataFrame, class_names: list[str]) -> pd.DataFrame:
    """One row per class and measure (recorded, recomputed), one column per member: 8 rows of
    4 members fit at 1280 px where 8 columns of `<class> recorded` did not."""
    rows = []
    for class_name in class_names:
        for measure in ("recorded", "recomputed"):
            values = table.set_index("member")[f"{class_name} {measure}"]
            rows.append({"class": class_name, "F1": measure, **{short_name(m): v for m, v in values.items()}})
    return pd.DataFrame(rows)


def render_class_f1(split: SplitPredictions, recorded: dict, member: str) -> None:
    st.subheader("Per-class F1: this member vs the others")
    table = class_f1_long(class_f1_comparison(split, recorded), split.class_names)
    members = [short_name(m) for m in split.member_names]
    styled = table.style.apply(
        lambda column: [INSPECTED] * len(column) if column.name == short_name(member) else [""] * len(column)
    )
    st.dataframe(
        styled.format("{:.1f}%", subset=members, na_rep="not recorded"),
        hide_index=True,
        column_config={m: st.column_config.Column(width=NUMBER_COLUMN_WIDTH) for m in members},
    )
    st.caption(
        "Recorded: at training time (validation). Recomputed: unaugmented on the analysed split. "
        "The inspected member's column is shaded."
    )


def render_confusion(split: SplitPredictions, member: str, class_index: int) -> pd.DataFrame:
    class_name = split.class_names[class_index]
    st.subheader(f"Where its {plain(class_name)} videos went")
    rows = confusion_rows(split, class_index)
    _member_table(rows, member, list(split.class_names))
    videos = int(rows["videos"].iloc[0])
    st.caption(f"Each row: the share of the {videos} {plain(class_name)} videos a member "
               "predicted as each class (its confusion-matrix row, in percent).")  # fmt: skip
    return rows


def probability_figure(probabilities: pd.DataFrame, class_name: str) -> go.Figure:
    colors = predictor_color_map(list(dict.fromkeys(probabilities["member"])))
    figure = go.Figure()
    for member, group in probabilities.groupby("member", sort=False):
        figure.add_box(
            y=group["probability"], name=short_name(member), marker_color=colors[member],
            boxpoints="all", jitter=0.4, pointpos=0, text=group["video"],
            hovertemplate="%{text}<br>p = %{y:.3f}<extra></extra>",
        )  # fmt: skip
    figure.update_layout(
        title=f"Probability for {class_name} on its own videos",
        yaxis={"title": f"p({class_name})", "range": [0, 1]},
        showlegend=False,
        margin=_MARGIN,
        height=380,
    )
    return figure


def render_failure_mode(split: SplitPredictions, member: str, class_index: int) -> pd.DataFrame:
    class_name = split.class_names[class_index]
    st.subheader("How it fails")
    probabilities = class_probabilities(split, class_index)
    st.plotly_chart(probability_figure(probabilities, class_name), key="collapse_probabilities")
    summary = probability_summary(probabilities)
    shown = summary.assign(member=[short_name(m) for m in summary["member"]])
    styled = shown.style.apply(_highlight_row, axis=None, column="member", value=short_name(member))
    styled = styled.format("{:.3f}", subset=["median probability"])
    st.dataframe(styled.format("{:.0f}%", subset=["confidently wrong share"]), hide_index=True)
    st.caption("Confidently wrong: median probability for the true class below 0.2; undecided: below 0.5.")
    return summary


def epochs_figure(curves: pd.DataFrame, marks: pd.DataFrame, inspected: int, class_name: str) -> go.Figure:
    models = sorted(curves["model"].unique())
    colors = predictor_color_map([f"model {m}" for m in models])
    figure = go.Figure()
    for model in models:
        group = curves[curves["model"] == model]
        mine = model == inspected
        figure.add_scatter(
            x=group["epoch"], y=group["f1"], mode="lines", name=f"Model {model}",
            line={"color": colors[f"model {model}"], "width": 4 if mine else 1.5},
        )  # fmt: skip
        mark = marks[marks["model"] == model]
        if mark.empty:
            continue
        best = int(mark["best_epoch"].iloc[0])
        figure.add_scatter(
            x=[best], y=group.loc[group["epoch"] == best, "f1"], mode="markers", showlegend=False,
            marker={"symbol": "star", "size": 14, "color": colors[f"model {model}"]},
            hovertemplate=f"Model {model} saved epoch {best}<extra></extra>",
        )  # fmt: skip
        if mine:
            figure.add_vline(x=best, line_dash="dot", annotation_text=f"saved epoch {best}")
            last = int(mark["last_epoch"].iloc[0])
            figure.add_vline(x=last, line_dash="dash", annotation_text=f"early stop {last}",
                             annotation_position="bottom right")  # fmt: skip
    figure.update_layout(
        title=f"Validation F1 for {class_name} per epoch",
        xaxis={"title": "epoch"},
        yaxis={"title": "F1 (%)", "range": [0, 100]},
        margin=_MARGIN,
        height=380,
    )
    return figure


def render_epochs(context: DashboardContext, member: str, class_index: int) -> None:
    class_name = context.split.class_names[class_index]  # type: ignore[union-attr]
    st.subheader("When it failed")
    paths = context.paths
    source = load_history_source(paths.training_metrics_csv, find_ensemble_checkpoints(paths.models_dir))
    curves = class_f1_over_epochs(source.table, class_index)
    if curves.empty:
        st.info(f"No per-class validation F1 in the training history ({code(source.origin)}).")
        return
    inspected = member_number(member, context.member_names.index(member) + 1)
    st.plotly_chart(epochs_figure(curves, epoch_marks(source.table), inspected, class_name),
                    key="collapse_epochs")  # fmt: skip
    st.caption(f"From {code(source.origin)}. Stars: each model's saved (best val accuracy) epoch; "
               "lines: the inspected model's saved epoch and early stop.")  # fmt: skip


def _flip_list(title: str, table: pd.DataFrame, key: str, folder: VideoFolder | None) -> None:
    st.markdown(f"**{title}** ({len(table)})")
    if table.empty:
        st.caption("None.")
        return
    st.dataframe(
        with_thumbnails(table, folder), hide_index=True, key=f"{key}_table", column_config=thumbnail_column()
    )
    render_open_in_classify(table["video"].tolist(), key)


def render_cost(
    split: SplitPredictions, member: str, cost: EnsembleCost, folder: VideoFolder | None = None
) -> None:
    st.subheader("What it costs")
    columns = st.columns(3)
    columns[0].metric("Accuracy change without it", f"{cost.accuracy_change:+.1f} pp")
    columns[1].metric("Weighted F1 change without it", f"{cost.f1_change:+.1f} pp")
    columns[2].metric("McNemar p-value", f"{cost.mcnemar.p_value:.3g}")
    comparison = cost.comparison(split.class_names)
    st.dataframe(
        comparison,
        hide_index=True,
        column_config={
            "with": st.column_config.NumberColumn(f"with {short_name(member)}", format=PERCENT_FORMAT),
            "without": st.column_config.NumberColumn(f"without {short_name(member)}", format=PERCENT_FORMAT),
            "change": st.column_config.NumberColumn("change (pp)", format="%+.1f"),
        },
    )
    st.caption("Unaugmented soft-vote ensembles; exact McNemar test on the videos exactly one gets right.")
    # One above the other: side by side, half the main column hid all but two of the four columns.
    _flip_list("Right only without it", cost.gained_without, "collapse_gained", folder)
    _flip_list("Right only with it", cost.lost_without, "collapse_lost", folder)


def render_page(context: DashboardContext) -> None:
    st.title("Collapse inspector")
    split = require_split(context)
    if len(split.member_names) < 2:
        st.info("The inspector compares a member with the others; load at least two members.")
        st.stop()
    apply_request(split)
    member, class_index = choose(split)
    class_name = split.class_names[class_index]
    try:
        recorded = context.recorded()
    except ValueError as exc:
        st.warning(f"{plain(exc)}; recorded numbers are left out.")
        recorded = {}
    note = demo_notes(context.members.members).get(member)
    if note is not None:
        st.info(describe(note), icon=":material/science:")
    cost = ensemble_cost(split, member)
    summary_slot = st.empty()
    render_class_f1(split, recorded, member)
    rows = render_confusion(split, member, class_index).set_index("member")
    summary = render_failure_mode(split, member, class_index).set_index("member")
    render_collapse_explanations(context, split, member, class_index)
    render_epochs(context, member, class_index)
    folder = None if context.analysed is None else VideoFolder(context.paths, context.analysed.split)
    render_cost(split, member, cost, folder)
    line = summary_line(short_name(member), class_name, rows.loc[member], summary.loc[member, "mode"],
                        float(summary.loc[member, "median probability"]), cost)  # fmt: skip
    summary_slot.info(line, icon=":material/summarize:")
    analysed = context.analysed.path.name if context.analysed else "the analysed split"
    st.caption(f"Recomputed on {code(analysed)} ({len(split.video_names)} videos).")
    render_retrain_panel(context, member, class_index)
