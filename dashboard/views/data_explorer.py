"""Data explorer: the data behind the numbers. A map of the videos, each video's nearest
neighbours across splits, and the audit: leaks between splits, likely wrong labels, weak slices."""

from __future__ import annotations

import streamlit as st

from dashboard.context import DashboardContext
from dashboard.plain_text import plain
from dashboard.views.explorer_audit import render_audit
from dashboard.views.explorer_data import explorer_data
from dashboard.views.explorer_map import render_map_and_neighbours


def render_page(context: DashboardContext) -> None:
    st.title("Data explorer")
    st.caption(
        "The data behind the numbers: where the videos lie, which look alike across splits, which "
        "labels the ensemble disputes, and which slices it fails."
    )
    data = explorer_data(context)
    if data is None:
        return
    for problem in data.problems:
        st.warning(plain(problem), icon="⚠️")
    if not context.members.members:
        st.error(
            f"No loadable checkpoints in {plain(context.paths.models_dir)}; the map is coloured by "
            "label only and the audit needs the ensemble."
        )
    if not data.compared:
        st.error("No features file can be explored; see the messages above.")
        return
    render_map_and_neighbours(data)
    render_audit(data)
