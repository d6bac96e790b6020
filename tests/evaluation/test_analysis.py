import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.evaluation.metrics import compute_metrics
from core.evaluation.predictions import (
    SplitPredictions,
    recorded_vs_recomputed,
    recorded_vs_recomputed_rows,
    subcategory_of,
)
from core.evaluation.recorded import read_configuration_analysis, recorded_metrics
from core.features.inventory import inspect_feature_file
from core.model.checkpoints import CheckpointError, load_checkpoint
from core.model.ensemble import (
    class_name_warnings,
    compatibility_problems,
    has_any_artifacts,
    load_ensemble,
    member_problems,
)
from core.model.prediction_cache import (
    file_fingerprint,
    load_cached_probabilities,
    prediction_key,
    store_probabilities,
)
from core.paths import ProjectPaths
from tests.factories import write_ensemble, write_features, write_project


@pytest.fixture
def split():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=(3, 4, 20)).astype(np.float32)
    labels = np.arange(20) % 4
    names = [f"{c}/s{i % 3}/v{i}.mp4" for i, c in enumerate(np.array(["A", "F", "G", "N"])[labels])]
    return SplitPredictions(
        ["m1", "m2", "m3"],
        ["original", "reverse", "speed_up", "speed_down"],
        probabilities,
        labels,
        names,
        ["A", "F", "G", "N"],
    )


def test_compose_is_weighted_member_mean_then_mode_mean(split):
    got = split.compose(["m1", "m3"], [3.0, 1.0], ["original", "speed_up"])
    p = split.probabilities
    expected = ((0.75 * p[0, 0] + 0.25 * p[2, 0]) + (0.75 * p[0, 2] + 0.25 * p[2, 2])) / 2
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(split.predictor_probabilities("ensemble_tta"), p.mean(axis=(0, 1)), rtol=1e-6)
    assert split.predictor_names == ["m1", "m2", "m3", "ensemble", "ensemble_tta"]


def test_tables_equal_core_metrics(split):
    summary = split.summary_table().set_index("predictor")
    expected = compute_metrics(split.labels, split.predictions("m2"), 4)
    assert summary.loc["m2", "accuracy"] == pytest.approx(expected.accuracy)
    assert summary.loc["m2", "F1 G"] == pytest.approx(expected.f1_per_class[2])
    headline = split.headline_table(n_resamples=200).set_index("predictor")
    assert (headline["accuracy_low"] <= headline["accuracy"]).all()
    assert (headline["accuracy"] <= headline["accuracy_high"]).all()


def test_video_table_flags_and_confusion_cells(split):
    table = split.video_table()
    ensemble = split.predictions("ensemble")
    assert table["correct"].tolist() == (ensemble == split.labels).tolist()
    votes = np.stack([split.predictions(m) for m in split.member_names], axis=1)
    assert table["members_disagree"].tolist() == [len(set(v)) > 1 for v in votes]
    assert table["subcategory"][4] == "s1"
    cell = split.videos_in_cell("m1", 2, 1)
    members = np.flatnonzero((split.labels == 2) & (split.predictions("m1") == 1))
    assert cell["index"].tolist() == members.tolist()
    total = sum(len(split.videos_in_cell("m1", t, p)) for t in range(4) for p in range(4))
    assert total == 20
    assert subcategory_of("plain.mp4") == ""


def test_recorded_metrics_from_ours_and_flat_layouts(tmp_path):
    paths = write_ensemble(tmp_path / "models", members=2)
    members = [load_checkpoint(p, "cpu") for p in paths]
    ours = tmp_path / "ours.json"
    ours.write_text(
        json.dumps(
            {"checkpoints": {"best_ensemble_model_1.pt": {"val_accuracy": 72.73, "val_f1_weighted": 60.0}}}
        )
    )
    recorded = recorded_metrics(read_configuration_analysis(ours), members)
    assert recorded["best_ensemble_model_1"] == {"accuracy": 72.73, "f1_weighted": 60.0}
    assert recorded["best_ensemble_model_2"] == {"accuracy": 52.0}  # from the checkpoint's best_val_acc
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"best_ensemble_model_2": {"val_acc": 91.9, "val_f1": 91.5}}))
    assert recorded_metrics(read_configuration_analysis(flat), members)["best_ensemble_model_2"] == {
        "accuracy": 91.9,
        "f1_weighted": 91.5,
    }
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match=r"broken\.json: not valid JSON"):
        read_configuration_analysis(broken)


def test_recorded_vs_recomputed_differences(split):
    table = recorded_vs_recomputed({"m1": {"accuracy": 50.0}}, split).set_index("checkpoint")
    assert table.loc["m1", "accuracy difference"] == pytest.approx(split.metrics("m1").accuracy - 50.0)
    assert pd.isna(table.loc["m2", "accuracy recorded"])


def test_prediction_cache_hits_on_same_content_and_misses_on_new(tmp_path):
    key, shape = prediction_key(["a"], "b", ["original"]), (1, 1, 2, 4)
    assert load_cached_probabilities(tmp_path, key, shape) is None
    stored = np.array([[[[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]]]], dtype=np.float32)
    store_probabilities(tmp_path, key, stored)
    np.testing.assert_array_equal(load_cached_probabilities(tmp_path, key, shape), stored)
    assert prediction_key(["a2"], "b", ["original"]) != key
    assert load_cached_probabilities(tmp_path, prediction_key(["a2"], "b", ["original"]), shape) is None
    f = tmp_path / "x.bin"
    f.write_bytes(b"abc")
    assert file_fingerprint(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_artifact_discovery_reports_problems_in_plain_words(tmp_path):
    root = write_project(tmp_path)
    paths = ProjectPaths.at(root)
    assert has_any_artifacts(paths)
    assert not has_any_artifacts(ProjectPaths.at(tmp_path / "empty"))
    (paths.models_dir / "best_ensemble_model_2.pt").write_text("garbage")
    checkpoints = sorted(paths.models_dir.glob("*.pt"))
    loaded = load_ensemble(checkpoints, "cpu")
    assert len(loaded.members) == 3
    assert "best_ensemble_model_2.pt: not a PyTorch checkpoint" in loaded.errors[0]
    assert member_problems(loaded, paths.models_dir) == loaded.errors
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        load_ensemble(checkpoints, "cpu", strict=True)
    other = write_features(tmp_path / "other_features_multiscale.h5", num_videos=4, feature_dim=64)
    info = inspect_feature_file(other.path)
    problems = compatibility_problems(loaded.members, info)
    assert len(problems) == 3
    assert problems[0].startswith("best_ensemble_model_1 expects 1280-d features; other_features_multi")


def test_compatibility_names_class_count_and_recipe_mismatches(tmp_path):
    checkpoints = write_ensemble(tmp_path / "models", members=2)
    members = load_ensemble(checkpoints, "cpu").members
    fitting = write_features(tmp_path / "test_features_multiscale.h5", num_videos=4)
    assert compatibility_problems(members, fitting) == []
    assert class_name_warnings(members, fitting) == []
    fewer = replace(fitting, class_names=["A", "B", "C"], path=tmp_path / "three.h5")
    assert compatibility_problems(members, fewer) == [
        f"best_ensemble_model_{n} predicts 4 classes; three.h5 has 3" for n in (1, 2)
    ]
    renamed = replace(fitting, class_names=["A", "B", "C", "D"])
    assert class_name_warnings(members, renamed)[1].startswith("best_ensemble_model_2: class names differ")
    other_recipe = replace(fitting, recipe=replace(fitting.recipe, image_size=fitting.recipe.image_size + 32))
    problem = compatibility_problems(members[:1], other_recipe)[0]
    assert problem.startswith("best_ensemble_model_1 was trained on another feature recipe than test_feat")


def test_recorded_vs_recomputed_rows_keep_every_number(split):
    wide = recorded_vs_recomputed({"m1": {"accuracy": 50.0, "f1_weighted": 40.0}}, split)
    rows = recorded_vs_recomputed_rows(wide).set_index(["checkpoint", "score"])
    assert list(rows.columns) == ["recorded", "recomputed", "difference"]
    assert len(rows) == len(wide) * (2 + split.num_classes)
    assert rows.loc[("m1", "accuracy"), "difference"] == pytest.approx(split.metrics("m1").accuracy - 50.0)
    assert rows.loc[("m1", "weighted F1"), "recorded"] == 40.0
    assert pd.isna(rows.loc[("m2", "accuracy"), "recorded"])
