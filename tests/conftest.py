"""Shared test configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty project that the app itself fills with the CI-scale demo bundle on its first
    run, as on a fresh machine; built once per test session and shared by the page tests."""
    root = tmp_path_factory.mktemp("no_artifacts")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DASHBOARD_ROOT", str(root))
        patch.setenv("DASHBOARD_DEMO_SCALE", "ci")
        app = AppTest.from_file(APP, default_timeout=300)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
    return root


def finish_background_tta() -> list[str]:
    """Let the TTA passes the app started in the background finish, so the next run shows them;
    the errors of those that failed."""
    from dashboard.cache import background_predictions

    return [p.error for p in background_predictions().wait_all(timeout=120) if p.error is not None]
