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
