"""The steps every page run starts with: demo bootstrap, context, shared sidebar."""

from __future__ import annotations

import streamlit as st

from dashboard.bootstrap import ensure_demo_bundle
from dashboard.eval_launcher import render_evaluation_sidebar
from dashboard.sidebar import render_sidebar
from dashboard.state import CONTEXT_KEY, DashboardContext, build_context, project_paths


def render_shell() -> DashboardContext:
    ensure_demo_bundle(project_paths())
    context = build_context()
    st.session_state[CONTEXT_KEY] = context
    render_sidebar(context)
    render_evaluation_sidebar(context)
    return context
