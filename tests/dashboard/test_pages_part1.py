"""Overview, Classify and Compare models: their core logic, and the pages under AppTest with
small generated projects, a collapsed member, uploads, and no artifacts at all (demo bundle)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import plotly.io
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.evaluation.clip_verdict import (
    attention_by_frame,
    clip_table,
    clip_verdict,
    strip_positions,
    top_frames,
)
from core.evaluation.composer import (
    agreement_matrix,
    composition_metrics,
    composition_table,
    member_contributions,
)
from core.evaluation.filters import filter_video_table
from core.evaluation.predictions import ENSEMBLE, ENSEMBLE_TTA, SplitPredictions, recorded_vs_recomputed
from core.evaluation.recorded import read_configuration_analysis, recorded_metrics
from core.features.extraction import featurize_clip, featurize_clip_with_frames
from core.features.store import load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint, save_checkpoint
from core.model.inference import predict_sequence, predict_split, predictor_probabilities
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from core.video.lookup import find_video_file
from core.video.uploads import UnsupportedUpload, upload_as_temp_file, upload_suffix
from dashboard.theme import short_name
from tests.conftest import finish_background_tta
from tests.factories import TINY_RECIPE, make_model, write_features, write_project

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
OVERVIEW, CLASSIFY = "app_pages/1_Overview.py", "app_pages/2_Classify.py"
COMPARE = "app_pages/3_Compare_models.py"
CLASSES = ["Animation", "Flat_Content", "Gaming", "Natural_Content"]


# ---------- helpers ----------


def core_split(root: Path, split: str = "test", modes: tuple[str, ...] = TTA_MODES) -> SplitPredictions:
    """What the pages must show, computed with core only."""
    paths = ProjectPaths.at(root)
    members = [load_checkpoint(p) for p in find_ensemble_checkpoints(paths.models_dir)]
    data = load_feature_set(paths.features_file(split))
    probabilities = predict_split([m.model for m in members], data, modes)
    return SplitPredictions(
        [m.name for m in members], list(modes), probabilities, data.labels, data.video_names, data.class_names
    )


def open_page(root: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    finish_background_tta()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


def metric_value(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def write_clip(path: Path, frames: int = 16, size: int = 64) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (size, size))
    for i in range(frames):
        frame = np.zeros((size, size, 3), np.uint8)
        frame[:, : (i + 1) * size // frames] = (40, 160, 230)
        cv2.circle(frame, (size // 2, (i * 5) % size), 8, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def write_collapsing_ensemble(models_dir: Path) -> None:
    """Members 2-4 always say Animation (Animation F1 40% on balanced labels); member 1 never does."""
    for n in range(1, 5):
        model = make_model(seed=n)
        final = model.classifier[12]
        with torch.no_grad():
            if n == 1:
                final.bias[0] = -1e4
            else:
                final.weight.zero_()
                final.bias.copy_(torch.tensor([1e4, 0.0, 0.0, 0.0]))
        save_checkpoint(models_dir / f"best_ensemble_model_{n}.pt", model, recipe=TINY_RECIPE, seed=n)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def split(project: Path) -> SplitPredictions:
    return core_split(project)


# ---------- core logic ----------


def test_find_video_file_searches_data_folders_and_refuses_escapes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = data / "videos" / "test" / "Gaming" / "fps" / "a.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    assert find_video_file(data, "test", "Gaming/fps/a.mp4") == clip.resolve()
    assert find_video_file(data, "val", "Gaming/fps/a.mp4") is None
    assert find_video_file(data, "test", "../../secret.mp4") is None
    demo = data / "demo" / "test" / "Gaming" / "fps" / "a.mp4"
    demo.parent.mkdir(parents=True)
    demo.write_bytes(b"x")
    assert find_video_file(data, "test", "Gaming/fps/a.mp4") == demo.resolve()


def test_upload_names_are_checked_and_never_reused() -> None:
    assert upload_suffix("My Clip.MP4") == ".mp4"
    with pytest.raises(UnsupportedUpload, match=r"notes\.txt: not a video file"):
        upload_suffix("notes.txt")
    with upload_as_temp_file(b"abc", "../../evil name.webm") as path:
        assert path.suffix == ".webm" and "evil" not in path.name and path.read_bytes() == b"abc"
    assert not path.exists()


def test_featurize_clip_with_frames_equals_featurize_clip(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "c.mp4")
    result = featurize_clip_with_frames(clip, TINY_RECIPE)
    assert result.clip.frames.shape == (8, 64, 64, 3)
    np.testing.assert_allclose(result.features, featurize_clip(clip, TINY_RECIPE), atol=1e-5)
    assert result.features.shape == (TINY_RECIPE.sequence_length, 1280)


def test_clip_predictors_and_verdict() -> None:
    probabilities = np.zeros((2, 4, 4), np.float32)
    probabilities[0, :, 0] = 1.0  # member a: Animation in every mode
    probabilities[1, 0, 1] = 1.0  # member b: Flat_Content unaugmented, Gaming otherwise
    probabilities[1, 1:, 2] = 1.0
    names = ["a", "b"]
    with_tta = predictor_probabilities(probabilities, names, TTA_MODES, per_mode=True)
    assert list(with_tta) == ["a", "b", ENSEMBLE, *[f"TTA {m}" for m in TTA_MODES], ENSEMBLE_TTA]
    np.testing.assert_allclose(with_tta[ENSEMBLE], [0.5, 0.5, 0, 0])
    np.testing.assert_allclose(with_tta[ENSEMBLE_TTA], [0.5, 0.125, 0.375, 0])
    only_b = predictor_probabilities(probabilities, names, TTA_MODES, members=["b"], tta=False, per_mode=True)
    assert list(only_b) == ["b", ENSEMBLE]
    table = clip_table(with_tta, CLASSES, true_label=2)
    assert table.loc[table["predictor"] == "b", "Flat_Content"].item() == 100.0
    assert table.loc[table["predictor"] == "TTA reverse", "correct"].item() is False
    verdict = clip_verdict(with_tta, CLASSES, true_label=0)
    assert (verdict.predictor, verdict.class_name, verdict.confidence, verdict.correct) == (
        ENSEMBLE_TTA,
        "Animation",
        50.0,
        True,
    )
    assert clip_verdict(only_b, CLASSES, None).correct is None


def test_attention_maps_steps_to_frames() -> None:
    attention = np.zeros((2, 9))
    attention[0, 3] = 0.7
    attention[0, 8] = 0.3
    attention[1, 3] = 0.5
    attention[1, 0] = 0.5
    mapped = attention_by_frame(attention, num_frames=8)
    assert mapped.per_frame.shape == (2, 8)
    np.testing.assert_allclose(mapped.tail_share, [30.0, 0.0])
    assert top_frames(mapped, 2) == [(3, 60.0), (0, 25.0)]
    assert strip_positions(8).tolist() == list(range(8))
    assert strip_positions(64).tolist()[:3] == [0, 4, 8] and len(strip_positions(64)) == 16


def test_filter_video_table(split: SplitPredictions) -> None:
    table = split.video_table()
    gaming = filter_video_table(table, true_classes=["Gaming"], subcategories=["sub0"])
    assert set(gaming["true_class"]) == {"Gaming"} and set(gaming["subcategory"]) == {"sub0"}
    assert filter_video_table(table, query="CLIP_002")["video"].tolist() == ["Gaming/sub0/clip_002.mp4"]
    wrong = filter_video_table(table, misclassified_only=True)
    assert wrong["index"].tolist() == np.flatnonzero(split.predictions(ENSEMBLE) != split.labels).tolist()
    disagree = filter_video_table(table, disagreement_only=True)
    assert disagree["video"].tolist() == split.disagreement_videos()["video"].tolist()


def test_composer_math(split: SplitPredictions) -> None:
    members = split.member_names[1:]
    weights = [2.0, 1.0, 0.5]
    modes = ["original", "speed_up"]
    probabilities = np.zeros_like(split.probabilities[0, 0])
    for name, weight in zip(members, weights, strict=True):
        m = split.member_names.index(name)
        probabilities += weight * split.probabilities[m, [0, 2]].mean(axis=0)
    expected = split.metrics_of(probabilities / sum(weights))
    assert composition_metrics(split, members, weights, modes) == expected
    table = composition_table(split, members, weights, modes)
    assert table["predictor"].tolist() == ["composed", ENSEMBLE, ENSEMBLE_TTA]
    assert table.loc[1, "accuracy"] == split.metrics(ENSEMBLE).accuracy
    contributions = member_contributions(split, members, weights, modes)
    without_first = composition_metrics(split, members[1:], weights[1:], modes)
    assert contributions.loc[0, "accuracy added"] == expected.accuracy - without_first.accuracy
    kappa = agreement_matrix(split, "kappa")
    assert list(kappa.index) == split.member_names and np.allclose(np.diag(kappa), 1.0)


# ---------- pages with a small generated project ----------


def test_overview_shows_core_numbers(project: Path, split: SplitPredictions, monkeypatch) -> None:
    at = open_page(project, monkeypatch, OVERVIEW)
    assert metric_value(at, "Ensemble members") == "4"
    assert metric_value(at, "Videos") == "24"
    headline = table_with(at, "accuracy 95% CI")
    expected = split.headline_table()
    assert headline["predictor"].tolist() == [
        "Model 1",
        "Model 2",
        "Model 3",
        "Model 4",
        "Ensemble",
        "Ensemble + TTA",
    ]
    np.testing.assert_allclose(headline["accuracy"], expected["accuracy"])
    np.testing.assert_allclose(headline["weighted F1"], expected["f1_weighted"])
    assert headline["accuracy 95% CI"].tolist() == [
        f"{lo:.1f}–{hi:.1f}%"
        for lo, hi in zip(expected["accuracy_low"], expected["accuracy_high"], strict=True)
    ]
    p_value = split.mcnemar(ENSEMBLE, ENSEMBLE_TTA).p_value
    assert metric_value(at, "McNemar") == f"{p_value:.3f}"
    table = table_with(at, "score", "recorded", "recomputed", "difference")
    recorded = table.pivot(index="checkpoint", columns="score")
    val = core_split(project, "val", ("original",))
    members = [load_checkpoint(p) for p in find_ensemble_checkpoints(project / "models_enhanced")]
    analysis = read_configuration_analysis(project / "models_enhanced" / "configuration_analysis.json")
    expected_recorded = recorded_vs_recomputed(recorded_metrics(analysis, members), val)
    np.testing.assert_allclose(
        recorded[("recomputed", "accuracy")].astype(float), expected_recorded["accuracy recomputed"]
    )
    assert recorded[("recorded", "accuracy")].tolist() == [51.0, 52.0, 53.0, 54.0]
    assert recorded[("recorded", "weighted F1")].tolist() == [49.0, 50.0, 51.0, 52.0]
    assert len(table.columns) == 5
    assert any("val_features_multiscale.h5" in c.value and "validation" in c.value for c in at.caption)


def test_overview_flags_collapsed_member(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "models_enhanced").mkdir()
    write_collapsing_ensemble(tmp_path / "models_enhanced")
    write_features(tmp_path / "features_enhanced" / "test_features_multiscale.h5", num_videos=16, seed=3)
    at = open_page(tmp_path, monkeypatch, OVERVIEW)
    flags = [w.value for w in at.warning if "collapsed" in w.value]
    assert flags == [
        "**Model 1** looks collapsed on **Animation** in `test_features_multiscale.h5`: "
        "F1 0.0% while the other members' median is 40.0%."
    ]
    assert any("test (no usable validation file)" in c.value for c in at.caption)


def test_classify_shows_one_probability_set_per_member(
    project: Path, split: SplitPredictions, monkeypatch
) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(project))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    video = "Gaming/sub0/clip_002.mp4"
    at.session_state["classify_video"] = video
    at.switch_page(CLASSIFY).run()
    assert not at.exception
    index = split.video_names.index(video)
    assert at.selectbox(key="classify_index").value == index
    table = table_with(at, "predictor", "Animation")
    members = table[table["predictor"].str.startswith("Model ")]
    assert members["predictor"].tolist() == ["Model 1", "Model 2", "Model 3", "Model 4"]
    expected = 100 * split.probabilities[:, 0, index]
    np.testing.assert_allclose(members[CLASSES].to_numpy(), expected, atol=1e-3)
    ensemble_tta = split.predictor_probabilities(ENSEMBLE_TTA)[index]
    assert metric_value(at, "Verdict") == CLASSES[int(ensemble_tta.argmax())]
    assert metric_value(at, "True class") == "Gaming"
    assert len(table) == 4 + 1 + len(TTA_MODES) + 1
    assert any("video file is not present" in i.value for i in at.info)

    at.toggle(key="classify_tta").set_value(False)
    at.multiselect(key="classify_members").set_value(split.member_names[:2])
    at.run()
    table = table_with(at, "predictor", "Animation")
    assert table["predictor"].tolist() == ["Model 1", "Model 2", "Ensemble"]
    ensemble = split.compose(members=split.member_names[:2])[index]
    np.testing.assert_allclose(table.iloc[2][CLASSES].to_numpy(float), 100 * ensemble, atol=1e-3)


def test_classify_filters_list_matching_videos(project: Path, split: SplitPredictions, monkeypatch) -> None:
    at = open_page(project, monkeypatch, CLASSIFY)
    at.multiselect(key="classify_classes").set_value(["Natural_Content"])
    at.text_input(key="classify_query").set_value("sub1")
    at.run()
    expected = filter_video_table(split.video_table(), query="sub1", true_classes=["Natural_Content"])
    assert at.selectbox(key="classify_index").options == [
        f"{name}  {'✓' if ok else '✗ misclassified'}"
        for name, ok in zip(expected["video"], expected["correct"], strict=True)
    ]
    at.text_input(key="classify_query").set_value("no such video").run()
    assert any("No video matches" in i.value for i in at.info)


def test_classify_upload_gives_a_verdict(project: Path, monkeypatch, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "upload.mp4")
    at = open_page(project, monkeypatch, CLASSIFY)
    at.radio(key="classify_source").set_value("An uploaded clip").run()
    assert any("up to 200 MB" in c.value for c in at.caption)
    at.file_uploader(key="classify_upload").set_value(("my holiday.mp4", clip.read_bytes(), "video/mp4"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    members = [load_checkpoint(p) for p in find_ensemble_checkpoints(project / "models_enhanced")]
    prediction = predict_sequence([m.model for m in members], featurize_clip(clip, TINY_RECIPE))
    expected = prediction.probabilities.mean(axis=(0, 1))
    assert metric_value(at, "Verdict") == CLASSES[int(expected.argmax())]
    assert metric_value(at, "Confidence") == f"{100 * expected.max():.1f}%"
    table = table_with(at, "predictor", "Animation")
    assert (table["predictor"].str.startswith("Model ")).sum() == 4 and "correct" not in table.columns


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just text", "notes.txt: not a video file the classifier accepts"),
        ("notes.mp4", b"just text", "notes.mp4: not a video OpenCV can open"),
    ],
)
def test_classify_upload_rejects_non_videos(
    project: Path, monkeypatch, name: str, content: bytes, message: str
) -> None:
    at = open_page(project, monkeypatch, CLASSIFY)
    at.radio(key="classify_source").set_value("An uploaded clip").run()
    at.file_uploader(key="classify_upload").set_value((name, content, "text/plain")).run()
    assert not at.exception
    assert [e.value for e in at.error if message in e.value]
    assert not [m for m in at.metric if m.label.startswith("Verdict")]
    at.radio(key="classify_source").set_value("A test video").run()
    assert not at.exception and metric_value(at, "Verdict") in CLASSES


def test_compare_composer_matches_core(project: Path, split: SplitPredictions, monkeypatch) -> None:
    at = open_page(project, monkeypatch, COMPARE)
    summary = table_with(at, "score", "Model 1").set_index("score")
    shown = [short_name(name) for name in split.predictor_names]
    assert list(summary.columns) == shown
    expected = split.summary_table()
    for row, column in (("accuracy", "accuracy"), ("F1 Gaming", "F1 Gaming")):
        np.testing.assert_allclose(summary.loc[row, shown].astype(float), expected[column])
    first, second = split.member_names[:2]
    at.checkbox(key=f"compare_use_{first}").uncheck()
    at.slider(key=f"compare_weight_{second}").set_value(2.0)
    at.multiselect(key="compare_modes").set_value(["original", "reverse"])
    at.run()
    members = split.member_names[1:]
    expected = composition_metrics(split, members, [2.0, 1.0, 1.0], ["original", "reverse"])
    assert metric_value(at, "Accuracy") == f"{expected.accuracy:.1f}%"
    assert metric_value(at, "Weighted F1") == f"{expected.f1_weighted:.1f}%"
    for name, f1 in zip(CLASSES, expected.f1_per_class, strict=True):
        assert metric_value(at, f"F1 {name}") == f"{f1:.1f}%"
    composer = table_with(at, "score", "Your composition").set_index("score")
    assert composer.loc["F1 Natural_Content", "Your composition"] == pytest.approx(expected.f1_per_class[3])
    assert composer.loc["accuracy", "Your composition"] == pytest.approx(expected.accuracy)
    contributions = table_with(at, "accuracy added")
    assert contributions["member"].tolist() == ["Model 2", "Model 3", "Model 4"]


def test_compare_opens_a_disagreement_in_classify(
    project: Path, split: SplitPredictions, monkeypatch
) -> None:
    at = open_page(project, monkeypatch, COMPARE)
    disagreements = split.disagreement_videos()["video"].tolist()
    assert table_with(at, "member_votes")["video"].tolist() == disagreements
    video = disagreements[-1]
    at.selectbox(key="compare_disagreement_video").set_value(video)
    at.button(key="compare_open").click().run()
    assert not at.exception
    assert at.selectbox(key="classify_index").value == split.video_names.index(video)


def test_pages_explain_missing_features(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "models_enhanced").mkdir()
    write_collapsing_ensemble(tmp_path / "models_enhanced")
    for page in (OVERVIEW, CLASSIFY, COMPARE):
        at = open_page(tmp_path, monkeypatch, page)
        assert any("No readable feature file" in e.value for e in at.error), page


# ---------- no artifacts: the app builds the demo bundle ----------


def test_pages_render_on_the_demo_bundle(demo_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("DASHBOARD_DEMO_SCALE", "ci")
    demo_split = core_split(demo_root)
    overview = open_page(demo_root, monkeypatch, OVERVIEW)
    headline = table_with(overview, "accuracy 95% CI")
    np.testing.assert_allclose(headline["accuracy"], demo_split.headline_table()["accuracy"])

    classify = open_page(demo_root, monkeypatch, CLASSIFY)
    assert not classify.error and metric_value(classify, "Verdict") in CLASSES
    assert not any("not present" in i.value for i in classify.info), "demo clips are under data/demo"
    # Probabilities, attention, and the explanation panel's frame scores and deletion curves (and
    # Grad-CAM's colour scale when its maps are not zero on this clip).
    titles = [plotly.io.from_json(c.proto.spec).layout.title.text or "" for c in classify.get("plotly_chart")]
    assert len([t for t in titles if not t.startswith("Grad-CAM scale")]) == 4

    compare = open_page(demo_root, monkeypatch, COMPARE)
    summary = table_with(compare, "score", "Model 1").set_index("score")
    np.testing.assert_allclose(
        summary.loc["weighted F1"].astype(float), demo_split.summary_table()["f1_weighted"]
    )
    assert os.path.isdir(demo_root / "data" / "demo" / "test")


def test_overview_shows_the_plain_ensemble_while_tta_computes(tmp_path: Path, monkeypatch) -> None:
    import threading

    from core.model.prediction_cache import file_fingerprint, prediction_key
    from dashboard.cache import background_predictions
    from dashboard.predictions import background_key

    root = write_project(tmp_path)
    paths = ProjectPaths.at(root)
    checkpoints = find_ensemble_checkpoints(paths.models_dir)
    features = paths.features_file("test")
    key = prediction_key([file_fingerprint(p) for p in checkpoints], file_fingerprint(features), TTA_MODES)
    release = threading.Event()
    stored = []
    # The app finds this job under its own key: the TTA pass it would start, held until released.
    models = [load_checkpoint(p).model for p in checkpoints]
    job = background_predictions().start(
        background_key(paths.cache_dir, key),
        models,
        features,
        TTA_MODES[1:],
        stored.append,
        on_progress=lambda done, total: release.wait(60),
    )
    monkeypatch.setenv("DASHBOARD_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(OVERVIEW).run()
    assert not at.exception, [e.value for e in at.exception]
    plain = core_split(root, modes=("original",)).headline_table()
    shown = table_with(at, "accuracy 95% CI")
    assert ENSEMBLE_TTA not in plain["predictor"].tolist() and len(shown) == len(plain)
    np.testing.assert_allclose(shown["accuracy"].astype(float), plain["accuracy"], atol=1e-6)
    assert metric_value(at, "TTA modes") == "1"
    assert any(i.value.startswith("TTA: computing") for i in at.info)
    release.set()
    job.wait(60)
    assert len(stored) == 1 and stored[0].shape[1] == 3
