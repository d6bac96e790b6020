"""The explanation panel under AppTest: on Classify (with and without the video file) and on the
Collapse inspector, its numbers are core's."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from core.evaluation.clip_verdict import strip_positions
from core.explain.explanation import Explanation, RandomBaseline, explain, explain_all, faithful_methods
from core.explain.frames import scores_by_frame
from core.explain.predictor import explained_predictor, predicted_class
from core.explain.reading import attention_above_uniform, methods_ranking_alike
from core.explain.saliency import grad_cam
from core.features.backbones import load_backbone
from core.features.store import load_feature_set
from core.features.writer import write_feature_set
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint, save_checkpoint
from core.model.network import TemporalClassifier, TemporalModelConfig
from core.paths import ProjectPaths
from core.video.decode import decode_uniform_frames
from core.video.lookup import find_video_file
from dashboard.explain_charts import deletion_figure
from dashboard.explain_statements import (
    FAITHFUL_RULE,
    LINEAR_REASON,
    NOTHING_STANDS_OUT,
    agreement_sentence,
    attention_sentence,
    faithfulness_sentence,
)
from dashboard.views.explain_panel import is_heavy
from tests.conftest import APP, finish_background_tta
from tests.factories import make_feature_set, write_noise_clip, write_project

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


def core_explanations(root: Path, index: int, member: str | None, target: int):
    paths = ProjectPaths.at(root)
    members = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(paths.models_dir)]
    split = load_feature_set(paths.features_file("test"))
    predictor = explained_predictor(members, member, target)
    return explain_all(
        predictor, split.video(index), video=split.video_names[index], class_names=split.class_names
    )


def texts(at: AppTest) -> list[str]:
    return [e.value for e in [*at.markdown, *at.caption, *at.info]]


def assert_statements_follow_the_numbers(at: AppTest, explained: dict, who: str, root: Path) -> None:
    """The faithfulness sentence, the rule, the random spread and attention against uniform, as
    core's numbers say."""
    shown = texts(at)
    first = next(iter(explained.values()))
    areas = first.random_deletion_areas
    assert any(FAITHFUL_RULE in t and f"areas {areas.min():.4f}–{areas.max():.4f}" in t for t in shown)
    faithful = faithful_methods(list(explained.values()))
    sentence = next(
        t for t in at.markdown if "Most faithful" in t.value or NOTHING_STANDS_OUT in t.value
    ).value
    if faithful:
        assert sentence.startswith(f"Most faithful for {who} on this video: **")
        assert f"area {faithful[0].deletion_area:.4f}" in sentence
    else:
        assert NOTHING_STANDS_OUT in sentence and "Most faithful" not in sentence
    attention = next(t for t in shown if t.startswith("Attention against uniform"))
    steps = len(first.steps)
    assert f"every step 1/{steps} = {100 / steps:.1f}%" in attention
    recipe = load_feature_set(ProjectPaths.at(root).features_file("test")).recipe
    for favoured in attention_above_uniform(explained["attention"].steps, recipe):
        assert f" {favoured.index} ({favoured.times_uniform:.1f}x uniform)" in attention
        assert favoured.times_uniform >= 1.1


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small project whose first test video repeats one feature vector at every step, so no step
    can matter on its own."""
    root = write_project(tmp_path_factory.mktemp("explain_panel"), num_videos=8)
    split = make_feature_set(num_videos=8, seed=1)
    split.features[0, : split.num_frames[0]] = split.features[0, 0]
    write_feature_set(root / "features_enhanced" / "test_features_multiscale.h5", split)
    return root


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
    assert_statements_follow_the_numbers(at, core_explanations(project, index, "best_ensemble_model_2", 2),
                                         "Model 2", project)  # fmt: skip
    deletion = chart_titled(at, "Deletion curves")
    assert list(deletion.layout.yaxis.range) == [0, 1]
    assert any(t.name == "16 random orders (band)" for t in deletion.data)


def test_a_clip_where_no_step_matters_says_so_and_names_no_method(project, monkeypatch) -> None:
    at = open_page(project, monkeypatch, CLASSIFY)
    at.selectbox(key="classify_index").set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    target = at.selectbox(key="classify_explain_target_ensemble").value
    explained = core_explanations(project, 0, None, target)
    assert not any(e.faithful for e in explained.values())
    assert_statements_follow_the_numbers(at, explained, "Ensemble", project)
    table = next(d.value for d in at.dataframe if "faithful" in d.value.columns)
    assert table["faithful"].tolist() == ["no", "no", "no"]


def video_with_grad_cam(root: Path) -> int:
    """The first test video on which the ensemble's Grad-CAM towards its predicted class is not
    zero everywhere (on some demo clips every shown frame's map is)."""
    paths = ProjectPaths.at(root)
    members = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(paths.models_dir)]
    split = load_feature_set(paths.features_file("test"))
    backbone = load_backbone(split.recipe.backbone, device="cpu")
    for index, name in enumerate(split.video_names):
        frames = decode_uniform_frames(
            find_video_file(paths.data_dir, "test", name), split.recipe.num_frames, split.recipe.image_size
        )
        predictor = explained_predictor(members, None, predicted_class(members, None, split.video(index)))
        maps = grad_cam(backbone, frames.frames, split.recipe, predictor, strip_positions(len(frames.frames)))
        if maps.peak > 0:
            return index
    raise AssertionError("Grad-CAM is zero on every demo test video")


def test_demo_classify_shows_grad_cam_and_the_inspector_compares_members(demo_root, monkeypatch) -> None:
    at = open_page(demo_root, monkeypatch, CLASSIFY)
    at.selectbox(key="classify_index").set_value(video_with_grad_cam(demo_root)).run()
    assert not any("Spatial saliency is hidden" in i.value for i in at.info)
    images = at.get("image")
    assert images and len(images[0].proto.imgs) == 8
    reading = next(
        c.value for c in at.caption if c.value.startswith("Grad-CAM on the backbone's last convolution")
    )
    assert "One inferno scale for every frame of this clip, from 0 (black) to " in reading
    assert chart_titled(at, "Grad-CAM scale (every frame of this clip)")
    captions = [img.caption for img in images[0].proto.imgs]
    flat = sum(c.endswith("· flat") for c in captions)
    assert (flat > 0) == ("marked flat" in reading)

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


def made_up(
    method: str, steps: list[float], curve: list[float], random_curves: list[list[float]]
) -> Explanation:
    baseline = RandomBaseline(np.arange(len(curve)), np.array(random_curves), len(steps))
    return Explanation("v.mp4", "ensemble", "Gaming", method, np.array(steps), np.array(curve), baseline)


def test_the_statements_name_methods_that_rank_alike_and_only_faithful_winners() -> None:
    randoms = [[0.9, 0.7, 0.5], [0.9, 0.8, 0.6]]
    explained = {
        "occlusion": made_up("occlusion", [0.3, 0.1, 0.2], [0.9, 0.3, 0.2], randoms),
        "integrated_gradients": made_up("integrated_gradients", [0.25, 0.05, 0.2], [0.9, 0.31, 0.2], randoms),
        "attention": made_up("attention", [0.2, 0.5, 0.3], [0.9, 0.85, 0.7], randoms),
    }
    agreements = methods_ranking_alike(explained)
    assert [(a.first, a.second) for a in agreements] == [("occlusion", "integrated_gradients")]
    assert agreements[0].spearman == pytest.approx(1.0)
    said = agreement_sentence(agreements[0])
    assert said.startswith(
        "Occlusion and integrated gradients rank the steps alike on this clip (Spearman 1.000"
    )
    assert LINEAR_REASON in said and "one line" in said
    sentence = faithfulness_sentence(explained, agreements, "Ensemble", "Gaming")
    assert sentence.startswith(
        "Most faithful for Ensemble on this video: **occlusion and integrated gradients**"
    )
    assert "attention" not in sentence
    figure = deletion_figure(explained, "Gaming", agreements)
    names = [t.name for t in figure.data if t.name]
    assert "Occlusion = Integrated gradients" in names and "Integrated gradients" not in names
    unfaithful = {m: made_up(m, e.steps.tolist(), [0.9, 0.9, 0.7], randoms) for m, e in explained.items()}
    sentence = faithfulness_sentence(unfaithful, [], "Model 1", "Gaming")
    assert NOTHING_STANDS_OUT in sentence and "Most faithful" not in sentence


def test_attention_is_named_only_above_uniform() -> None:
    even = np.full(10, 0.1)
    assert attention_above_uniform(even, None) == []
    assert "singles out no step" in attention_sentence([], 10, "step")
    peaked = np.array([0.28, *[0.08] * 9])
    favoured = attention_above_uniform(peaked, None)
    assert [(f.index, round(f.times_uniform, 1)) for f in favoured] == [(0, 2.8)]
    said = attention_sentence(favoured, 10, "step")
    assert said.endswith("step 0 (2.8x uniform).") and "every step 1/10 = 10.0%" in said
    # Within a tenth of uniform is not named as favoured.
    assert attention_above_uniform(np.array([0.095, *[0.0905] * 10]), None) == []
