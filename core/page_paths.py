"""Page URL paths that forgive case, spaces and separators.

Streamlit matches a requested page path exactly against each page's `url_path`, so `/Overview`,
`/metrics` or `/Training%20history` would show "Page not found"; the dashboard maps such
variants onto its canonical paths with `canonical_path`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote


def path_key(path: str) -> str:
    """`Training%20history`, `training-history` and `/Training_History/` all give `training_history`."""
    text = unquote(path).strip().strip("/").lower()
    return re.sub(r"[\s_\-]+", "_", text).strip("_")


def canonical_path(requested: str, url_paths: Iterable[str]) -> str | None:
    """The one of `url_paths` that `requested` names, ignoring case and separators; None if none does."""
    key = path_key(requested)
    if not key:
        return None
    return next((path for path in url_paths if path_key(path) == key), None)
