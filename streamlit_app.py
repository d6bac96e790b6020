"""Dashboard entry point: the page list, the shared shell (demo bootstrap, sidebar), navigation."""

import streamlit as st

from dashboard.shell import render_shell

st.set_page_config(page_title="Video classifier analysis", page_icon=":material/movie:", layout="wide")
navigation = st.navigation(
    [
        st.Page("pages/1_Overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/2_Classify.py", title="Classify", icon=":material/movie:"),
        st.Page("pages/3_Compare_models.py", title="Compare models", icon=":material/compare_arrows:"),
        st.Page("pages/4_Metrics.py", title="Metrics", icon=":material/analytics:"),
        st.Page("pages/5_Training_history.py", title="Training history", icon=":material/show_chart:"),
        st.Page("pages/6_Evaluation_runs.py", title="Evaluation runs", icon=":material/history:"),
        st.Page("pages/7_Collapse_inspector.py", title="Collapse inspector", icon=":material/troubleshoot:"),
    ]
)
render_shell()
navigation.run()
