"""Retraining one member into a candidate: the demo's collapsed member fixed, the files it writes,
bad input refused before any work, and an interrupted run continued exactly where it stopped."""

import hashlib
import json

import pandas as pd
import pytest
import torch

from core.cli import main as cli_main
from core.evaluation.run_compare import compare_runs, composition_differences
from core.evaluation.runs import load_run
from core.features.recipe import FeatureRecipe
from core.model.checkpoints import load_checkpoint, read_checkpoint_file
from core.paths import RETRAIN_PROVENANCE_JSON, RETRAIN_STATE, TRAINING_METRICS_CSV
from core.training.ensemble import load_training_splits
from core.training.member import TrainingError, TrainingStopped
from core.training.retrain import plan_retrain, retrain_member
from tests.factories import write_features, write_project


def folder_digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def test_retraining_the_demos_collapsed_member_fixes_animation_and_keeps_the_ensemble(
    demo_root, tmp_path, capsys
):
    models, features = demo_root / "models_enhanced", demo_root / "features_enhanced"
    before = folder_digest(models)
    out = tmp_path / "candidate"
    assert (
        cli_main(
            [
                "retrain",
                "--models",
                str(models),
                "--member",
                "1",
                "--features",
                str(features),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "with seed 46 (seeds in use: 42, 43, 44, 45)" in capsys.readouterr().out
    test = str(features / "test_features_multiscale.h5")
    common = ["evaluate", "--models", str(models), "--features", test]
    assert cli_main([*common, "--out", str(tmp_path / "original.json")]) == 0
    candidate = out / "best_ensemble_model_1.pt"
    assert cli_main([*common, "--swap", f"1={candidate}", "--out", str(tmp_path / "swapped.json")]) == 0

    original, swapped = load_run(tmp_path / "original.json"), load_run(tmp_path / "swapped.json")
    animation = swapped.class_names.index("Animation")
    assert swapped.scores["best_ensemble_model_1"].f1_per_class[animation] >= 50.0
    assert original.scores["best_ensemble_model_1"].f1_per_class[animation] < 50.0
    assert swapped.scores["ensemble"].accuracy >= original.scores["ensemble"].accuracy - 1.0
    assert folder_digest(models) == before
    assert swapped.swaps == {"best_ensemble_model_1": str(candidate.resolve())}
    assert composition_differences(original, swapped) == [
        f"best_ensemble_model_1 is swapped: A uses best_ensemble_model_1.pt, B uses {candidate.resolve()}"
    ]
    comparison = compare_runs(original, swapped, "best_ensemble_model_1")
    assert comparison.class_f1.loc[animation, "F1 B−A"] > 0

    provenance = json.loads((out / RETRAIN_PROVENANCE_JSON).read_text())
    assert provenance["complete"] and provenance["member"] == 1 and provenance["seed"] == 46
    assert provenance["replaces"]["checkpoint"] == str((models / "best_ensemble_model_1.pt").resolve())
    assert provenance["training_config"]["class_shares"] is None
    assert (
        provenance["feature_recipe"] == load_checkpoint(models / "best_ensemble_model_1.pt").recipe.to_dict()
    )
    history = pd.read_csv(out / TRAINING_METRICS_CSV)
    assert history["model"].eq(1).all() and len(history) == provenance["result"]["epochs_trained"]
    assert read_checkpoint_file(candidate)["seed"] == 46
    assert not (out / RETRAIN_STATE).exists()


@pytest.fixture
def project(tmp_path):
    root = write_project(tmp_path / "project", num_videos=16)
    write_features(root / "features_enhanced" / "train_features_multiscale.h5", num_videos=16, seed=3)
    return root


def _cli(project, out, *extra):
    return cli_main(
        [
            "retrain",
            "--models",
            str(project / "models_enhanced"),
            "--features",
            str(project / "features_enhanced"),
            "--out",
            str(out),
            "--epochs",
            "2",
            *extra,
        ]
    )


def test_bad_input_gets_one_message_and_writes_nothing(project, tmp_path, capsys):
    models = project / "models_enhanced"
    before = folder_digest(models)
    out = tmp_path / "out"
    assert _cli(project, out, "--member", "7") == 1
    assert f"{models}: member 7 does not exist (it holds members 1, 2, 3, 4)" in capsys.readouterr().err
    assert _cli(project, models / "candidates", "--member", "1") == 1
    assert "is inside" in capsys.readouterr().err
    other = tmp_path / "other_recipe"
    other.mkdir()
    for split in ("train", "val"):
        write_features(
            other / f"{split}_features_multiscale.h5",
            num_videos=8,
            recipe=FeatureRecipe(num_frames=8, image_size=96),
        )
    code = cli_main(
        ["retrain", "--models", str(models), "--features", str(other), "--member", "1", "--out", str(out)]
    )
    error = capsys.readouterr().err
    assert code == 1 and "was extracted with another recipe than best_ensemble_model_1.pt" in error
    assert "image_size: 64 vs 96" in error and len(error.strip().splitlines()) == 1
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _cli(project, out, "--member", "1") == 1
    assert "already holds files (notes.txt); pass --overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    test = str(project / "features_enhanced" / "test_features_multiscale.h5")
    evaluate = ["evaluate", "--models", str(models), "--features", test, "--out", str(tmp_path / "run.json")]
    assert cli_main([*evaluate, "--swap", f"9={models / 'best_ensemble_model_1.pt'}"]) == 1
    assert "--swap 9=...: the ensemble has no member 9 (it has 1, 2, 3, 4)" in capsys.readouterr().err
    assert cli_main([*evaluate, "--swap", "one=x.pt"]) == 1
    assert "expected K=PATH" in capsys.readouterr().err
    assert not (tmp_path / "run.json").exists()
    assert folder_digest(models) == before


def test_an_interrupted_run_resumes_where_it_stopped_and_ends_as_an_uninterrupted_one(project, tmp_path):
    train, val = load_training_splits(project / "features_enhanced")
    options = {"max_epochs": 3, "patience": 10, "batch_size": 4}
    whole = plan_retrain(
        project / "models_enhanced", 2, project / "features_enhanced", tmp_path / "whole", options=options
    )
    assert whole.seed == 46
    expected = retrain_member(whole, train, val, device=torch.device("cpu"))

    plan = plan_retrain(
        project / "models_enhanced", 2, project / "features_enhanced", tmp_path / "cut", options=options
    )
    epochs = []
    with pytest.raises(TrainingStopped):
        retrain_member(
            plan,
            train,
            val,
            device=torch.device("cpu"),
            on_epoch=epochs.append,
            should_stop=lambda: len(epochs) >= 2,
        )
    assert sorted(p.name for p in plan.out_dir.iterdir()) == [RETRAIN_STATE]
    resumed = retrain_member(plan, train, val, device=torch.device("cpu"))
    assert resumed.resumed_from_epoch == 2
    for name, tensor in expected.result.model.state_dict().items():
        assert torch.equal(tensor, resumed.result.model.state_dict()[name]), name
    timeless = [{k: v for k, v in r.result.history.items() if k != "time_s"} for r in (expected, resumed)]
    assert timeless[0] == timeless[1]
    whole_rows = pd.read_csv(whole.history_path).drop(columns="time_s")
    cut_rows = pd.read_csv(plan.history_path).drop(columns="time_s")
    pd.testing.assert_frame_equal(whole_rows, cut_rows)
    with pytest.raises(TrainingError, match="already holds files"):
        retrain_member(plan, train, val)
