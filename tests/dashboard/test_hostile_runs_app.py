"""Hostile run files on the Evaluation runs page, through the real app: a broken run is listed with
its problem and opening it shows that message, never a traceback; a link naming it falls back
quietly; 52,000 warnings are summarised; a name full of Markdown stays text, headings included."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation.runs import load_run
from tests.bad_inputs import write_good_run
from tests.conftest import finish_background_tta
from tests.dashboard.app_pages import APP
from tests.factories import write_project

RUNS = "app_pages/6_Evaluation_runs.py"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "project", num_videos=8)
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    return root


def runs_page(query: dict[str, str] | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    finish_background_tta()
    app.query_params.update(query or {})
    app.switch_page(RUNS).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def copy_run(good: Path, name: str, **changes: object) -> Path:
    document = {**json.loads(good.read_text()), **changes}
    path = good.with_name(name)
    path.write_text(json.dumps(document))
    return path


def out_of_range_run(root: Path) -> Path:
    good = write_good_run(root)
    labels = json.loads(good.read_text())["labels"]
    return copy_run(good, "bad-labels.json", labels=[9, *labels[1:]])


def test_a_run_with_bad_labels_is_listed_with_its_problem_and_never_opened(project: Path) -> None:
    bad = out_of_range_run(project)
    app = runs_page()
    skipped = [w.value for w in app.main.warning if w.value.startswith("Skipped")]
    assert len(skipped) == 1 and bad.name in skipped[0] and "outside the 4 classes" in skipped[0]
    assert app.multiselect(key="runs_open").options == ["good.json"]


def test_a_link_naming_a_broken_run_falls_back_quietly(project: Path) -> None:
    bad = out_of_range_run(project)
    app = runs_page({"runs_open": bad.name})
    assert not app.error
    assert app.multiselect(key="runs_open").value == ["good.json"]
    assert app.subheader[0].value == "Run `good.json`"


def test_a_project_whose_only_run_is_broken_says_so(project: Path) -> None:
    bad = out_of_range_run(project)
    (project / "runs" / "good.json").unlink()
    app = runs_page({"runs_open": bad.name})
    assert not app.exception
    assert "None of the run files opens" in app.error[0].value


def test_fifty_two_thousand_warnings_are_summarised(project: Path) -> None:
    good = write_good_run(project)
    copy_run(good, "noisy.json", warnings=[f"warning number {i}" for i in range(52_000)])
    started = time.perf_counter()
    app = runs_page({"runs_open": "noisy.json"})
    elapsed = time.perf_counter() - started
    shown = [w.value for w in app.main.warning if "warning number" in w.value]
    assert shown == ["warning number 0", "warning number 1", "warning number 2"]
    assert any(e.label == "52000 warning(s) in this run in all; 51997 more" for e in app.main.expander)
    assert elapsed < 60, elapsed


def test_a_run_named_with_backticks_and_markdown_stays_text(project: Path) -> None:
    good = write_good_run(project)
    name = "x` **bold** [link](http:e.x) ``y.json"
    good.rename(good.with_name(name))
    assert load_run(good.with_name(name)).num_videos == 8
    app = runs_page({"runs_open": name})
    assert app.subheader[0].value == f"Run ```{name}```"
