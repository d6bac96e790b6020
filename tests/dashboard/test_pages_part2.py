"""Metrics, Training history and Evaluation runs pages, and the sidebar launcher, under AppTest
with small generated projects and with none (the demo bundle)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation.calibration import calibration_table
from core.evaluation.predictions import SplitPredictions
from core.evaluation.run_compare import compare_runs
from core.evaluation.runs import run_evaluation, save_run
from core.model.tta import TTA_MODES
from core.training.history import load_training_history
from tests.conftest import finish_background_tta
from tests.factories import write_project

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
METRICS, HISTORY = "app_pages/4_Metrics.py", "app_pages/5_Training_history.py"
RUNS = "app_pages/6_Evaluation_runs.py"
SUBMIT = "FormSubmitter:evaluation_form-Start evaluation"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "project")
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    return root


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    finish_background_tta()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def members(root: Path) -> list[Path]:
    return sorted((root / "models_enhanced").glob("best_ensemble_model_*.pt"))


def features_of(root: Path) -> Path:
    return root / "features_enhanced" / "test_features_multiscale.h5"


def reference_split(root: Path) -> SplitPredictions:
    """The analysed split computed by core alone, as the evaluate CLI would."""
    return SplitPredictions.from_run(run_evaluation(members(root), features_of(root), device="cpu"))


TABLE_COLUMNS = {
    "per_class": ("precision", "recall"),
    "ece": ("ece",),
    "cell_videos": ("video", "confidence"),
    "best_epochs": ("best_epoch",),
    "class_f1": ("val_f1",),
    "runs": ("ensemble accuracy",),
    "flipped": ("change",),
}


def frame(app: AppTest, table: str) -> pd.DataFrame:
    """The shown table with that table's columns (dataframes carry no key in AppTest)."""
    columns = TABLE_COLUMNS[table]
    return next(d.value for d in app.dataframe if all(c in d.value.columns for c in columns))


def test_metrics_page_matches_core(project: Path) -> None:
    app = open_page(METRICS)
    split = reference_split(project)
    table = frame(app, "per_class")
    expected = split.per_class_table()
    assert table["f1"].to_numpy() == pytest.approx(expected["f1"].to_numpy(), abs=1e-6)
    assert table["recall"].to_numpy() == pytest.approx(expected["recall"].to_numpy(), abs=1e-6)
    ece = frame(app, "ece")
    probabilities = {name: split.predictor_probabilities(name) for name in split.predictor_names}
    assert ece["ece"].to_numpy() == pytest.approx(
        calibration_table(split.labels, probabilities)["ece"], abs=1e-3
    )
    assert [b.label for b in app.get("download_button")] == [
        "Metrics table (CSV)",
        "Per-video predictions (CSV)",
    ]


def test_confusion_cell_lists_exactly_cores_videos(project: Path) -> None:
    app = open_page(METRICS)
    split = reference_split(project)
    matrix = np.asarray(split.metrics("ensemble").confusion_matrix)
    np.fill_diagonal(matrix, -1)
    true_index, predicted_index = np.unravel_index(matrix.argmax(), matrix.shape)
    assert matrix[true_index, predicted_index] > 0
    app.selectbox(key="metrics_confusion_predictor").set_value("ensemble").run()
    app.selectbox(key="metrics_cm_true").set_value(split.class_names[true_index]).run()
    app.selectbox(key="metrics_cm_predicted").set_value(split.class_names[predicted_index]).run()
    shown = frame(app, "cell_videos")
    expected = split.videos_in_cell("ensemble", int(true_index), int(predicted_index))
    assert shown["video"].tolist() == expected["video"].tolist()
    assert shown["confidence"].to_numpy() == pytest.approx(expected["confidence"].to_numpy(), abs=1e-3)
    chosen = expected["video"].iloc[-1]
    app.selectbox(key="metrics_open_video").set_value(chosen)
    app.button(key="metrics_open_button").click().run()
    # Classify took the video (it pops `classify_video`) and selected it.
    assert "classify_video" not in app.session_state
    assert app.session_state["classify_index"] == split.video_names.index(chosen)


def history_class_f1(app: AppTest) -> list[float]:
    return frame(app, "class_f1")["val_f1"].tolist()


def test_history_slider_shows_the_csvs_epoch(project: Path) -> None:
    csv = load_training_history(project / "models_enhanced" / "training_metrics.csv")
    app = open_page(HISTORY)
    app.selectbox(key="history_playback_model").set_value(3).run()
    app.select_slider(key="history_epoch").set_value(4).run()
    row = csv[(csv["model"] == 3) & (csv["epoch"] == 4)].iloc[0]
    assert history_class_f1(app) == pytest.approx([row[f"class_{k}_f1"] for k in range(4)])
    assert app.metric[0].value == f"{row['val_acc']:.1f}%"
    best = frame(app, "best_epochs")
    assert best["best_epoch"].tolist() == [6, 6, 6, 6]


def test_history_playback_advances_one_epoch_per_tick(project: Path) -> None:
    csv = load_training_history(project / "models_enhanced" / "training_metrics.csv")
    app = open_page(HISTORY)
    app.select_slider(key="history_epoch").set_value(2).run()
    app.button(key="history_play").click().run()
    assert app.select_slider(key="history_epoch").value == 3
    app.run()
    assert app.select_slider(key="history_epoch").value == 4
    row = csv[(csv["model"] == 1) & (csv["epoch"] == 4)].iloc[0]
    assert history_class_f1(app) == pytest.approx([row[f"class_{k}_f1"] for k in range(4)])
    for _ in range(3):
        app.run()
    assert app.select_slider(key="history_epoch").value == 6
    assert app.button(key="history_play").label == "Play"


def test_history_names_the_malformed_cell(project: Path) -> None:
    csv = project / "models_enhanced" / "training_metrics.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("val_loss")] = "oops"
    lines[2] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    app = open_page(HISTORY)
    assert "column 'val_loss', line 3" in app.error[0].value
    assert "No training history" in app.warning[0].value


def test_history_missing_csv_says_so(project: Path) -> None:
    (project / "models_enhanced" / "training_metrics.csv").unlink()
    app = open_page(HISTORY)
    assert "training_metrics.csv: file not found" in app.info[0].value


def wait_for_run_file(runs_dir: Path, timeout_s: float = 60.0) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = list(runs_dir.glob("*.json"))
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no run appeared in {runs_dir} within {timeout_s} s")


def test_sidebar_run_completes_and_is_listed_with_evaluates_metrics(project: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    assert app.multiselect(key="eval_checkpoints").value == members(project)
    app.multiselect(key="eval_checkpoints").set_value(members(project)[:3])
    app.number_input(key="eval_batch_size").set_value(16)
    app.button(key=SUBMIT).click().run()
    run_file = wait_for_run_file(project / "runs")
    app.run()
    assert any(run_file.name in s.value for s in app.sidebar.success), "no 'saved' message"
    app.switch_page(RUNS).run()
    assert not app.exception
    listing = frame(app, "runs")
    assert listing["run"].tolist() == [run_file.name]
    expected = run_evaluation(members(project)[:3], features_of(project), tta_modes=TTA_MODES, device="cpu")
    assert listing.loc[0, "ensemble accuracy"] == pytest.approx(expected.scores["ensemble"].accuracy)
    assert listing.loc[0, "ensemble+TTA F1"] == pytest.approx(expected.scores["ensemble_tta"].f1_weighted)
    assert listing.loc[0, "members"] == "1, 2, 3"
    per_class = frame(app, "per_class")
    expected_split = SplitPredictions.from_run(expected)
    assert per_class["f1"].to_numpy() == pytest.approx(expected_split.per_class_table()["f1"].to_numpy())


def test_runs_page_compares_two_runs(project: Path) -> None:
    runs = project / "runs"
    first = run_evaluation(members(project)[:1], features_of(project), tta_modes=(), device="cpu")
    second = run_evaluation(members(project), features_of(project), device="cpu")
    first = replace(first, created_utc="2025-01-01T00:00:00+00:00")
    second = replace(second, created_utc="2025-01-02T00:00:00+00:00")
    save_run(first, runs / "20250101-000000-single.json")
    save_run(second, runs / "20250102-000000-ensemble.json")
    app = open_page(RUNS)
    assert frame(app, "runs")["TTA modes"].tolist() == ["rev, up, down", "off"]
    app.multiselect(key="runs_open").set_value(
        ["20250101-000000-single.json", "20250102-000000-ensemble.json"]
    ).run()
    app.selectbox(key="runs_compare_predictor").set_value("ensemble").run()
    assert "members differ: A has 1, B has 4" in app.warning[0].value
    assert "TTA modes differ: A off, B reverse, speed_up, speed_down" in app.warning[0].value
    expected = compare_runs(first, second, "ensemble")
    flipped = frame(app, "flipped")
    assert flipped["video"].tolist() == expected.flipped["video"].tolist()
    assert flipped["change"].tolist() == expected.flipped["change"].tolist()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["McNemar exact p"] == f"{expected.mcnemar.p_value:.4f}"
    assert metrics["Right → wrong (A→B)"] == str(expected.right_to_wrong)


def test_runs_on_different_videos_are_refused(project: Path) -> None:
    runs = project / "runs"
    val = project / "features_enhanced" / "val_features_multiscale.h5"
    save_run(run_evaluation(members(project), features_of(project), tta_modes=()), runs / "a-test.json")
    save_run(run_evaluation(members(project), val, tta_modes=()), runs / "b-val.json")
    app = open_page(RUNS)
    app.multiselect(key="runs_open").set_value(["a-test.json", "b-val.json"]).run()
    assert "different videos" in app.error[0].value


def test_partial_and_foreign_files_do_not_break_the_listing(project: Path) -> None:
    runs = project / "runs"
    good = run_evaluation(members(project), features_of(project), tta_modes=())
    text = save_run(good, runs / "good.json").read_text()
    (runs / "truncated.json").write_text(text[: len(text) // 2])
    (runs / ".good.abc.tmp").write_text(text[:100])
    app = open_page(RUNS)
    assert frame(app, "runs")["run"].tolist() == ["good.json"]
    skipped = [w.value for w in app.main.warning if w.value.startswith("Skipped")]
    assert len(skipped) == 1 and "truncated.json" in skipped[0]


def test_runs_page_without_runs_explains_how(project: Path) -> None:
    app = open_page(RUNS)
    assert "No evaluation runs" in app.info[0].value


@pytest.mark.slow
@pytest.mark.parametrize("page", [METRICS, HISTORY, RUNS])
def test_pages_render_on_the_demo_bundle(demo_root: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(demo_root))
    monkeypatch.setenv("DASHBOARD_DEMO_SCALE", "ci")
    app = open_page(page)
    assert not app.error, [e.value for e in app.error]
    if page == METRICS:
        assert len(frame(app, "per_class")) > 0
    elif page == HISTORY:
        assert len(history_class_f1(app)) == 4
    else:
        assert app.info or len(frame(app, "runs")) > 0
