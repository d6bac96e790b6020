"""Real browser: the Data explorer on a project with planted leaks and flipped labels, at desktop
and phone width. The audit is run from the page; the map is drawn, the leak and label tables show
every column, the view's choices reach the URL; screenshots to $SCREENSHOT_DIR or tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit_project import LEAKS, write_audit_project
from tests.dashboard.browser_support import (
    chromium_page,
    clipped_tables,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_browser()
    return write_audit_project(tmp_path_factory.mktemp("browser_explorer")).root


def run_audit_on_the_page(page, url: str) -> None:
    page.goto(f"{url}/data_explorer?explorer_colour=right+%2F+wrong")
    settle(page, timeout_ms=300_000)
    page.get_by_role("heading", name="Data explorer").wait_for(timeout=300_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=300_000)
    page.get_by_role("button", name="Run the audit now").click()
    settle(page, timeout_ms=300_000)
    page.get_by_text(f"Leaks: {len(LEAKS)} pair(s)").wait_for(timeout=300_000)
    page.get_by_text("Likely wrong labels: 12 video(s)").wait_for(timeout=60_000)
    assert "explorer_colour=right" in page.url
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator(".js-plotly-plot canvas").count() > 0


def select_the_whole_map(page) -> None:
    """A box drawn over the whole plot area with the modebar's box select."""
    plot = page.locator(".js-plotly-plot").first
    plot.hover()
    plot.locator('.modebar-btn[data-val="select"]').click()
    box = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    settle(page, timeout_ms=300_000)


def test_the_explorer_reads_at_desktop_and_phone_width(project: Path, tmp_path: Path) -> None:
    """One server for both widths: its first map pays UMAP's compilation once."""
    shots = screenshot_dir(tmp_path)
    with streamlit_server(project) as url:
        with chromium_page(width=1280, height=4200) as page:
            run_audit_on_the_page(page, url)
            assert clipped_tables(page) == []
            page.screenshot(path=str(shots / "data_explorer_planted.png"))
            select_the_whole_map(page)
            page.get_by_text("144 selected video(s)").wait_for(timeout=120_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        with chromium_page(width=390, height=7000) as page:
            run_audit_on_the_page(page, url)
            page.screenshot(path=str(shots / "data_explorer_planted_phone.png"))
