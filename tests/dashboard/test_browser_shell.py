"""Real browser: the shell around every page, including a page URL as a fresh server's first request."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.browser_support import (
    chromium_page,
    require_browser,
    screenshot_dir,
    streamlit_server,
    wait_for_app_idle,
)
from tests.factories import write_project

pytestmark = pytest.mark.browser


def test_page_url_as_first_request_gets_sidebar_and_content(tmp_path: Path) -> None:
    require_browser()
    root = write_project(tmp_path / "project")
    with streamlit_server(root) as url, chromium_page() as page:
        page.goto(f"{url}/Compare_models")
        wait_for_app_idle(page)
        page.get_by_role("heading", name="Compare models").wait_for(timeout=60_000)
        page.get_by_text("Ensemble composer").wait_for(timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Loaded artifacts").is_visible()
        page.screenshot(path=str(screenshot_dir(tmp_path) / "first_request_compare.png"))


LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "http://localhost", "ws://localhost", "data:")


def test_page_paths_forgive_case_and_spaces_and_nothing_leaves_localhost(tmp_path: Path) -> None:
    require_browser()
    root = write_project(tmp_path / "project")
    with streamlit_server(root) as url, chromium_page() as page:
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(LOCAL_PREFIXES) else outside.append(r.url))
        for path, heading, landed in [
            ("metrics", "Metrics", "/metrics"),  # a fresh server's first request
            ("Overview", "Overview", "/"),
            ("overview", "Overview", "/"),
            ("Training%20history", "Training history", "/training_history"),
            ("COMPARE-models", "Compare models", "/compare_models"),
            ("evaluation_runs", "Evaluation runs", "/evaluation_runs"),
        ]:
            page.goto(f"{url}/{path}")
            wait_for_app_idle(page)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
            assert page.url.removeprefix(url).split("?")[0] == landed
            assert page.get_by_text("Page not found").count() == 0
            navigation = page.locator('[data-testid="stSidebarNav"]')
            assert "streamlit app" not in navigation.inner_text().lower()
        icons = page.evaluate("() => [...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
        assert icons and all(icon.startswith(url) for icon in icons)
        assert page.get_by_role("button", name="Deploy").count() == 0
        assert outside == []
