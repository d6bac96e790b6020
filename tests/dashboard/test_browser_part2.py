"""Real browser: start an evaluation from the sidebar, browse while it runs, find it listed;
click a confusion-matrix cell; play the training history. Screenshots go to $SCREENSHOT_DIR
(docs/screenshots) or tmp."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from core.demo.bundle import build_demo_bundle
from core.evaluation.predictions import SplitPredictions
from core.evaluation.runs import run_evaluation
from core.features.store import FeatureSet, load_feature_set
from core.features.writer import write_feature_set
from tests.dashboard.browser_support import (
    chromium_page,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
    wait_for_app_idle,
)

pytestmark = pytest.mark.browser
SCALE = os.environ.get("DASHBOARD_DEMO_SCALE", "ci")
# Big enough that a batch-size-1 evaluation lasts several seconds on two cores.
LARGE_FEATURES = "large_features_multiscale.h5"
LARGE_VIDEOS = 400


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_browser()
    root = tmp_path_factory.mktemp("browser_demo_part2")
    build_demo_bundle(root, scale=SCALE)
    write_feature_set(
        root / "features_enhanced" / LARGE_FEATURES, repeated(load_feature_set(demo_test_split(root)))
    )
    return root


def demo_test_split(root: Path) -> Path:
    return root / "features_enhanced" / "test_features_multiscale.h5"


def repeated(features: FeatureSet) -> FeatureSet:
    """The demo's test videos repeated under new names: a realistic, larger split."""
    copies = -(-LARGE_VIDEOS // features.num_videos)
    names = [f"{Path(n).parent}/r{i}_{Path(n).name}" for i in range(copies) for n in features.video_names]
    return FeatureSet(
        np.tile(features.features, (copies, 1, 1)),
        np.tile(features.labels, copies),
        np.tile(features.num_frames, copies),
        names,
        features.class_names,
        features.recipe,
    )


def busiest_error_cell(root: Path) -> tuple[int, int, list[str]]:
    """The off-diagonal confusion cell of Ensemble + TTA with the most videos, from core."""
    checkpoints = sorted((root / "models_enhanced").glob("best_ensemble_model_*.pt"))
    split = SplitPredictions.from_run(run_evaluation(checkpoints, demo_test_split(root), device="cpu"))
    matrix = np.asarray(split.metrics("ensemble_tta").confusion_matrix)
    np.fill_diagonal(matrix, -1)
    true_index, predicted_index = np.unravel_index(matrix.argmax(), matrix.shape)
    return int(true_index), int(predicted_index), split.class_names


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def go_to(page, title: str) -> None:
    """Navigate inside the session (a new URL would start a new session without the job)."""
    sidebar(page).locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    settle(page)


def choose(page, scope, label: str, option: str) -> None:
    """Pick an option; a rerun that redraws the open list detaches it, so retry (at most 3 times)."""
    box = scope.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    for _ in range(3):
        wait_for_app_idle(page)
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    expect(box.locator("input")).to_have_value(option, timeout=10_000)


def test_sidebar_run_while_browsing_then_listed(demo_project: Path, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    runs_before = set((demo_project / "runs").glob("*.json"))
    with streamlit_server(demo_project) as url, chromium_page(height=1900) as page:
        page.goto(url)
        settle(page)
        sidebar(page).get_by_text("Evaluation run", exact=True).click()
        form = sidebar(page).locator('[data-testid="stForm"]')
        choose(page, form, "Features file", LARGE_FEATURES)
        form.locator('[data-testid="stNumberInput"] input').fill("1")
        form.get_by_role("button", name="Start evaluation").click()
        progress = sidebar(page).locator('[data-testid="stProgress"]')
        progress.wait_for(timeout=30_000)
        expect(form).to_be_hidden(timeout=10_000)  # the launcher closed itself

        go_to(page, "Metrics")
        progress.wait_for(timeout=10_000)
        # In view without scrolling, above the launcher, with its Cancel button.
        assert (
            progress.bounding_box()["y"]
            < sidebar(page).get_by_text("Evaluation run", exact=True).bounding_box()["y"]
        )
        assert progress.bounding_box()["y"] + progress.bounding_box()["height"] < page.viewport_size["height"]
        assert sidebar(page).get_by_role("button", name="Cancel evaluation").is_visible()
        assert page.get_by_text("Confusion matrix").is_visible()
        page.screenshot(path=str(shots / "eval_running.png"))

        saved = sidebar(page).get_by_text(re.compile("Evaluation saved"))
        saved.wait_for(timeout=90_000)
        new_runs = set((demo_project / "runs").glob("*.json")) - runs_before
        assert len(new_runs) == 1
        run_name = new_runs.pop().name
        assert "large-4models-tta" in run_name

        go_to(page, "Evaluation runs")
        page.get_by_text(f"Run {run_name}").wait_for(timeout=30_000)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / "evaluation_runs.png"), full_page=True)


def test_confusion_cell_click_and_history_playback(demo_project: Path, tmp_path: Path) -> None:
    shots = screenshot_dir(tmp_path)
    with streamlit_server(demo_project) as url, chromium_page(height=2600) as page:
        page.goto(url)
        settle(page)
        go_to(page, "Metrics")
        true_index, predicted_index, classes = busiest_error_cell(demo_project)
        matrix = page.locator(".js-plotly-plot").nth(1)
        # Cells are drawn row-major (row = true class). Plotly's drag layer sits on top of the
        # markers, so click where the cell is drawn rather than on the element.
        cell = matrix.locator(".scatterlayer .point").nth(true_index * len(classes) + predicted_index)
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(0, 0)
        settle(page)
        true_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="True class")
        predicted_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Predicted class")
        assert true_box.locator("input").input_value() == classes[true_index]
        assert predicted_box.locator("input").input_value() == classes[predicted_index]
        stroke = cell.evaluate("e => parseFloat(getComputedStyle(e).strokeWidth)")
        other = matrix.locator(".scatterlayer .point").nth(
            true_index * len(classes) + (predicted_index + 1) % len(classes)
        )
        assert stroke >= 4 and other.evaluate("e => parseFloat(getComputedStyle(e).strokeWidth)") <= 1
        title = f"true {classes[true_index]}, predicted {classes[predicted_index]}"
        assert page.locator("p").filter(has_text=title).count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / "metrics.png"), full_page=True)

        go_to(page, "Training history")
        epoch = page.locator('[data-testid="stSliderThumbValue"]')
        last = int(epoch.inner_text())
        page.get_by_role("button", name="Play").click()
        seen: list[int] = []
        for _ in range(200):  # at most 60 s: playback ticks once per epoch, whatever the epoch count
            page.wait_for_timeout(300)
            value = int(epoch.inner_text())
            if not seen and value == last:
                continue  # the click's rerun has not restarted playback yet (seen under CPU load)
            seen.append(value)
            if len(seen) > 1 and value == last:
                break
        # Playing from the last epoch starts over, then steps one epoch per tick up to the end.
        assert seen == sorted(seen) and len(set(seen)) >= 2 and seen[-1] == last
        assert seen[0] == 1  # starts at the first epoch, not the second
        page.get_by_role("button", name="Play").wait_for(timeout=5_000)
        # The epoch survives leaving the page and a reload (it is in the URL).
        # Streamlit 1.67's slider thumb is a visually hidden <input type="range"> (implicit role).
        page.get_by_role("slider", name="Epoch").focus()
        page.keyboard.press("ArrowLeft")
        settle(page)
        expect(epoch).to_have_text(str(last - 1))
        go_to(page, "Metrics")
        go_to(page, "Training history")
        expect(epoch).to_have_text(str(last - 1), timeout=30_000)
        page.reload()
        wait_for_app_idle(page)
        expect(epoch).to_have_text(str(last - 1), timeout=60_000)
        page.screenshot(path=str(shots / "training_history.png"), full_page=True)
