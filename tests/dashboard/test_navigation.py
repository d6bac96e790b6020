"""The "open this video in Classify" hand-off: every page uses the one helper, and Classify
takes the video once, with its filters cleared so the video is listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.navigation import CLASSIFY_PAGE, INCOMING_VIDEO_KEY, classify_page_installed
from tests.factories import write_project

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
COMPARE = "app_pages/3_Compare_models.py"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


def app_at(project: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_opened_video_is_selected_with_filters_cleared(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app_at(project, monkeypatch, CLASSIFY_PAGE)
    at.text_input(key="classify_query").set_value("no video has this name").run()
    at.checkbox(key="classify_misclassified").check().run()
    assert any("No video matches" in i.value for i in at.info)
    at.switch_page(COMPARE).run()
    video = at.selectbox(key="compare_disagreement_video").options[-1]
    at.selectbox(key="compare_disagreement_video").set_value(video)
    at.button(key="compare_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Classify"
    assert INCOMING_VIDEO_KEY not in at.session_state
    assert at.text_input(key="classify_query").value == ""
    assert at.checkbox(key="classify_misclassified").value is False
    chosen = at.selectbox(key="classify_index")
    assert chosen.format_func(chosen.value).startswith(f"{video}  ")


def test_a_video_missing_from_the_split_is_named(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = app_at(project, monkeypatch, COMPARE)
    at.session_state[INCOMING_VIDEO_KEY] = "Gaming/nowhere.mp4"
    at.switch_page(CLASSIFY_PAGE).run()
    assert [w.value for w in at.warning] == ["Video Gaming/nowhere.mp4 is not in the analysed features file."]
    assert INCOMING_VIDEO_KEY not in at.session_state


def test_only_the_helper_switches_pages() -> None:
    assert classify_page_installed()
    sources = sorted((ROOT / "dashboard").rglob("*.py")) + sorted((ROOT / "pages").glob("*.py"))
    writers = [
        path.relative_to(ROOT).as_posix()
        for path in sources
        if re.search(r"switch_page\(|\"classify_video\"", path.read_text(encoding="utf-8"))
    ]
    assert writers == ["dashboard/navigation.py"]
