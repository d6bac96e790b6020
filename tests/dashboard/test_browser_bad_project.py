"""Real browser: one project folder with a broken member, a NaN in the validation split, a stray
HDF5 group under features_enhanced/archive/ and a malformed run opens with every page rendering
and the problems listed; an upload named with Markdown reads as written. Screenshots go to
$SCREENSHOT_DIR or tmp."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.plain_text import WORD_JOINER
from tests.bad_inputs import write_bad_project
from tests.dashboard.browser_support import (
    chromium_page,
    require_browser,
    screenshot_dir,
    streamlit_server,
    wait_for_app_idle,
)
from tests.factories import write_noise_clip

pytestmark = pytest.mark.browser
PAGES = ["", "Classify", "Compare_models", "Metrics", "Training_history", "Evaluation_runs"]
MARKDOWN_NAME = "**x** [link](http://example.invalid).mp4"
# (page, where, text the user must read there)
PROBLEMS = [
    ("", "sidebar", "best_ensemble_model_2.pt: weights contain NaN or infinite values"),
    ("", "sidebar", "val_features_multiscale.h5 cannot be analysed"),
    ("", "sidebar", "'features' is a Group, not a dataset"),
    ("Evaluation_runs", "main", "broken_run.json: incomplete evaluation run"),
    ("Evaluation_runs", "main", "'predictors' should be a dict, found list"),
]


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app_idle(page)
    page.locator("h1").first.wait_for(timeout=60_000)
    page.wait_for_timeout(700)
    wait_for_app_idle(page)


def test_bad_project_opens_with_every_page_and_the_problems_listed(tmp_path: Path) -> None:
    require_browser()
    root = write_bad_project(tmp_path / "project")
    shots = screenshot_dir(tmp_path)
    with streamlit_server(root) as url, chromium_page(height=1800) as page:
        for name in PAGES:
            open_page(page, f"{url}/{name}")
            assert page.locator('[data-testid="stException"]').count() == 0, name
            assert "Traceback" not in page.inner_text("body"), name
            for problem_page, where, text in PROBLEMS:
                if problem_page == name:
                    area = page.locator(
                        '[data-testid="stSidebar"]' if where == "sidebar" else '[data-testid="stMain"]'
                    )
                    area.get_by_text(text, exact=False).first.wait_for(timeout=30_000)
            if name == "":
                page.screenshot(path=str(shots / "bad_project_overview.png"))
        options = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.inner_text()
        assert "old.h5" not in options


def test_an_upload_named_with_markdown_reads_as_written(tmp_path: Path) -> None:
    require_browser()
    root = write_bad_project(tmp_path / "project")
    clip = write_noise_clip(tmp_path / "clip.mp4", count=30)
    with streamlit_server(root) as url, chromium_page(height=1800) as page:
        open_page(page, url)
        open_page(page, f"{url}/Classify")
        page.get_by_text("An uploaded clip").click()
        page.wait_for_timeout(700)
        wait_for_app_idle(page)
        page.locator('input[type="file"]').set_input_files(
            {"name": MARKDOWN_NAME, "mimeType": "video/mp4", "buffer": clip.read_bytes()}
        )
        page.get_by_text("Verdict", exact=False).first.wait_for(timeout=60_000)
        wait_for_app_idle(page)
        # Read as the user does: the invisible word joiners that stop autolinking do not count.
        shown = page.locator('[data-testid="stMain"]').inner_text().replace(WORD_JOINER, "")
        assert MARKDOWN_NAME in shown
        assert page.locator('a[href^="http://example.invalid"]').count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(screenshot_dir(tmp_path) / "classify_markdown_upload.png"))
