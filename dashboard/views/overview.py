"""Overview: what is loaded, headline scores with 95% intervals, whether TTA helps significantly,
recorded vs recomputed numbers per checkpoint, and collapsed members."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.demo.collapse import DemoNote, demo_notes, describe
from core.evaluation.predictions import (
    ENSEMBLE,
    ENSEMBLE_TTA,
    SplitPredictions,
    recorded_vs_recomputed,
    recorded_vs_recomputed_rows,
)
from dashboard.charts import interval_chart
from dashboard.context import DashboardContext, ReferenceSplit, reference_split, require_split
from dashboard.navigation import render_inspect_button
from dashboard.plain_text import code, plain
from dashboard.theme import PERCENT_FORMAT, pct, pct_interval, short_name
from dashboard.views.promotion_marks import render_promotion_marks

# Recomputed and recorded numbers are shown to one decimal; smaller gaps are rounding noise.
DIFFERENCE_TOLERANCE = 0.1
HIGHLIGHT = "background-color: #FDE2C4"


def render_loaded(context: DashboardContext, split: SplitPredictions) -> None:
    analysed = context.analysed
    columns = st.columns(4)
    columns[0].metric("Ensemble members", len(context.members.members))
    columns[1].metric("Analysed split", analysed.split if analysed else "–")
    columns[2].metric("Videos", len(split.video_names))
    columns[3].metric("TTA modes", len(split.modes))
    recipe = f" · recipe {analysed.recipe.to_json()}" if analysed.recipe else " · recipe not recorded"
    st.caption(f"Features: {code(analysed.path.name)}{recipe}")
    rows = [
        {
            "checkpoint": short_name(m.name),
            "file": m.path.name,
            "epoch": m.epoch,
            "best val acc (recorded)": m.recorded_val_acc,
            "hidden": m.config.hidden_dim,
            "LSTM layers": m.config.num_lstm_layers,
            "heads": m.config.num_attention_heads,
            "seed": m.seed,
        }
        for m in context.members.members
    ]
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        column_config={"best val acc (recorded)": st.column_config.NumberColumn(format=PERCENT_FORMAT)},
    )


def _intervals(table: pd.DataFrame, low: str, high: str) -> list[str]:
    return [pct_interval(lo, hi) for lo, hi in zip(table[low], table[high], strict=True)]


def render_headline(split: SplitPredictions) -> pd.DataFrame:
    st.subheader("Headline scores")
    table = split.headline_table()
    shown = pd.DataFrame(
        {
            "predictor": [short_name(p) for p in table["predictor"]],
            "accuracy": table["accuracy"],
            "accuracy 95% CI": _intervals(table, "accuracy_low", "accuracy_high"),
            "weighted F1": table["f1_weighted"],
            "weighted F1 95% CI": _intervals(table, "f1_low", "f1_high"),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config={
            "accuracy": st.column_config.NumberColumn(format=PERCENT_FORMAT),
            "weighted F1": st.column_config.NumberColumn(format=PERCENT_FORMAT),
        },
    )
    st.caption("95% percentile-bootstrap intervals over videos (2000 resamples).")
    left, right = st.columns(2)
    left.plotly_chart(interval_chart(table, "accuracy", "accuracy_low", "accuracy_high", "Accuracy"))
    right.plotly_chart(interval_chart(table, "f1_weighted", "f1_low", "f1_high", "Weighted F1"))
    return table


def p_value_text(p_value: float) -> str:
    return f"{p_value:.3f}" if p_value >= 0.001 else f"{p_value:.1e}"


def render_mcnemar(split: SplitPredictions) -> None:
    if not split.has_tta:
        st.info("Only unaugmented predictions are available, so there is no TTA comparison.")
        return
    result = split.mcnemar(ENSEMBLE, ENSEMBLE_TTA)
    st.metric("McNemar p-value, ensemble vs ensemble + TTA", p_value_text(result.p_value))
    st.caption(
        f"Exact paired test on the videos exactly one of them gets right: ensemble alone right on "
        f"{result.only_a_correct}, ensemble + TTA alone right on {result.only_b_correct}. "
        "p < 0.05 means the difference is unlikely to be chance."
    )


def render_collapsed(splits: list[tuple[str, SplitPredictions]], notes: dict[str, DemoNote]) -> None:
    st.subheader("Collapsed members")
    flags = [(name, *flag) for name, split in splits for flag in split.collapsed_members()]
    for number, (file_name, member, class_name, f1, others) in enumerate(flags):
        st.warning(
            f"**{plain(short_name(member))}** looks collapsed on **{plain(class_name)}** "
            f"in {code(file_name)}: "
            f"F1 {pct(f1)} while the other members' median is {pct(others)}.",
            icon=":material/flag:",
        )
        if member in notes:
            st.caption(describe(notes[member]))
        label = f"Inspect {short_name(member)}"
        render_inspect_button(member, class_name, label, f"inspect_collapse_{number}")
    if not flags:
        names = ", ".join(code(name) for name, _ in splits)
        st.success(f"No member's class F1 is 30 points or more below the other members' on {names}.")


def _highlight_differences(table: pd.DataFrame) -> pd.DataFrame:
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    for column in [c for c in table.columns if c.endswith("difference")]:
        notable = pd.to_numeric(table[column], errors="coerce").abs() >= DIFFERENCE_TOLERANCE
        styles.loc[notable, column] = HIGHLIGHT
    return styles


def render_recorded(context: DashboardContext, reference: ReferenceSplit) -> None:
    st.subheader("Recorded vs recomputed, per checkpoint")
    try:
        recorded = context.recorded()
    except ValueError as exc:
        st.error(f"{plain(exc)}. Fix or remove the file to compare recorded numbers.")
        return
    table = recorded_vs_recomputed_rows(recorded_vs_recomputed(recorded, reference.split))
    table["checkpoint"] = [short_name(name) for name in table["checkpoint"]]
    styled = (
        table.style.apply(_highlight_differences, axis=None)
        .format("{:.1f}%", subset=["recorded", "recomputed"], na_rep="not recorded")
        .format("{:+.1f} pp", subset=["difference"], na_rep="–")
    )
    st.dataframe(styled, hide_index=True)
    where = "validation" if reference.is_validation else f"{reference.info.split} (no usable validation file)"
    st.caption(
        f"Recorded: {code(context.paths.configuration_analysis_json.name)} or the checkpoint's own metrics. "
        f"Recomputed: each member unaugmented on {code(reference.info.path.name)} ({where} split). "
        f"Differences of {DIFFERENCE_TOLERANCE} points or more are highlighted."
    )


def render_page(context: DashboardContext) -> None:
    st.title("Overview")
    split = require_split(context)
    render_loaded(context, split)
    render_promotion_marks(context)
    render_headline(split)
    render_mcnemar(split)
    reference = reference_split(context)
    checked = [(context.analysed.path.name, split)]
    if reference is not None and reference.info.path != context.analysed.path:
        checked.append((reference.info.path.name, reference.split))
    render_collapsed(checked, demo_notes(context.members.members))
    if reference is not None:
        render_recorded(context, reference)
