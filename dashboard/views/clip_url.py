"""The Classify page's URL field: a video fetched by URL with the same checks and caps as the
HTTP service (http/https only, public addresses only, a size and time cap), then classified like
an upload."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

import streamlit as st

from core.video.url_fetch import FetchLimits, UrlFetchError, UrlRefused, UrlTooLarge, fetched_video
from dashboard.plain_text import plain

URL_KEY = "classify_url"
FETCHED_KEY = "classify_url_fetched"


def clip_name(url: str, suffix: str) -> str:
    """A name for the fetched clip: the URL's file name, with the fetched file's video extension."""
    stem = PurePosixPath(urlsplit(url).path).stem or urlsplit(url).hostname or "video"
    return f"{stem}{suffix}"


def url_clip(max_megabytes: int) -> tuple[str, bytes] | None:
    """The clip at the URL the user typed, fetched once per URL; None until there is one."""
    url = st.text_input(
        "Video URL", key=URL_KEY, placeholder="https://example.com/clip.mp4 or a video page"
    ).strip()
    st.caption(
        f"A direct video link, or a page yt-dlp understands (YouTube and the like), up to "
        f"{max_megabytes} MB. Addresses inside the network (loopback, private, link-local) are refused."
    )
    if not url:
        return None
    fetched = st.session_state.get(FETCHED_KEY)
    if fetched is not None and fetched[0] == url:
        return fetched[1]
    try:
        with (
            st.spinner(f"Fetching {plain(url)}…"),
            fetched_video(url, FetchLimits(max_bytes=max_megabytes * 2**20)) as path,
        ):
            clip = (clip_name(url, path.suffix), path.read_bytes())
    except (UrlRefused, UrlTooLarge, UrlFetchError) as exc:
        st.error(plain(exc))
        return None
    st.session_state[FETCHED_KEY] = (url, clip)
    return clip
