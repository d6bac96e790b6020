"""The original trainer's checkpoint and summary layouts, read completely, and ours written with
the same key names so both tools read each other's files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.classes import CLASS_NAMES
from core.evaluation.predictions import recorded_vs_recomputed
from core.evaluation.recorded import read_configuration_analysis, recorded_class_f1, recorded_metrics
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint, read_checkpoint_file
from core.training.ensemble import train_ensemble
from core.training.history import best_epochs, history_from_checkpoints
from core.training.member import TrainingConfig
from tests.dashboard.test_pages_part1 import core_split
from tests.factories import TINY_CONFIG, make_feature_set, write_ensemble
from tests.original_project import PATIENCE, RECORDED, original_history, write_original_project


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return write_original_project(tmp_path_factory.mktemp("original"))


def loaded(root):
    models = root / "models_enhanced"
    members = [load_checkpoint(p, "cpu") for p in find_ensemble_checkpoints(models)]
    return members, read_configuration_analysis(models / "configuration_analysis.json")


def test_original_checkpoint_metrics_are_the_recorded_numbers(original):
    member = load_checkpoint(original.root / "models_enhanced" / "best_ensemble_model_1.pt", "cpu")
    assert member.best_val_acc is None
    assert member.recorded_val_acc == pytest.approx(72.73)
    assert member.epoch == 52
    assert isinstance(member.metrics["accuracy"], np.floating)


def test_original_history_every_series(original):
    table = history_from_checkpoints(find_ensemble_checkpoints(original.root / "models_enhanced"))
    one = table[table["model"] == 1]
    assert len(one) == 52 + PATIENCE
    expected = original_history(1)
    assert one["lr"].tolist() == pytest.approx(expected["learning_rates"])
    assert one["class_0_f1"].tolist() == pytest.approx([row[0] for row in expected["val_per_class_f1"]])
    assert one["class_3_f1"].iloc[-1] == pytest.approx(96.69)
    marks = best_epochs(table).set_index("model")
    assert marks.loc[1, "best_epoch"] == 52 and marks.loc[1, "last_epoch"] == 77
    assert marks.loc[4, "best_epoch"] == 40 and marks.loc[4, "last_epoch"] == 65


def test_recorded_per_class_f1_from_analysis_dicts_and_lists(original):
    members, analysis = loaded(original.root)
    recorded = recorded_metrics(analysis, members)
    for number, values in RECORDED.items():
        entry = recorded[f"best_ensemble_model_{number}"]
        assert entry["accuracy"] == values["accuracy"]
        assert entry["f1_per_class"] == pytest.approx(values["f1"])
    # Without the JSON the checkpoint's own metrics (numpy) give the same numbers.
    from_checkpoints = recorded_metrics({}, members)["best_ensemble_model_1"]
    assert from_checkpoints["accuracy"] == pytest.approx(72.73)
    assert from_checkpoints["f1_per_class"] == pytest.approx(RECORDED[1]["f1"])


@pytest.mark.parametrize("key", ["per_class_f1", "class_f1", "f1_per_class", "val_f1_per_class"])
def test_recorded_class_f1_key_names_and_shapes(key):
    by_name = {key: {"Gaming": 66.0, "Animation": 1.1}}
    assert recorded_class_f1(by_name, CLASS_NAMES) == (1.1, None, 66.0, None)
    assert recorded_class_f1({key: [1.1, 93.5, 66.0, 96.7]}, CLASS_NAMES) == (1.1, 93.5, 66.0, 96.7)
    assert recorded_class_f1({key: np.array([1.0, 2.0, 3.0, 4.0])}, CLASS_NAMES) == (1.0, 2.0, 3.0, 4.0)
    assert recorded_class_f1({key: [1.0, 2.0]}, CLASS_NAMES) is None  # wrong length
    assert recorded_class_f1({key: "high"}, CLASS_NAMES) is None


def test_recorded_vs_recomputed_per_class(original):
    members, analysis = loaded(original.root)
    val = core_split(original.root, "val", ("original",))
    table = recorded_vs_recomputed(recorded_metrics(analysis, members), val).set_index("checkpoint")
    row = table.loc["best_ensemble_model_1"]
    assert row["F1 Animation recorded"] == pytest.approx(1.10)
    assert row["F1 Animation recomputed"] == pytest.approx(0.0)
    assert row["F1 Animation difference"] == pytest.approx(-1.10)
    natural = val.metrics("best_ensemble_model_1").f1_per_class[3]
    assert row["F1 Natural_Content recomputed"] == pytest.approx(natural)


def test_recorded_vs_recomputed_without_per_class_numbers(tmp_path):
    paths = write_ensemble(tmp_path, members=2)
    members = [load_checkpoint(p, "cpu") for p in paths]
    assert "f1_per_class" not in recorded_metrics({}, members)["best_ensemble_model_1"]


def test_our_checkpoints_use_the_original_key_names(tmp_path):
    train, val = make_feature_set(24, seed=3), make_feature_set(12, seed=4)
    train.path, val.path = tmp_path / "train.h5", tmp_path / "val.h5"
    config = TrainingConfig(max_epochs=2, patience=5, batch_size=8)
    train_ensemble(train, val, tmp_path / "out", num_models=1, model_config=TINY_CONFIG, config=config,
                   device=torch.device("cpu"))  # fmt: skip
    path = tmp_path / "out" / "best_ensemble_model_1.pt"
    raw = read_checkpoint_file(path)
    history, metrics = raw["history"], raw["metrics"]
    assert {"train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1"} <= set(history)
    assert len(history["val_per_class_f1"]) == 2 and len(history["val_per_class_f1"][0]) == 4
    assert history["learning_rates"][0] == pytest.approx(1e-3)
    assert {"accuracy", "f1_weighted", "f1_per_class"} <= set(metrics)
    table = history_from_checkpoints([path])
    assert table["class_0_f1"].tolist() == pytest.approx([row[0] for row in history["val_per_class_f1"]])
    summary = json.loads((tmp_path / "out" / "configuration_analysis.json").read_text())
    entry = summary["checkpoints"]["best_ensemble_model_1.pt"]
    member = load_checkpoint(path, "cpu")
    recorded = recorded_metrics(read_configuration_analysis(tmp_path / "out" / "configuration_analysis.json"),
                                [member])["best_ensemble_model_1"]  # fmt: skip
    assert recorded["f1_per_class"] == pytest.approx(metrics["f1_per_class"])
    assert recorded["accuracy"] == pytest.approx(entry["val_accuracy"])
