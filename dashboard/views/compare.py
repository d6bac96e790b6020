"""Compare models: per-model vs ensemble vs TTA scores, how much the members agree, an ensemble
composer over stored probabilities, and the videos the members disagree on."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.evaluation.composer import COMPOSED, agreement_matrix, composition_table, member_contributions
from core.evaluation.predictions import SplitPredictions
from core.model.tta import unchanged_modes
from dashboard.charts import agreement_heatmap, class_f1_bars
from dashboard.context import DashboardContext, require_split
from dashboard.navigation import open_in_classify
from dashboard.theme import MAX_PICKER_OPTIONS, PERCENT_FORMAT, pct, short_name
from dashboard.thumbnails import VideoFolder, thumbnail_column, with_thumbnails
from dashboard.views.candidates import with_candidates
from dashboard.views.promotion_marks import render_promotion_marks


def _percent_columns(table: pd.DataFrame) -> dict[str, st.column_config.NumberColumn]:
    numeric = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    return {c: st.column_config.NumberColumn(format=PERCENT_FORMAT) for c in numeric}


def _named(table: pd.DataFrame, column: str = "predictor") -> pd.DataFrame:
    return table.assign(**{column: [short_name(p) for p in table[column]]})


def _readable(table: pd.DataFrame) -> pd.DataFrame:
    return table.rename(columns={"f1_weighted": "weighted F1"})


def _predictors_as_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Scores as rows, one narrow column per predictor: every class row stays in view at 1280 px,
    where a column per class ran off the right edge."""
    return _readable(table).set_index("predictor").T.rename_axis("score").reset_index()


def render_summary(split: SplitPredictions) -> None:
    st.subheader("Each model, the ensemble and the ensemble with TTA")
    table = _predictors_as_columns(_named(split.summary_table()))
    st.dataframe(table, hide_index=True, column_config=_percent_columns(table))


def render_agreement(split: SplitPredictions) -> None:
    st.subheader("How often the members agree")
    left, right = st.columns(2)
    left.plotly_chart(
        agreement_heatmap(agreement_matrix(split, "disagreement"), "Disagreement rate (%)", ".1f", "Oranges")
    )
    right.plotly_chart(agreement_heatmap(agreement_matrix(split, "kappa"), "Cohen's kappa", ".2f", "Blues"))
    st.caption("Unaugmented predictions of each pair of members on the same videos.")


def composer_controls(
    split: SplitPredictions, original_members: Sequence[str] = ()
) -> tuple[list[str], list[float], list[str]]:
    columns = st.columns(len(split.member_names))
    members, weights = [], []
    for column, name in zip(columns, split.member_names, strict=True):
        with column:
            chosen = not original_members or name in original_members
            if st.checkbox(short_name(name), value=chosen, key=f"compare_use_{name}", bind="query-params"):
                weight = st.slider(
                    "weight", 0.0, 2.0, 1.0, 0.1, key=f"compare_weight_{name}", bind="query-params"
                )
                members.append(name)
                weights.append(weight)
    modes = st.multiselect(
        "TTA modes averaged",
        split.modes,
        default=["original"],
        key="compare_modes",
        bind="query-params",
        help="`original` alone is the ensemble without test-time augmentation.",
    )
    return members, weights, modes


def render_composer(split: SplitPredictions, context: DashboardContext | None = None) -> None:
    """With a context, retrained candidates can join the members (the reference rows stay the
    ensemble as it is)."""
    st.subheader("Ensemble composer")
    st.caption(
        "Toggle members, set their weights and choose TTA modes; scores update from stored probabilities."
    )
    reference, split = split, with_candidates(context, split) if context is not None else split
    members, weights, modes = composer_controls(split, reference.member_names)
    if not members or sum(weights) <= 0 or not modes:
        st.warning("Choose at least one member with a weight above zero and at least one TTA mode.")
        return
    table = composition_table(split, members, weights, modes, reference)
    composed, reference = table.iloc[0], table.iloc[1]
    columns = st.columns(2 + len(split.class_names))
    for column, key, label in (
        (columns[0], "accuracy", "Accuracy"),
        (columns[1], "f1_weighted", "Weighted F1"),
    ):
        change = composed[key] - reference[key]
        column.metric(label, pct(composed[key]), f"{change:+.1f} pp" if abs(change) >= 0.05 else None)
    for column, name in zip(columns[2:], split.class_names, strict=True):
        column.metric(f"F1 {name}", pct(composed[f"F1 {name}"]))
    st.caption("Changes are against the standard ensemble: all members, equal weights, no TTA.")
    shown = _named(table.replace({"predictor": {COMPOSED: "Your composition"}}))
    st.plotly_chart(class_f1_bars(shown, split.class_names, "Per-class F1"))
    by_predictor = _predictors_as_columns(shown)
    st.dataframe(
        by_predictor,
        hide_index=True,
        key="compare_composer_table",
        column_config=_percent_columns(by_predictor),
    )
    contributions = member_contributions(split, members, weights, modes)
    if not contributions.empty:
        st.markdown("**What each chosen member adds** (the composition with it minus without it)")
        st.dataframe(_named(contributions, "member"), hide_index=True, column_config=_contribution_columns())


def _contribution_columns() -> dict[str, st.column_config.NumberColumn]:
    percent = st.column_config.NumberColumn(format=PERCENT_FORMAT)
    points = st.column_config.NumberColumn(format="%+.1f pp")
    return {
        "accuracy without": percent,
        "weighted F1 without": percent,
        "accuracy added": points,
        "weighted F1 added": points,
    }


def render_disagreements(split: SplitPredictions, folder: VideoFolder | None = None) -> None:
    st.subheader("Videos the members disagree on")
    table = split.disagreement_videos()
    if table.empty:
        st.success("All members give the same class on every video.")
        return
    columns = ["video", "true_class", "predicted_class", "confidence", "correct", "member_votes"]
    st.caption(
        f"{len(table)} of {len(split.video_names)} videos. Select a row to open it on the Classify page."
    )
    event = st.dataframe(
        with_thumbnails(table[columns], folder),
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="compare_disagreements",
        # Fixed widths (plus the selection column) that add up to less than the main column's 820 px
        # at 1280: long video names and vote lists are elided in their cell (full text on hover).
        column_config={
            **thumbnail_column(),
            "video": st.column_config.TextColumn(width=170),
            "true_class": st.column_config.TextColumn("true class", width=110),
            "predicted_class": st.column_config.TextColumn(
                "verdict", width=110, help="The ensemble's verdict"
            ),
            "confidence": st.column_config.NumberColumn("confidence", format=PERCENT_FORMAT, width=85),
            "correct": st.column_config.CheckboxColumn(width=60),
            "member_votes": st.column_config.TextColumn("member votes", width=170),
        },
    )
    if event.selection.rows:
        open_in_classify(table["video"].iloc[event.selection.rows[0]])
    left, right = st.columns([4, 1])
    # The first videos only: a select box of 100k entries is slow to send; the table scrolls.
    video = left.selectbox(
        "Or pick one", table["video"].head(MAX_PICKER_OPTIONS).tolist(), key="compare_disagreement_video"
    )
    if right.button("Open in Classify", key="compare_open"):
        open_in_classify(video)


def render_unchanged_modes(split: SplitPredictions, max_frames: int) -> None:
    """A mode that returns every stored sequence as it is counts the original view twice in any
    TTA mean; say so (the demo's CI scale, 9 steps, is such a case for speed_up)."""
    same = [m for m in unchanged_modes(max_frames) if m in split.modes]
    if same:
        st.info(
            f"On this features file (at most {max_frames} steps per video) {', '.join(same)} "
            "returns every sequence unchanged: it repeats the original view in any TTA mean "
            "(speed_up needs more than 10 steps, speed_down more than 5).",
            icon=":material/info:",
        )


def render_page(context: DashboardContext) -> None:
    st.title("Compare models")
    split = require_split(context)
    render_promotion_marks(context)
    render_summary(split)
    render_agreement(split)
    render_composer(split, context)
    if context.analysed is not None:
        render_unchanged_modes(split, context.analysed.max_frames)
    folder = None if context.analysed is None else VideoFolder(context.paths, context.analysed.split)
    render_disagreements(split, folder)
