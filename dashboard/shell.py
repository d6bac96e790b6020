"""The steps every page run starts with (demo bootstrap, context, shared sidebar), and the
context they leave for the page."""

from __future__ import annotations

import streamlit as st

from dashboard.bootstrap import ensure_demo_bundle
from dashboard.context import DashboardContext, build_context, project_paths
from dashboard.eval_launcher import render_evaluation_sidebar, render_job_status
from dashboard.predictions import render_tta_status
from dashboard.retrain_status import render_retrain_status
from dashboard.sidebar import render_sidebar

CONTEXT_KEY = "dashboard_context"


def render_shell() -> DashboardContext:
    ensure_demo_bundle(project_paths())
    context = build_context()
    st.session_state[CONTEXT_KEY] = context
    render_job_status()
    render_retrain_status(context)
    render_sidebar(context)
    render_evaluation_sidebar(context)
    if context.tta_pending is not None:
        render_tta_status(context.tta_pending)
    return context


def current_context() -> DashboardContext:
    """The context the shell built for this script run (building it when the page runs alone)."""
    if CONTEXT_KEY not in st.session_state:
        return render_shell()
    return st.session_state[CONTEXT_KEY]
