"""A project in the original layout with member 1 collapsed on Animation: flagged on Overview with
its recorded per-class F1, and every part of the Collapse inspector shows the right numbers."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation.collapse import (
    class_probabilities,
    confusion_rows,
    ensemble_cost,
    probability_summary,
    summary_line,
    weakest_class,
)
from core.evaluation.predictions import SplitPredictions
from dashboard.navigation import COLLAPSE_PAGE, INSPECT_REQUEST_KEY
from tests.dashboard.test_pages_part1 import core_split, metric_value, table_with
from tests.original_project import RECORDED, write_original_project

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
OVERVIEW = "app_pages/1_Overview.py"
MODEL_1 = "best_ensemble_model_1"


def array(value: object) -> np.ndarray:
    """A chart's data as numbers: plotly's JSON stores numeric arrays as base64 `bdata`."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_original_project(tmp_path_factory.mktemp("original_layout")).root


@pytest.fixture(scope="module")
def split(project: Path) -> SplitPredictions:
    return core_split(project, "test", ("original",))


@pytest.fixture
def inspector(project: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Overview first, then its collapse flag's button into the inspector."""
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(OVERVIEW).run()
    assert not at.exception, [e.value for e in at.exception]
    at.button(key="inspect_collapse_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_flags_member_1_and_shows_recorded_numbers(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    flags = [w.value for w in at.warning if "collapsed" in w.value]
    assert flags and all(f.startswith("**Model 1** looks collapsed on **Animation**") for f in flags)
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "val acc 72.7%" in sidebar and "val acc not recorded" not in sidebar
    loaded = table_with(at, "best val acc (recorded)")
    assert loaded["best val acc (recorded)"].tolist() == [RECORDED[n]["accuracy"] for n in range(1, 5)]
    recorded = table_with(at, "score", "recorded", "difference").set_index(["checkpoint", "score"])
    for number, values in RECORDED.items():
        row = recorded.loc[f"Model {number}"]
        assert row.loc["accuracy", "recorded"] == values["accuracy"]
        classes = ("Animation", "Flat_Content", "Gaming", "Natural_Content")
        assert [row.loc[f"F1 {c}", "recorded"] for c in classes] == values["f1"]
    val = core_split(project, "val", ("original",))
    model_1_animation = recorded.loc[("Model 1", "F1 Animation")]
    assert model_1_animation["recomputed"] == val.metrics(MODEL_1).f1_per_class[0] == 0.0
    assert model_1_animation["difference"] == pytest.approx(-1.10)


def test_inspector_opens_on_the_flagged_member(inspector: AppTest) -> None:
    assert inspector.title[0].value == "Collapse inspector"
    assert inspector.selectbox(key="collapse_member").value == MODEL_1
    assert inspector.selectbox(key="collapse_class").value == "Animation"
    assert INSPECT_REQUEST_KEY not in inspector.session_state


def test_inspector_numbers(inspector: AppTest, split: SplitPredictions) -> None:
    at = inspector
    f1 = table_with(at, "class", "F1", "Model 1").set_index(["class", "F1"])
    assert f1.loc[("Animation", "recorded"), "Model 1"] == 1.10
    assert f1.loc[("Animation", "recorded"), "Model 2"] == 86.46
    for name in split.member_names:
        label = name.replace("best_ensemble_model_", "Model ")
        recomputed = f1.loc[("Animation", "recomputed"), label]
        assert recomputed == pytest.approx(split.metrics(name).f1_per_class[0])
    assert f1.loc[("Animation", "recomputed"), "Model 1"] == 0.0

    went = table_with(at, "videos", "Flat_Content").set_index("member")
    expected = confusion_rows(split, 0)
    np.testing.assert_allclose(went[list(split.class_names)].to_numpy(), expected[list(split.class_names)])
    assert went.loc["Model 1", "Flat_Content"] == pytest.approx(100 * 11 / 12)

    how = table_with(at, "median probability", "mode").set_index("member")
    summary = probability_summary(class_probabilities(split, 0))
    # The page predicts with every TTA mode in one batch: float32 rounding differs slightly.
    np.testing.assert_allclose(how["median probability"], summary["median probability"], rtol=1e-4)
    assert how.loc["Model 1", "mode"] == "confidently wrong"
    assert how.loc["Model 2", "mode"] == "mostly right"
    box = plotly.io.from_json(at.get("plotly_chart")[0].proto.spec)
    assert [trace.name for trace in box.data] == ["Model 1", "Model 2", "Model 3", "Model 4"]
    model_1_probabilities = class_probabilities(split, 0).query("member == @MODEL_1")["probability"]
    np.testing.assert_allclose(array(box.data[0].y), model_1_probabilities, rtol=1e-4)

    # The last chart: the explanation panel's two sit between the box plot and it.
    epochs = plotly.io.from_json(at.get("plotly_chart")[-1].proto.spec)
    assert [a.text for a in epochs.layout.annotations] == ["saved epoch 52", "early stop 77"]
    model_1 = next(t for t in epochs.data if t.name == "Model 1")
    assert len(array(model_1.x)) == 77 and array(model_1.y)[-1] == pytest.approx(1.10)

    cost = ensemble_cost(split, MODEL_1)
    assert metric_value(at, "Accuracy change") == f"{cost.accuracy_change:+.1f} pp"
    assert metric_value(at, "McNemar") == f"{cost.mcnemar.p_value:.3g}" == "1"
    costs = table_with(at, "metric", "with", "without").set_index("metric")
    assert costs.loc["accuracy", "with"] == pytest.approx(100 * 47 / 48)
    assert costs.loc["F1 Animation", "change"] == pytest.approx(
        cost.without_member.f1_per_class[0] - cost.with_member.f1_per_class[0]
    )
    assert at.selectbox(key="collapse_gained_open_video").options == cost.gained_without["video"].tolist()
    assert at.selectbox(key="collapse_lost_open_video").options == cost.lost_without["video"].tolist()

    rows = confusion_rows(split, 0).set_index("member")
    median = float(summary.set_index("member").loc[MODEL_1, "median probability"])
    line = summary_line("Model 1", "Animation", rows.loc[MODEL_1], "confidently wrong", median, cost)
    assert [i.value for i in at.info] == [line]
    assert line.startswith("Model 1 sends 92% of Animation videos to Flat_Content (confidently wrong")


def test_any_member_can_be_picked_and_a_flip_opens_in_classify(inspector: AppTest, split) -> None:
    at = inspector.switch_page(COLLAPSE_PAGE)  # AppTest reruns the page it was switched to last
    at.selectbox(key="collapse_member").set_value("best_ensemble_model_3").run()
    assert not at.exception, [e.value for e in at.exception]
    weakest = split.class_names[weakest_class(split, "best_ensemble_model_3")]
    assert at.selectbox(key="collapse_class").value == weakest
    at.selectbox(key="collapse_class").set_value("Natural_Content").run()
    went = table_with(at, "videos", "Flat_Content").set_index("member")
    assert went.loc["Model 3", "Natural_Content"] == pytest.approx(100 * 11 / 12)  # its own miss
    assert went.loc["Model 3", "Flat_Content"] == pytest.approx(100 / 12)
    cost = ensemble_cost(split, "best_ensemble_model_3")
    assert metric_value(at, "Accuracy change") == f"{cost.accuracy_change:+.1f} pp"
    at.selectbox(key="collapse_member").set_value(MODEL_1).run()
    video = at.selectbox(key="collapse_gained_open_video").value
    at.button(key="collapse_gained_open_button").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Classify"
    chosen = at.selectbox(key="classify_index")
    assert chosen.format_func(chosen.value).startswith(f"{video}  ")


def test_the_inspector_is_listed_and_reachable_directly(project: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(COLLAPSE_PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="collapse_member").value == MODEL_1
    assert at.selectbox(key="collapse_class").value == "Animation"  # its weakest class
    assert isinstance(table_with(at, "median probability"), pd.DataFrame)
