"""Shared test configuration."""

from __future__ import annotations

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.pages_manager import PagesManager


class NavigationPagesManager(PagesManager):
    """AppTest (1.67) re-detects the `pages/` folder on every run and then runs the page file
    alone, skipping `streamlit_app.py`. A real server does that only until the first
    `st.navigation` call of the process (covered by tests/test_browser_shell.py); make AppTest
    behave like a server after that first call."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def navigation_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_test_module, "PagesManager", NavigationPagesManager)
