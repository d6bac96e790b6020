"""Lists of messages (a run's warnings, unreadable files) shown in bounded space: the count and the
first few as alerts, the rest in one expander as a table, so 50,000 warnings cost one table, not
50,000 alert boxes."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from dashboard.plain_text import plain

SHOWN_NOTICES = 3


def render_notices(
    messages: Sequence[str], *, what: str, shown: int = SHOWN_NOTICES, sidebar: bool = False
) -> None:
    """`what` names the messages in the summary line ("warning(s) in this run")."""
    if not messages:
        return
    target = st.sidebar if sidebar else st
    for message in messages[:shown]:
        target.warning(plain(message), icon="⚠️")
    rest = messages[shown:]
    if rest:
        with target.expander(f"{len(messages)} {what} in all; {len(rest)} more"):
            st.dataframe(pd.DataFrame({"message": list(rest)}), hide_index=True, width="stretch")
