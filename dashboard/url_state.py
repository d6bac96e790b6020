"""A page's choices in the URL, for pages that also write parameters themselves (widget binding,
`bind="query-params"`, lost its URL updates on such pages): restore each choice into Session
State on a session's first run, before its widget exists, and write it back after every run,
leaving defaults out so links stay short."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

# How a flag is written: a parameter present means on.
ON = "1"


def restore_text(key: str, param: str) -> None:
    if key not in st.session_state and param in st.query_params:
        st.session_state[key] = st.query_params[param]


def restore_flag(key: str, param: str) -> None:
    if key not in st.session_state and param in st.query_params:
        st.session_state[key] = st.query_params[param] == ON


def restore_choice(key: str, param: str, options: Sequence[str]) -> None:
    """One of `options`; a value the page does not offer (an old or edited link) is ignored."""
    if key not in st.session_state and st.query_params.get(param) in options:
        st.session_state[key] = st.query_params[param]


def restore_choices(key: str, param: str, options: Sequence[str]) -> None:
    if key not in st.session_state and param in st.query_params:
        st.session_state[key] = [v for v in st.query_params.get_all(param) if v in options]


def write_param(param: str, value: str | bool | Sequence[str] | None) -> None:
    """Set `param` to `value`; an empty value (None, "", False, []) removes it. Unchanged values
    are not written again, so a run that changes nothing sends the browser nothing."""
    if value is True:
        value = ON
    if not value:
        if param in st.query_params:
            del st.query_params[param]
        return
    if isinstance(value, str):
        if st.query_params.get(param) != value or len(st.query_params.get_all(param)) != 1:
            st.query_params[param] = value
    elif st.query_params.get_all(param) != list(value):
        st.query_params[param] = list(value)
