"""Real browser: the explanation panel on Classify (step scores under the frame strip, deletion
curves, Grad-CAM overlays) and on the Collapse inspector, at 1280 px and on a phone; screenshots
to $SCREENSHOT_DIR (docs/screenshots) or tmp."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from core.features.store import load_feature_set
from core.paths import ProjectPaths
from tests.dashboard.browser_support import (
    chromium_page,
    clipped_tables,
    require_browser,
    screenshot_dir,
    settle,
    streamlit_server,
    wait_for_app_idle,
)
from tests.dashboard.test_explain_panel import video_with_grad_cam

pytestmark = pytest.mark.browser


def show(page, url: str, heading: str) -> None:
    page.goto(url)
    wait_for_app_idle(page)
    page.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    settle(page)
    page.get_by_role("heading", name=heading).evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)


@pytest.mark.parametrize(("width", "height", "suffix"), [(1280, 800, "desktop"), (390, 844, "phone")])
def test_explanations_on_classify_and_the_collapse_inspector(
    demo_root: Path, tmp_path: Path, width: int, height: int, suffix: str
) -> None:
    require_browser()
    shots = screenshot_dir(tmp_path)
    index = video_with_grad_cam(demo_root)
    name = load_feature_set(ProjectPaths.at(demo_root).features_file("test")).video_names[index]
    with streamlit_server(demo_root) as url, chromium_page(width, height) as page:
        show(page, f"{url}/classify?video={quote(name)}", "Why this verdict")
        page.get_by_text("Most faithful for Ensemble on this video").or_(
            page.get_by_text("no time step matters much on its own for this clip")
        ).first.wait_for(timeout=60_000)
        assert page.get_by_text("Occlusion per frame, towards").count() == 1
        assert page.get_by_text("Deletion curves: lower is more faithful").count() == 1
        assert page.get_by_text("16 random orders (band)").count() == 1
        assert page.get_by_text("only when its area is below the area of every one").count() == 1
        assert page.get_by_text("Attention against uniform").count() == 1
        page.get_by_text("Grad-CAM on the backbone's last convolution").first.wait_for(timeout=120_000)
        assert page.get_by_text("Grad-CAM scale (every frame of this clip)").count() == 1
        assert page.locator('[data-testid="stImage"] img').count() >= 8
        assert page.locator('[data-testid="stException"]').count() == 0
        if width >= 1280:
            assert clipped_tables(page) == []
        page.screenshot(path=str(shots / f"explain_classify_{suffix}.png"))
        page.get_by_text("Deletion curves: lower is more faithful").evaluate(
            "e => e.scrollIntoView({block: 'start'})"
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"explain_faithfulness_{suffix}.png"))
        page.get_by_text("Grad-CAM scale (every frame of this clip)").evaluate(
            "e => e.scrollIntoView({block: 'center'})"
        )
        page.wait_for_timeout(500)
        page.screenshot(path=str(shots / f"explain_grad_cam_{suffix}.png"))

        show(page, f"{url}/collapse_inspector", "Which frames misled it")
        page.get_by_text("Both towards the true class").first.wait_for(timeout=60_000)
        assert page.get_by_text("Model 1 (predicted").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(shots / f"explain_collapse_{suffix}.png"))
