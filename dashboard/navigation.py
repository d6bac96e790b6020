"""The hand-offs between pages: "open this video in Classify" and "inspect this member". The
asking page leaves what to show in the session and switches; the target page takes it on its
next run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.page_paths import canonical_path
from dashboard.context import ANALYSED_SPLIT_KEY

CLASSIFY_PAGE = "app_pages/2_Classify.py"
INCOMING_VIDEO_KEY = "classify_video"
APP_DIR = Path(__file__).resolve().parent.parent


def classify_page_installed() -> bool:
    return (APP_DIR / CLASSIFY_PAGE).is_file()


def open_in_classify(video: str) -> None:
    """Show `video` on the Classify page (ends this script run)."""
    st.session_state[INCOMING_VIDEO_KEY] = video
    st.switch_page(CLASSIFY_PAGE)


def take_incoming_video() -> str | None:
    """The video another page asked Classify to show, once; None when none was asked for."""
    return st.session_state.pop(INCOMING_VIDEO_KEY, None)


def render_open_in_classify(videos: list[str], key: str) -> None:
    """A video picker and an "Open in Classify" button; `key` keeps pickers of two views apart."""
    if not classify_page_installed():
        st.caption("The Classify page is not installed, so videos cannot be opened there.")
        return
    chosen = st.selectbox("Video", videos, key=f"{key}_open_video")
    if st.button("Open in Classify", key=f"{key}_open_button", icon=":material/movie:"):
        open_in_classify(chosen)


def _ask_classify(video: str, features_path: str) -> None:
    # A button callback runs before the sidebar's picker is drawn, so its state may be set here.
    st.session_state[ANALYSED_SPLIT_KEY] = features_path
    st.session_state[INCOMING_VIDEO_KEY] = video


def render_open_split_video_in_classify(choices: list[tuple[str, str, str]], key: str) -> None:
    """A picker of (label, video, features file) and an "Open in Classify" button that makes that
    file the analysed split before switching, so a video from any split opens."""
    if not classify_page_installed():
        st.caption("The Classify page is not installed, so videos cannot be opened there.")
        return
    if not choices:
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox(
        "Video", range(len(choices)), format_func=lambda i: choices[i][0], key=f"{key}_open_video"
    )
    _, video, path = choices[chosen if chosen is not None else 0]
    if right.button(
        "Open in Classify",
        key=f"{key}_open_button",
        icon=":material/movie:",
        on_click=_ask_classify,
        args=(video, path),
    ):
        st.switch_page(CLASSIFY_PAGE)


COLLAPSE_PAGE = "app_pages/7_Collapse_inspector.py"
INSPECT_REQUEST_KEY = "collapse_inspect_request"


def open_in_collapse_inspector(member: str, class_name: str | None = None) -> None:
    """Show `member` (on `class_name`) in the Collapse inspector (ends this script run)."""
    st.session_state[INSPECT_REQUEST_KEY] = (member, class_name)
    st.switch_page(COLLAPSE_PAGE)


def take_inspect_request() -> tuple[str, str | None] | None:
    """The (member, class) another page asked the inspector to show, once."""
    return st.session_state.pop(INSPECT_REQUEST_KEY, None)


def render_inspect_button(member: str, class_name: str, label: str, key: str) -> None:
    if st.button(label, key=key, icon=":material/troubleshoot:"):
        open_in_collapse_inspector(member, class_name)


def _requested_page_name() -> str:
    # Streamlit keeps the path the browser asked for only on its internal pages manager.
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return (ctx.pages_manager.intended_page_name or "") if ctx else ""


def page_alias(pages: list[st.Page], canonical_paths: list[str]) -> st.Page | None:
    """A hidden page at exactly the requested path when it names one of `pages` in another case or
    spelling (`/Overview`, `/Training%20history`); it switches to the real page, keeping the query.

    `canonical_paths[i]` is page i's path: the default page's own `url_path` reads "" in Streamlit."""
    requested = _requested_page_name()
    if not requested or requested in (p.url_path for p in pages):
        return None
    target = canonical_path(requested, canonical_paths)
    if target is None:
        return None
    page = pages[canonical_paths.index(target)]

    def redirect() -> None:
        st.switch_page(page, query_params=st.query_params.to_dict())

    return st.Page(redirect, title=page.title, url_path=requested, visibility="hidden")
