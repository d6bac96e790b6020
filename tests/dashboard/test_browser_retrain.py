"""Real browser, the whole retrain loop on a copy of the demo: the form with its measured cost, the
job seen from another page, live curves, the one-click comparison, the composer with the
candidate, promotion with a backup and its restore; screenshots to $SCREENSHOT_DIR
(docs/screenshots) or tmp."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from core.model.prediction_cache import file_fingerprint
from tests.dashboard.browser_support import (
    chromium_page,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def project(demo_root: Path, tmp_path: Path) -> Path:
    require_browser()
    root = tmp_path / "project"
    # The demo's cached predictions come along, so the app does not recompute them while it trains.
    for folder in ("models_enhanced", "features_enhanced", "runs", ".cache"):
        if (demo_root / folder).is_dir():
            shutil.copytree(demo_root / folder, root / folder)
    return root


def show(page, text: str) -> None:
    """Scroll `text` into view once the app is idle; a rerun may redraw it meanwhile, so retry."""
    for _ in range(5):
        settle(page)
        try:
            page.get_by_text(text).first.scroll_into_view_if_needed(timeout=5_000)
            return
        except PlaywrightError:
            page.wait_for_timeout(1_000)
    raise AssertionError(f"{text!r} never settled on the page")


def test_retrain_compare_compose_and_promote(project: Path, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    models = project / "models_enhanced"
    original = file_fingerprint(models / "best_ensemble_model_1.pt")
    with streamlit_server(project) as url, chromium_page(width=1280, height=800) as page:
        page.goto(f"{url}/collapse_inspector")
        settle(page)
        page.get_by_role("heading", name="Retrain this member").wait_for(timeout=120_000)
        page.get_by_text(re.compile(r"timed on \d+ training batches of this member's size")).wait_for(
            timeout=60_000
        )
        settle(page)
        page.get_by_role("button", name="Start retraining").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "retrain_form.png"))
        # Long enough to be seen running from this page and another on an idle machine (a CI-scale
        # epoch takes a fraction of a second), with a patience it cannot exhaust.
        page.get_by_role("spinbutton", name="Epochs (at most)").fill("150")
        page.get_by_role("spinbutton", name="Patience").fill("150")
        page.get_by_role("button", name="Start retraining").click()
        settle(page)
        page.get_by_text(re.compile(r"Training the candidate \(seed 46\): epoch [1-9]")).wait_for(
            timeout=300_000
        )
        page.get_by_role("heading", name="Retrain this member").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "retrain_live.png"))

        # The job belongs to the server, not the page: another page shows it in the sidebar.
        page.goto(f"{url}/")
        settle(page)
        page.locator('[data-testid="stSidebar"]').get_by_text("Retraining Model 1, seed 46").wait_for(
            timeout=30_000
        )
        page.goto(f"{url}/collapse_inspector")
        settle(page)
        page.get_by_text("Candidate ready (seed 46)").wait_for(timeout=600_000)
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.get_by_role(
            "button", name="Compare the ensemble with the original member vs with the candidate"
        ).click()
        page.get_by_text("Videos fixed / broken").wait_for(timeout=300_000)
        page.wait_for_timeout(2500)  # the sidebar's job status catches up on its next poll
        settle(page)
        page.get_by_text("Videos fixed / broken").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "retrain_compare.png"))
        assert file_fingerprint(models / "best_ensemble_model_1.pt") == original

        page.goto(f"{url}/compare_models")
        settle(page)
        picker = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Include retrained candidates")
        picker.locator("input").click()
        page.keyboard.type("Candidate 1")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        settle(page)
        composer = page.locator('[data-testid="stCheckbox"]')
        composer.filter(has_text="Candidate 1 (seed 46)").click()
        settle(page)
        composer.filter(has_text="Model 1").click()
        settle(page)
        assert composer.filter(has_text="Candidate 1 (seed 46)").locator("input").is_checked()
        assert not composer.filter(has_text="Model 1").locator("input").is_checked()
        page.get_by_role("heading", name="Ensemble composer").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "retrain_composer.png"))

        page.goto(f"{url}/collapse_inspector")
        settle(page)
        page.get_by_text("Promote the candidate into models_enhanced/").click()
        # A candidate worse on the validation split needs the second tick box naming what falls.
        worse = page.get_by_text("I accept that on the validation split")
        if worse.count():
            worse.click()
            settle(page)
        page.get_by_text("Yes, replace Model 1 with this candidate").click()
        settle(page)
        page.get_by_role("button", name="Promote", exact=True).click()
        page.get_by_text("This candidate is Model 1 now (promoted)").wait_for(timeout=120_000)
        show(page, "This candidate is Model 1 now (promoted)")
        page.screenshot(path=str(shots / "retrain_promoted.png"))
        backups = sorted(p.name for p in models.glob("best_ensemble_model_1.backup-*.pt"))
        assert len(backups) == 1 and file_fingerprint(models / backups[0]) == original
        candidates = list((project / "runs" / "retrain").glob("*/candidate/best_ensemble_model_1.pt"))
        assert file_fingerprint(models / "best_ensemble_model_1.pt") == file_fingerprint(candidates[0])
        page.set_viewport_size({"width": 390, "height": 844})
        show(page, "Candidate ready (seed 46)")
        page.screenshot(path=str(shots / "retrain_narrow.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
        page.get_by_role("button", name="Restore the previous member").click()
        page.get_by_text("Restored the previous member").wait_for(timeout=120_000)
        show(page, "Restored the previous member")
        page.screenshot(path=str(shots / "retrain_restored.png"))
    assert not list(models.glob("*.backup-*"))
    assert file_fingerprint(models / "best_ensemble_model_1.pt") == original
