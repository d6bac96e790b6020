"""Evaluation runs stored under runs/ (from the sidebar launcher or `python -m core evaluate`):
the listing, one stored run through the Metrics views, and two runs compared."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.evaluation.predictions import SplitPredictions
from core.evaluation.run_compare import (
    RunMismatchError,
    common_predictors,
    compare_runs,
    composition_differences,
    runs_table,
)
from core.evaluation.run_members import candidate_name, file_used, listed_members, promotion_in_run
from core.evaluation.runs import LOCAL_ENGINE, EvaluationRun, list_runs
from core.model.promotions import PromotionRecord
from dashboard.context import DashboardContext
from dashboard.navigation import render_open_in_classify
from dashboard.notices import render_notices
from dashboard.plain_text import code, plain
from dashboard.theme import short_name
from dashboard.views.metrics import percent_columns, render_metric_views
from dashboard.views.promotion_marks import folder_promotions

RUN_CHOICE_KEY = "runs_open"
HEADLINE_COLUMNS = ("ensemble accuracy", "ensemble F1", "ensemble+TTA accuracy", "ensemble+TTA F1")
# A score the run does not have (no TTA pass): a dash, never "None".
MISSING = "–"


# What defines a run and how it scored; where and how long it ran is in the opened run's caption.
LISTED_COLUMNS = ("run", *HEADLINE_COLUMNS, "members", "TTA modes", "videos")


def _listing_columns() -> dict[str, st.column_config.Column]:
    """Fixed widths that fit the main column (820 px at 1280), so no score is pushed off the right;
    members are listed by number, the full names are in the opened run."""
    short = {
        "ensemble accuracy": "ens. acc",
        "ensemble F1": "ens. F1",
        "ensemble+TTA accuracy": "+TTA acc",
        "ensemble+TTA F1": "+TTA F1",
    }
    headline = {name: st.column_config.Column(label, width=70, help=name) for name, label in short.items()}
    return {
        "run": st.column_config.TextColumn(width=240),
        **headline,
        "members": st.column_config.TextColumn(
            "models", width=90, help="Ensemble members, by number; a swapped-in candidate by its own name"
        ),
        "TTA modes": st.column_config.TextColumn(
            width=110, help="Besides the original: rev = reverse, up = speed_up, down = speed_down"
        ),
        "videos": st.column_config.NumberColumn(width=60),
    }


def member_numbers(names: list[str]) -> str:
    """'1, 2, 3, 4' for Model 1..4; a name that is not numbered stays as it is."""
    return ", ".join(short_name(n).removeprefix("Model ") for n in names)


SHORT_MODES = {"reverse": "rev", "speed_up": "up", "speed_down": "down"}


def short_modes(modes: str) -> str:
    """'reverse, speed_up, speed_down' -> 'rev, up, down', so the listing fits at 1280 px."""
    return ", ".join(SHORT_MODES.get(m, m) for m in modes.split(", "))


def render_listing(runs: list[tuple[Path, EvaluationRun]], root: Path) -> None:
    table = runs_table(runs, root)
    table["members"] = table["members"].map(member_numbers)
    table["TTA modes"] = table["TTA modes"].map(short_modes)
    shown = table[list(LISTED_COLUMNS)].astype(dict.fromkeys(HEADLINE_COLUMNS, float))
    styled = shown.style.format("{:.1f}%", subset=list(HEADLINE_COLUMNS), na_rep=MISSING)
    st.dataframe(styled, hide_index=True, key="runs_table", column_config=_listing_columns())


def choose_runs(runs: list[tuple[Path, EvaluationRun]]) -> list[str]:
    """Only runs that open are offered; a link naming any other run falls back to the default
    (the query-param binding drops values that are not options)."""
    names = [path.name for path, _ in runs]
    return st.multiselect(
        "Open a run, or two to compare them",
        names,
        default=names[:1],
        max_selections=2,
        key=RUN_CHOICE_KEY,
        bind="query-params",
    )


def where_it_ran(run: EvaluationRun) -> str:
    if run.engine == LOCAL_ENGINE:
        return run.device
    return f"{run.engine} cluster {plain(run.address)} ({run.device})"


def render_member_files(run: EvaluationRun, models_dir: Path, promotions: list[PromotionRecord]) -> None:
    """A member that was a promoted retrain in this run, or that a promotion has replaced since."""
    for member in run.members:
        promoted = promotion_in_run(run, member, models_dir, promotions)
        if promoted is not None:
            st.info(
                plain(f"{short_name(member)} in this run is a {promoted.describe()}"),
                icon=":material/upgrade:",
            )
        used = file_used(run, member, models_dir, promotions)
        if member not in run.swaps and used != f"{member}.pt":
            st.info(
                f"{plain(short_name(member))} in this run is {code(used)}: the member before a later "
                "promotion.",
                icon=":material/history:",
            )


def render_run(path: Path, run: EvaluationRun, models_dir: Path, promotions: list[PromotionRecord]) -> None:
    st.subheader(f"Run {code(path.name)}")
    members = plain(", ".join(listed_members(run, models_dir.parent)))
    st.caption(
        f"{plain(Path(run.features_file).name)} · {run.num_videos} videos · members {members} · "
        f"TTA modes {', '.join(run.tta_modes)} · {where_it_ran(run)} · {run.elapsed_s:.1f} s"
    )
    for member, checkpoint in run.swaps.items():
        swap = f"{member} is swapped for {candidate_name(checkpoint, models_dir.parent)} ({checkpoint})"
        st.info(plain(swap), icon=":material/swap_horiz:")
    render_member_files(run, models_dir, promotions)
    render_notices(run.warnings, what="warning(s) in this run")
    render_metric_views(SplitPredictions.from_run(run), key=f"run_{path.stem}", file_stem=path.stem)


def render_comparison(
    a: tuple[Path, EvaluationRun],
    b: tuple[Path, EvaluationRun],
    models_dir: Path,
    promotions: list[PromotionRecord],
) -> None:
    (path_a, run_a), (path_b, run_b) = a, b
    st.subheader("Comparison")
    st.markdown(f"**A** = {code(path_a.name)} · **B** = {code(path_b.name)}")
    differences = composition_differences(
        run_a, run_b, used=lambda run, member: file_used(run, member, models_dir, promotions)
    )
    if differences:
        st.warning(
            "These runs' ensembles are not the same, so their Ensemble rows compare different predictors: "
            + "; ".join(differences)
            + ".",
            icon=":material/difference:",
        )
    predictors = common_predictors(run_a, run_b)
    if not predictors:
        st.error("The two runs have no predictor in common; choose runs of the same checkpoints.")
        return
    default = "ensemble_tta" if "ensemble_tta" in predictors else "ensemble"
    predictor = st.selectbox(
        "Predictor", predictors, index=predictors.index(default) if default in predictors else 0,
        format_func=short_name, key="runs_compare_predictor", bind="query-params",
    )  # fmt: skip
    try:
        comparison = compare_runs(run_a, run_b, predictor)
    except RunMismatchError as exc:
        st.error(f"Cannot compare {code(path_a.name)} and {code(path_b.name)}: {plain(exc)}.")
        return
    columns = st.columns(3)
    columns[0].metric("Right → wrong (A→B)", comparison.right_to_wrong)
    columns[1].metric("Wrong → right (A→B)", comparison.wrong_to_right)
    columns[2].metric("McNemar exact p", f"{comparison.mcnemar.p_value:.4f}")
    differences = comparison.differences.assign(predictor=comparison.differences["predictor"].map(short_name))
    st.dataframe(
        differences,
        hide_index=True,
        key="runs_differences",
        column_config=percent_columns(*[c for c in differences.columns if c != "predictor"]),
    )
    st.markdown(f"**Per-class F1** of {plain(short_name(predictor))}")
    st.dataframe(
        comparison.class_f1,
        hide_index=True,
        key="runs_class_f1",
        column_config=percent_columns("F1 A", "F1 B", "F1 B−A"),
    )
    st.markdown(f"**Flipped videos** ({len(comparison.flipped)}) for {plain(short_name(predictor))}")
    if comparison.flipped.empty:
        st.caption("No video changed between right and wrong.")
        return
    st.dataframe(comparison.flipped, hide_index=True, key="runs_flipped")
    render_open_in_classify(comparison.flipped["video"].tolist(), key="runs_flipped")


def render_page(context: DashboardContext) -> None:
    runs_dir = context.paths.runs_dir
    st.title("Evaluation runs")
    listing = list_runs(runs_dir)
    render_notices(
        [f"Skipped {problem}" for _, problem in listing.unreadable], what="run file(s) that cannot be opened"
    )
    if not listing.runs and not listing.unreadable:
        st.info(
            f"No evaluation runs in {code(runs_dir)} yet. "
            "Start one from the sidebar (Evaluation run), or run "
            "`python -m core evaluate --features features_enhanced/test_features_multiscale.h5 --tta "
            "--out runs/<name>.json`."
        )
        st.stop()
    if not listing.runs:
        st.error("None of the run files opens; each one's problem is listed above.")
        st.stop()
    render_listing(listing.runs, context.paths.root)
    by_name = {path.name: (path, run) for path, run in listing.runs}
    chosen = [by_name[name] for name in choose_runs(listing.runs)]
    models_dir = context.paths.models_dir
    promotions = folder_promotions(models_dir)
    if len(chosen) == 1:
        render_run(*chosen[0], models_dir, promotions)
    elif len(chosen) == 2:
        render_comparison(*chosen, models_dir, promotions)
