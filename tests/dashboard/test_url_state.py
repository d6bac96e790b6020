"""Every page's main choices live in the URL: a link opens the page as it was shared, and a
change on the page shows in the URL (AppTest's query parameters are the browser's address).

Widgets bound with `bind="query-params"` (Metrics, Compare models, Training history) have their
URL written by the browser, which AppTest has not: for them the link's direction is tested here."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit.elements.lib import policies
from streamlit.testing.v1 import AppTest

from tests.conftest import finish_background_tta
from tests.dashboard.app_pages import APP
from tests.factories import write_project

CLASSIFY, COMPARE = "app_pages/2_Classify.py", "app_pages/3_Compare_models.py"
METRICS = "app_pages/4_Metrics.py"
HISTORY, COLLAPSE = "app_pages/5_Training_history.py", "app_pages/7_Collapse_inspector.py"
MODEL_2 = "best_ensemble_model_2"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("url_state"))


def open_link(root: Path, monkeypatch: pytest.MonkeyPatch, page: str, params: dict) -> AppTest:
    """A fresh session opened on `page` with the link's query parameters (AppTest learns the page
    list from a first run, which creates none of the page's own state)."""
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    finish_background_tta()
    at.query_params.clear()
    at.query_params.update(params)
    at.switch_page(page).run()
    finish_background_tta()
    assert not at.exception, [e.value for e in at.exception]
    return at


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_classify_link_restores_filters_members_and_tta_without_a_session_state_warning(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Streamlit's loggers do not propagate, and it warns once per process: listen to the one
    # that warns, with the once-flag cleared.
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    collected = Collected()
    logger = logging.getLogger(policies.__name__)
    logger.addHandler(collected)
    link = {"members": [MODEL_2, "best_ensemble_model_3"], "tta": "off", "misclassified": "1", "q": "vid"}
    try:
        at = open_link(project, monkeypatch, CLASSIFY, link)
    finally:
        logger.removeHandler(collected)
    assert not [m for m in collected.messages if "Session State API" in m]
    assert at.multiselect(key="classify_members").value == [MODEL_2, "best_ensemble_model_3"]
    assert at.toggle(key="classify_tta").value is False
    assert at.checkbox(key="classify_misclassified").value is True
    assert at.text_input(key="classify_query").value == "vid"

    at.checkbox(key="classify_misclassified").uncheck()
    at.checkbox(key="classify_disagree").check()
    at.multiselect(key="classify_classes").set_value(["Gaming"]).run()
    assert "misclassified" not in at.query_params
    assert at.query_params["disagree"] == "1"
    assert at.query_params["class"] == "Gaming"
    assert at.query_params["q"] == "vid"


def test_classify_link_to_an_upload_opens_the_upload_source(project: Path, monkeypatch) -> None:
    at = open_link(project, monkeypatch, CLASSIFY, {"source": "upload"})
    assert at.radio(key="classify_source").value == "An uploaded clip"
    at.radio(key="classify_source").set_value("A test video").run()
    assert "source" not in at.query_params


def test_collapse_inspector_link_restores_member_and_class(project: Path, monkeypatch) -> None:
    at = open_link(project, monkeypatch, COLLAPSE, {"member": MODEL_2, "class": "Gaming"})
    assert at.selectbox(key="collapse_member").value == MODEL_2
    assert at.selectbox(key="collapse_class").value == "Gaming"
    at.selectbox(key="collapse_class").set_value("Flat_Content").run()
    assert (at.query_params["member"], at.query_params["class"]) == (MODEL_2, "Flat_Content")


def test_metrics_link_restores_the_confusion_cell_and_bins(project: Path, monkeypatch) -> None:
    link = {"metrics_cm_true": "Gaming", "metrics_cm_predicted": "Animation", "metrics_bins": "7"}
    at = open_link(project, monkeypatch, METRICS, link)
    assert at.selectbox(key="metrics_cm_true").value == "Gaming"
    assert at.selectbox(key="metrics_cm_predicted").value == "Animation"
    assert at.slider(key="metrics_bins").value == 7


def test_compare_and_history_links_restore_their_choices(project: Path, monkeypatch) -> None:
    at = open_link(project, monkeypatch, COMPARE, {f"compare_use_{MODEL_2}": "false"})
    assert at.checkbox(key=f"compare_use_{MODEL_2}").value is False
    at = open_link(project, monkeypatch, HISTORY, {"history_models": ["Model 1", "Model 3"]})
    assert at.multiselect(key="history_models").value == [1, 3]
