"""Evaluation runs stored under runs/ (from the sidebar launcher or `python -m core evaluate`):
list them, open one with the Metrics views, or compare two."""

from __future__ import annotations

import streamlit as st

from core.evaluation.runs import list_runs
from dashboard.run_views import choose_runs, render_comparison, render_listing, render_run
from dashboard.state import current_context

context = current_context()
runs_dir = context.paths.runs_dir
st.title("Evaluation runs")
listing = list_runs(runs_dir)
for problem in listing.unreadable:
    st.warning(f"Skipped {problem}")
if not listing.runs:
    st.info(
        f"No evaluation runs in `{runs_dir}` yet. Start one from the sidebar (Evaluation run), or run "
        "`python -m core evaluate --features features_enhanced/test_features_multiscale.h5 --tta "
        "--out runs/<name>.json`."
    )
    st.stop()
render_listing(listing.runs)
by_name = {path.name: (path, run) for path, run in listing.runs}
chosen = [by_name[name] for name in choose_runs(listing.runs)]
if len(chosen) == 1:
    render_run(*chosen[0])
elif len(chosen) == 2:
    render_comparison(*chosen)
