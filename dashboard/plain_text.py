"""Untrusted text (file names, video names read from files, upload names, error messages that
quote them) shown as text: Markdown and HTML characters escaped, so a name like
`**x** [link](http://…)` reads exactly as written and never becomes bold, a link or markup."""

from __future__ import annotations

import re

# Characters that start Markdown, HTML or Streamlit's LaTeX ($…$) anywhere in a line, and what
# makes a bare URL or address a link (GFM autolinks: "://", "www.", "@"). An underscore between
# two letters or digits cannot start emphasis (CommonMark): `best_ensemble_model_1.pt` stays as is.
_SPECIAL = re.compile(r"[\\`*\[\]<>#|~$@]|:(?=//)|(?<=www)\.|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# A list item or a heading only at the start of a line: "- x", "+ x", "1. x".
_LINE_START = re.compile(r"^(\d+)\.|^([-+=])")


def _escape(match: re.Match[str]) -> str:
    return "\\" + match.group(0)


def _escape_line_start(match: re.Match[str]) -> str:
    number, marker = match.groups()
    return f"{number}\\." if number is not None else "\\" + marker


def plain(text: object) -> str:
    """`text` escaped for st.markdown, st.caption, st.warning and friends, on one line."""
    line = _SPECIAL.sub(_escape, " ".join(str(text).split()))
    return _LINE_START.sub(_escape_line_start, line)
