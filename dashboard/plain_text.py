"""Untrusted text (file names, video names read from files, upload names, error messages that
quote them) shown as text: Markdown and HTML characters escaped and bare URLs kept from being
linked, so a name like `**x** [link](http://…)` reads as written, never as bold, a link or markup."""

from __future__ import annotations

import re

# Characters that start Markdown, HTML or Streamlit's LaTeX ($…$) anywhere in a line. An
# underscore between two letters or digits cannot start emphasis (CommonMark), so
# `best_ensemble_model_1.pt` is left as it is.
_SPECIAL = re.compile(r"[\\`*\[\]<>#|~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# GFM turns bare URLs and addresses into links after escapes are resolved, so no backslash stops
# it; an invisible word joiner inside "://", "www." and before "@" does.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")
WORD_JOINER = "\u2060"
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
    line = _AUTOLINK.sub(WORD_JOINER, line)
    return _LINE_START.sub(_escape_line_start, line)


def code(text: object) -> str:
    """`text` as an inline code span, whatever backticks it holds: the fence is one backtick longer
    than the longest run inside (CommonMark), so a name can never close the span and become Markdown."""
    line = " ".join(str(text).split())
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {line} " if line.startswith("`") or line.endswith("`") or not line.strip() else line
    return f"{fence}{padded}{fence}"
