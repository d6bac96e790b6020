"""The explanation panel under AppTest: on Classify (with and without the video file) and on the
Collapse inspector, its numbers are core's."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from core.explain.explanation import explain
from core.explain.frames import scores_by_frame
from core.explain.predictor import explained_predictor
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint, save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.paths import ProjectPaths
from dashboard.views.explain_panel import is_heavy
from tests.conftest import APP, finish_background_tta
from tests.factories import write_noise_clip, write_project

CLASSIFY, COLLAPSE = "app_pages/2_Classify.py", "app_pages/7_Collapse_inspector.py"


def open_page(root: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    finish_background_tta()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_titled(at: AppTest, start: str) -> object:
    for chart in at.get("plotly_chart"):
        figure = plotly.io.from_json(chart.proto.spec)
        if (figure.layout.title.text or "").startswith(start):
            return figure
    raise AssertionError(f"no chart titled {start!r}")


def bars(figure: object) -> np.ndarray:
    """The bar trace's heights; plotly's JSON stores numeric arrays as base64 `bdata`."""
    values = next(t for t in figure.data if t.type == "bar").y
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).astype(np.float64)
    return np.asarray(values, dtype=np.float64)


def core_explanation(root: Path, index: int, member: str | None, target: int, method: str):
    paths = ProjectPaths.at(root)
    members = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(paths.models_dir)]
    split = load_feature_set(paths.features_file("test"))
    predictor = explained_predictor(members, member, target)
    explanation = explain(predictor, split.video(index), method, video=split.video_names[index],
                          class_names=split.class_names)  # fmt: skip
    return explanation, split


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("explain_panel"), num_videos=8)


def test_classify_explains_a_member_towards_a_chosen_class_without_the_video_file(
    project, monkeypatch
) -> None:
    at = open_page(project, monkeypatch, CLASSIFY)
    assert "Why this verdict" in [h.value for h in at.subheader]
    assert any("Spatial saliency is hidden: the video file is not on disk" in i.value for i in at.info)
    at.selectbox(key="classify_explain_who").set_value("best_ensemble_model_2").run()
    at.selectbox(key="classify_explain_target_best_ensemble_model_2").set_value(2).run()
    at.radio(key="classify_explain_method").set_value("integrated_gradients").run()
    assert not at.exception, [e.value for e in at.exception]
    index = at.selectbox(key="classify_index").value
    expected, split = core_explanation(project, index, "best_ensemble_model_2", 2, "integrated_gradients")
    figure = chart_titled(at, "Integrated gradients per frame, towards Gaming")
    by_frame = scores_by_frame(expected.steps, split.recipe)
    np.testing.assert_allclose(bars(figure), by_frame, atol=1e-5)
    assert any(m.value.startswith(("Most faithful for Model 2", "No method beats")) for m in at.markdown)


def test_demo_classify_shows_grad_cam_and_the_inspector_compares_members(demo_root, monkeypatch) -> None:
    at = open_page(demo_root, monkeypatch, CLASSIFY)
    assert not any("Spatial saliency is hidden" in i.value for i in at.info)
    images = at.get("image")
    assert images and len(images[0].proto.imgs) == 8
    assert any(c.value.startswith("Grad-CAM on the backbone's last convolution") for c in at.caption)

    at = open_page(demo_root, monkeypatch, COLLAPSE)
    assert "Which frames misled it" in [h.value for h in at.subheader]
    video = at.selectbox(key="collapse_explain_video").value
    expected, split = core_explanation(demo_root, video, "best_ensemble_model_1", 0, "occlusion")
    figure = chart_titled(at, "Model 1 (predicted")
    np.testing.assert_allclose(bars(figure), scores_by_frame(expected.steps, split.recipe), atol=1e-5)
    healthy = [c.value for c in at.caption if c.value.startswith("Both towards the true class, Animation")]
    assert healthy and "has the best Animation F1 of the other members" in healthy[0]


def test_only_a_full_size_member_on_the_cpu_gets_a_progress_bar(tmp_path: Path) -> None:
    tiny = load_checkpoint(
        write_project(tmp_path / "tiny", num_videos=4) / "models_enhanced" / "best_ensemble_model_1.pt"
    )
    full = tmp_path / "best_ensemble_model_1.pt"
    save_checkpoint(full, TemporalClassifier(TemporalModelConfig()), epoch=1)
    assert not is_heavy([tiny])
    assert is_heavy([tiny, load_checkpoint(full, "cpu")])


def test_an_upload_is_explained_on_request_with_its_frames(project, monkeypatch, tmp_path) -> None:
    clip = write_noise_clip(tmp_path / "upload.mp4", count=16)
    at = open_page(project, monkeypatch, CLASSIFY)
    at.radio(key="classify_source").set_value("An uploaded clip").run()
    at.file_uploader(key="classify_upload").set_value(("holiday.mp4", clip.read_bytes(), "video/mp4"))
    at.run()
    assert not at.get("plotly_chart") or not any(
        (plotly.io.from_json(c.proto.spec).layout.title.text or "").startswith("Occlusion per frame")
        for c in at.get("plotly_chart")
    ), "the upload's explanation waits for the toggle"
    at.toggle(key="classify_upload_explain").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert chart_titled(at, "Occlusion per frame, towards")
    assert len(at.get("image")[0].proto.imgs) == 8
    assert not any("Spatial saliency is hidden" in i.value for i in at.info)
