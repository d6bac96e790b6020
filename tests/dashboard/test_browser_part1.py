"""Real browser: Overview, Compare models and Classify served by Streamlit, driven in headless
Chromium on a demo bundle; screenshots go to $SCREENSHOT_DIR (docs/screenshots) or tmp."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.classes import CLASS_NAMES
from core.demo.bundle import build_demo_bundle
from core.demo.clips import SUBCATEGORIES, ClipSpec, render_clip, write_clip
from tests.dashboard.browser_support import (
    chromium_page,
    clipped_tables,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
    truncated_metrics,
    wait_for_app_idle,
)

pytestmark = pytest.mark.browser
# The CI scale keeps the build short; set DASHBOARD_DEMO_SCALE=full when refreshing the README shots.
SCALE = os.environ.get("DASHBOARD_DEMO_SCALE", "ci")


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_browser()
    root = tmp_path_factory.mktemp("browser_demo")
    build_demo_bundle(root, scale=SCALE)
    return root


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app_idle(page)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    settle(page)


def test_overview_and_compare_render(demo_project: Path, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    with streamlit_server(demo_project) as url, chromium_page(height=2300) as page:
        open_page(page, url)
        assert page.get_by_text("Headline scores").is_visible()
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / "overview.png"))

        open_page(page, f"{url}/Compare_models")
        page.get_by_text("Ensemble composer").wait_for()
        assert page.locator(".js-plotly-plot").count() >= 3
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / "compare.png"))


def test_classify_pick_a_video_then_upload_a_clip(demo_project: Path, tmp_path: Path) -> None:
    spec = ClipSpec("Gaming", SUBCATEGORIES["Gaming"][0], seed=4242)
    clip = write_clip(tmp_path / "uploaded_clip.mp4", render_clip(spec), spec.fps)
    with streamlit_server(demo_project) as url, chromium_page(1280, 800) as page:
        open_page(page, f"{url}/classify")
        video_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Video")
        video_box.click()
        page.get_by_role("option").nth(2).click()
        settle(page)
        chosen_video = video_box.locator("input").input_value()
        page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first.get_by_role(
            "button", name="Remove Model 4"
        ).click()
        settle(page)
        ticks = page.locator(".js-plotly-plot .ytick text").all_text_contents()
        assert {"Model 1", "Model 2", "Model 3", "Ensemble + TTA"} <= set(ticks)
        assert "Model 4" not in ticks
        assert clipped_tables(page) == []
        assert truncated_metrics(page) == []
        # The verdict does not wait for a player: this mp4v clip gets one only on request.
        assert page.locator('[data-testid="stVideo"]').count() == 0
        page.get_by_text("Show player").click()
        page.locator('[data-testid="stVideo"]').wait_for(timeout=120_000)

        page.reload()
        wait_for_app_idle(page)
        members = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first
        expect(members.get_by_role("button", name="Remove Model 3")).to_have_count(1, timeout=60_000)
        expect(members.get_by_role("button", name="Remove Model 4")).to_have_count(0)
        assert video_box.locator("input").input_value() == chosen_video

        page.get_by_text("An uploaded clip").click()
        settle(page)
        started = time.monotonic()
        page.locator('input[type="file"]').set_input_files(str(clip))
        page.get_by_text("Verdict (Ensemble + TTA)").wait_for(timeout=60_000)
        upload_to_verdict = time.monotonic() - started
        print(f"upload to verdict: {upload_to_verdict:.2f} s")
        assert upload_to_verdict < 5.0
        settle(page)
        assert page.locator('[data-testid="stMetricValue"]').first.inner_text() in CLASS_NAMES
        assert page.get_by_text("Demo ensemble (trained on generated clips)").is_visible()
        assert page.get_by_text("Member votes:").is_visible()
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        truth = page.locator('[data-testid="stSelectbox"]').filter(has_text="What is it really?")
        truth.click()
        page.get_by_role("option", name="Gaming").click()
        settle(page)
        page.get_by_text("True class").wait_for()
        outcome = page.locator('[data-testid="stMetricDelta"]').inner_text()
        assert outcome in {"verdict correct", "verdict wrong"}
        assert clipped_tables(page) == [] and truncated_metrics(page) == []


PAGES = {
    "overview": "Overview",
    "classify": "Classify",
    "compare_models": "Compare models",
    "metrics": "Metrics",
    "training_history": "Training history",
    "evaluation_runs": "Evaluation runs",
    "collapse_inspector": "Collapse inspector",
}


# 1280 px: a laptop's width, where the main column is 820 px beside the sidebar; a table wider
# than that scrolls sideways and hides columns with no cue.
@pytest.mark.parametrize(("width", "height", "suffix"), [(1280, 800, ""), (390, 844, "_phone")])
def test_every_page_at_desktop_and_phone_width(
    demo_project: Path, tmp_path: Path, width: int, height: int, suffix: str
) -> None:
    shots = screenshot_dir(tmp_path)
    with streamlit_server(demo_project) as url, chromium_page(width, height) as page:
        for path, title in PAGES.items():
            page.goto(f"{url}/{path}")
            wait_for_app_idle(page)
            page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)
            settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            if width >= 1280:
                assert clipped_tables(page) == [], path
            assert truncated_metrics(page) == [], path
            page.screenshot(path=str(shots / f"{path}{suffix}.png"))
