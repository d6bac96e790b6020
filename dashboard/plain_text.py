"""Untrusted text (file names, video names read from files, upload names, error messages that
quote them) shown as text: every Markdown and HTML character escaped, so a name like
`**x** [link](http://…)` reads exactly as written and never becomes bold, a link or markup."""

from __future__ import annotations

import re

# CommonMark lets any ASCII punctuation be escaped with a backslash; these are the ones Markdown,
# Streamlit's directives (:red[…], :emoji:) and its LaTeX ($…$) give a meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")


def plain(text: object) -> str:
    """`text` escaped for st.markdown, st.caption, st.warning and friends, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
