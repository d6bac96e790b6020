"""Dashboard entry point: the page list, the shared shell (demo bootstrap, sidebar), navigation."""

from pathlib import Path

import streamlit as st

from dashboard.navigation import page_alias
from dashboard.shell import render_shell

FAVICON = Path(__file__).parent / "dashboard" / "assets" / "favicon.png"

# A local image, not a Material icon: the browser fetches those tab icons from a font CDN.
st.set_page_config(page_title="Video classifier analysis", page_icon=str(FAVICON), layout="wide")
# Explicit url_paths keep links stable whatever the titles; `page_alias` adds case/space variants.
pages = [
    # The default page lives at "/"; its url_path only names it internally (page ids are hashes of
    # url_paths), and must differ from "overview" so the alias for "/overview" gets its own id.
    st.Page("app_pages/1_Overview.py", title="Overview", icon=":material/dashboard:", url_path="home",
            default=True),
    st.Page("app_pages/2_Classify.py", title="Classify", icon=":material/movie:", url_path="classify"),
    st.Page("app_pages/3_Compare_models.py", title="Compare models", icon=":material/compare_arrows:",
            url_path="compare_models"),
    st.Page("app_pages/4_Metrics.py", title="Metrics", icon=":material/analytics:", url_path="metrics"),
    st.Page("app_pages/5_Training_history.py", title="Training history", icon=":material/show_chart:",
            url_path="training_history"),
    st.Page("app_pages/6_Evaluation_runs.py", title="Evaluation runs", icon=":material/history:",
            url_path="evaluation_runs"),
    st.Page("app_pages/7_Collapse_inspector.py", title="Collapse inspector", icon=":material/troubleshoot:",
            url_path="collapse_inspector"),
    st.Page("app_pages/8_Data_explorer.py", title="Data explorer", icon=":material/scatter_plot:",
            url_path="data_explorer"),
]  # fmt: skip
alias = page_alias(pages, canonical_paths=["overview", *[p.url_path for p in pages[1:]]])
navigation = st.navigation(pages if alias is None else [*pages, alias])
render_shell()
navigation.run()
