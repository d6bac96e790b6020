"""Real browser: the Overview's collapse flag opens the Collapse inspector on the member it
flagged (original-layout project); screenshot to $SCREENSHOT_DIR (docs/screenshots) or tmp."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.browser_support import (
    chromium_page,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
)
from tests.original_project import write_original_project

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_browser()
    return write_original_project(tmp_path_factory.mktemp("browser_collapse")).root


def test_overview_flag_opens_the_inspector(project: Path, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    with streamlit_server(project) as url, chromium_page(height=3200) as page:
        page.goto(url)
        settle(page)
        page.get_by_text("looks collapsed on").first.wait_for(timeout=120_000)
        page.get_by_role("button", name="Inspect Model 1").first.click()
        settle(page)
        page.get_by_role("heading", name="Collapse inspector").wait_for(timeout=60_000)
        assert urlsplit(page.url).path.rstrip("/").endswith("/collapse_inspector")
        # The inspected member and class are in the URL, so the link opens the same view.
        assert parse_qs(urlsplit(page.url).query) == {
            "member": ["best_ensemble_model_1"],
            "class": ["Animation"],
        }
        boxes = page.locator('[data-testid="stSelectbox"]')
        assert boxes.filter(has_text="Member").locator("input").input_value() == "Model 1"
        assert boxes.filter(has_text="Class").locator("input").input_value() == "Animation"
        summary = page.get_by_text("Model 1 sends 92% of Animation videos to Flat_Content")
        summary.wait_for(timeout=30_000)
        for heading in ("Per-class F1: this member vs the others", "Where its Animation videos went",
                        "How it fails", "When it failed", "What it costs"):  # fmt: skip
            assert page.get_by_role("heading", name=heading).count() == 1
        assert page.locator(".js-plotly-plot").count() == 4  # with the explanation panel's two
        page.get_by_text("early stop 77").first.wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / "collapse_inspector.png"), full_page=True)
