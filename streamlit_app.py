"""Dashboard entry point: demo bootstrap, shared sidebar, and navigation over `pages/`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.shell import render_shell

PAGES_DIR = Path(__file__).parent / "pages"
PAGE_ICONS: dict[str, str] = {
    "Overview": ":material/dashboard:",
    "Classify": ":material/movie:",
    "Compare models": ":material/compare_arrows:",
    "Metrics": ":material/analytics:",
    "Training history": ":material/show_chart:",
    "Evaluation runs": ":material/history:",
}


def page_title(path: Path) -> str:
    """`3_Compare_models.py` -> `Compare models`."""
    return path.stem.split("_", 1)[-1].replace("_", " ")


def discover_pages() -> list[st.Page]:
    files = sorted(PAGES_DIR.glob("[0-9]*_*.py"), key=lambda p: int(p.stem.split("_", 1)[0]))
    return [
        st.Page(str(path), title=page_title(path), icon=PAGE_ICONS.get(page_title(path)), default=i == 0)
        for i, path in enumerate(files)
    ]


st.set_page_config(page_title="Video classifier analysis", page_icon=":material/movie:", layout="wide")
navigation = st.navigation(discover_pages())
render_shell()
navigation.run()
