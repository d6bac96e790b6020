import itertools
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from core.classes import CLASS_NAMES
from core.cli import main as cli_main
from core.evaluation.runs import run_evaluation
from core.features.recipe import FeatureRecipe
from core.features.store import FeatureSet, load_feature_set
from core.features.writer import write_feature_set
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint
from core.model.network import TemporalModelConfig
from core.training.batches import (
    AugmentationConfig,
    EpochCosineRestarts,
    SequenceDataset,
    augment_sequence,
    balanced_sampler,
    pad_collate,
)
from core.training.ensemble import train_ensemble
from core.training.history import load_training_history
from core.training.member import TrainingConfig, TrainingError

RECIPE = FeatureRecipe(num_frames=8, image_size=64, feature_dim=12)
SMALL_MODEL = TemporalModelConfig(hidden_dim=16, num_lstm_layers=1, num_attention_heads=2, dropout=0.1)
FAST = TrainingConfig(max_epochs=2, patience=5, batch_size=4)


def synthetic_split(per_class: int, seed: int, max_frames: int = 10, dim: int = 12) -> FeatureSet:
    """Class k's sequences hover around a class-specific direction, so they are learnable."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), per_class)
    lengths = rng.integers(5, max_frames + 1, size=labels.size).astype(np.int32)
    features = np.zeros((labels.size, max_frames, dim), dtype=np.float32)
    for i, (label, length) in enumerate(zip(labels, lengths, strict=True)):
        centre = np.zeros(dim, dtype=np.float32)
        centre[label * 3 : label * 3 + 3] = 1.0
        features[i, :length] = centre + 0.3 * rng.standard_normal((length, dim))
    names = [f"{CLASS_NAMES[k]}/sub/clip_{i}.mp4" for i, k in enumerate(labels)]
    return FeatureSet(features, labels.astype(np.int64), lengths, names, list(CLASS_NAMES), RECIPE)


@pytest.fixture
def feature_dir(tmp_path):
    folder = tmp_path / "features"
    folder.mkdir()
    for split, per_class, seed in (("train", 4, 1), ("val", 2, 2), ("test", 2, 3)):
        write_feature_set(folder / f"{split}_features_multiscale.h5", synthetic_split(per_class, seed))
    return folder


def _train_val(feature_dir):
    return (
        load_feature_set(feature_dir / "train_features_multiscale.h5"),
        load_feature_set(feature_dir / "val_features_multiscale.h5"),
    )


def test_tiny_training_run_writes_artifacts_that_load_back(feature_dir, tmp_path):
    train, val = _train_val(feature_dir)
    out = tmp_path / "models"
    report = train_ensemble(train, val, out, num_models=2, model_config=SMALL_MODEL, config=FAST)
    assert report.trained == [1, 2]

    paths = find_ensemble_checkpoints(out)
    assert [p.name for p in paths] == ["best_ensemble_model_1.pt", "best_ensemble_model_2.pt"]
    raw = torch.load(paths[0], weights_only=True)
    assert {"model_state_dict", "model_config", "epoch", "best_val_acc", "metrics", "history"} <= set(raw)
    assert {"optimizer_state_dict", "class_names", "feature_recipe", "seed", "training_config"} <= set(raw)
    loaded = [load_checkpoint(p, "cpu") for p in paths]
    assert [c.seed for c in loaded] == [42, 43]
    assert loaded[0].recipe == RECIPE
    assert loaded[0].config.hidden_dim == 16 and loaded[0].config.feature_dim == 12
    assert loaded[0].training_config["max_epochs"] == 2
    assert len(loaded[0].history["val_acc"]) == 2

    history = load_training_history(out / "training_metrics.csv")
    assert list(history.columns) == [
        "model", "epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
        "class_0_f1", "class_1_f1", "class_2_f1", "class_3_f1", "time_s",
    ]  # fmt: skip
    assert history[["model", "epoch"]].values.tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]
    assert history["lr"].iloc[0] == pytest.approx(1e-3)
    assert history["val_acc"].between(0, 100).all()

    summary = json.loads((out / "configuration_analysis.json").read_text())
    entry = summary["checkpoints"]["best_ensemble_model_1.pt"]
    assert entry["complete"] is True and entry["seed"] == 42
    assert entry["epoch"] == loaded[0].epoch
    assert entry["val_accuracy"] == pytest.approx(loaded[0].best_val_acc)
    best_row = history[(history["model"] == 1) & (history["epoch"] == entry["epoch"])].iloc[0]
    assert entry["val_accuracy"] == pytest.approx(best_row["val_acc"])
    assert list(entry["val_f1_per_class"]) == list(CLASS_NAMES)
    assert entry["model_config"]["hidden_dim"] == 16
    assert summary["training_config"]["focal_gamma"] == 2.0

    run = run_evaluation(paths, feature_dir / "test_features_multiscale.h5", tta_modes=(), device="cpu")
    assert set(run.scores) >= {"best_ensemble_model_1", "best_ensemble_model_2"}
    assert len(run.labels) == 8


def test_train_cli_then_evaluate_cli(feature_dir, tmp_path, capsys):
    out = tmp_path / "models"
    args = ["train", "--features", str(feature_dir), "--out", str(out), "--models", "1", "--epochs", "1",
            "--batch-size", "4", "--hidden-dim", "8", "--lstm-layers", "1", "--heads", "2",
            "--device", "cpu"]  # fmt: skip
    assert cli_main(args) == 0
    assert "model 1/1 epoch   1/1" in capsys.readouterr().out
    assert cli_main(args) == 1  # refuses to overwrite silently
    assert "--overwrite" in capsys.readouterr().err
    run_path = tmp_path / "run.json"
    assert cli_main(["evaluate", "--models", str(out), "--device", "cpu", "--out", str(run_path),
                     "--features", str(feature_dir / "test_features_multiscale.h5")]) == 0  # fmt: skip
    assert json.loads(run_path.read_text())["members"] == ["best_ensemble_model_1"]


def test_interrupt_leaves_valid_artifacts_and_resume_finishes_the_rest(feature_dir, tmp_path):
    train, val = _train_val(feature_dir)
    out = tmp_path / "models"

    def interrupt_in_member_2(progress):
        if progress.member == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_ensemble(
            train,
            val,
            out,
            num_models=2,
            model_config=SMALL_MODEL,
            config=FAST,
            progress=interrupt_in_member_2,
        )
    assert [p.name for p in find_ensemble_checkpoints(out)] == ["best_ensemble_model_1.pt"]
    first = load_checkpoint(out / "best_ensemble_model_1.pt", "cpu")
    summary_path = out / "configuration_analysis.json"
    assert list(json.loads(summary_path.read_text())["checkpoints"]) == ["best_ensemble_model_1.pt"]
    partial = load_training_history(out / "training_metrics.csv")
    assert partial[["model", "epoch"]].values.tolist() == [[1, 1], [1, 2], [2, 1]]

    report = train_ensemble(train, val, out, num_models=2, model_config=SMALL_MODEL, config=FAST, resume=True)
    assert report.skipped == [1] and report.trained == [2]
    again = load_checkpoint(out / "best_ensemble_model_1.pt", "cpu")
    assert all(torch.equal(v, again.model.state_dict()[k]) for k, v in first.model.state_dict().items())
    history = load_training_history(out / "training_metrics.csv")
    assert history[["model", "epoch"]].values.tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]
    assert sorted(json.loads(summary_path.read_text())["checkpoints"]) == [
        "best_ensemble_model_1.pt",
        "best_ensemble_model_2.pt",
    ]
    with pytest.raises(TrainingError, match="model_config"):
        train_ensemble(
            train,
            val,
            out,
            num_models=2,
            model_config=replace(SMALL_MODEL, hidden_dim=8),
            config=FAST,
            resume=True,
        )


def test_same_seed_gives_identical_checkpoints(feature_dir, tmp_path):
    train, val = _train_val(feature_dir)
    states = []
    for name in ("a", "b"):
        train_ensemble(train, val, tmp_path / name, num_models=1, model_config=SMALL_MODEL, config=FAST)
        states.append(torch.load(tmp_path / name / "best_ensemble_model_1.pt", weights_only=True))
    assert all(
        torch.equal(states[0]["model_state_dict"][k], v) for k, v in states[1]["model_state_dict"].items()
    )


def test_early_stopping_stops_after_patience_without_improvement(feature_dir, tmp_path):
    train, val = _train_val(feature_dir)
    config = replace(FAST, max_epochs=30, patience=2, learning_rate=0.0, eta_min=0.0)
    train_ensemble(train, val, tmp_path / "m", num_models=1, model_config=SMALL_MODEL, config=config)
    history = load_training_history(tmp_path / "m" / "training_metrics.csv")
    # With lr 0 the validation accuracy never changes, so epoch 1 stays best and 2 more end it.
    assert history["epoch"].max() == 3
    assert load_checkpoint(tmp_path / "m" / "best_ensemble_model_1.pt", "cpu").epoch == 1


@pytest.mark.parametrize("batches_per_epoch", [1, 3, 7])
def test_learning_rate_restarts_at_epoch_20_whatever_the_batch_count(batches_per_epoch):
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    schedule = EpochCosineRestarts(optimizer, t0_epochs=20, t_mult=2, eta_min=1e-6)
    lrs = []  # the lr each batch trains with, as (epoch, batch, lr)
    for epoch in range(65):
        for batch in range(batches_per_epoch):
            lrs.append((epoch, batch, optimizer.param_groups[0]["lr"]))
            optimizer.step()
            schedule.step_batch(epoch, batch, batches_per_epoch)
    rises = [(e, b) for (_, _, before), (e, b, after) in itertools.pairwise(lrs) if after > before]
    assert rises == [(20, 0), (60, 0)]
    assert lrs[0][2] == pytest.approx(1e-3)
    restart = next(lr for e, b, lr in lrs if (e, b) == (20, 0))
    assert restart == pytest.approx(1e-3)
    assert lrs[20 * batches_per_epoch - 1][2] < 2e-5  # the end of the first cycle is near eta_min


def test_balanced_sampler_yields_balanced_classes():
    labels = np.array([0] * 70 + [1] * 20 + [2] * 8 + [3] * 2)
    drawn = np.concatenate([labels[list(balanced_sampler(labels, seed=s))] for s in range(40)])
    shares = np.bincount(drawn, minlength=4) / drawn.size
    assert shares == pytest.approx([0.25] * 4, abs=0.02)
    assert list(balanced_sampler(labels, seed=3)) == list(balanced_sampler(labels, seed=3))


def test_augmentation_keeps_order_and_bounds():
    x = torch.arange(20, dtype=torch.float32).unsqueeze(1).repeat(1, 3)
    only_subsample = AugmentationConfig(subsample_p=1.0, roll_p=0.0, noise_p=0.0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = augment_sequence(x, rng, only_subsample)
        assert 14 <= out.shape[0] <= 20
        assert torch.all(out[1:, 0] > out[:-1, 0])
    rolled = augment_sequence(x, rng, AugmentationConfig(subsample_p=0.0, roll_p=1.0, noise_p=0.0))
    shift = int((rolled[0, 0] - x[0, 0]).item()) % 20
    assert torch.equal(rolled, torch.roll(x, shifts=-shift if shift <= 3 else 20 - shift, dims=0))
    noisy = augment_sequence(x, rng, AugmentationConfig(subsample_p=0.0, roll_p=0.0, noise_p=1.0))
    assert 0.005 < (noisy - x).std().item() < 0.02


def test_pad_collate_pads_to_batch_max_and_reports_lengths():
    split = synthetic_split(1, 0)
    batch = [SequenceDataset(split.features, split.num_frames, split.labels)[i] for i in range(4)]
    x, lengths, labels = pad_collate(batch)
    assert x.shape == (4, int(split.num_frames.max()), 12)
    assert lengths.tolist() == split.num_frames.tolist()
    assert labels.tolist() == [0, 1, 2, 3]
    assert torch.all(x[0, lengths[0] :] == 0)


def test_invalid_settings_and_empty_splits_are_refused(feature_dir, tmp_path):
    with pytest.raises(ValueError, match="max_epochs must be at least 1"):
        TrainingConfig(max_epochs=0)
    train, val = _train_val(feature_dir)
    empty = FeatureSet(
        val.features[:0], val.labels[:0], val.num_frames[:0], [], val.class_names, RECIPE, val.path
    )
    with pytest.raises(TrainingError, match="holds no videos"):
        train_ensemble(train, empty, tmp_path / "m", num_models=1, model_config=SMALL_MODEL, config=FAST)


def test_resume_retrains_a_finished_member_whose_checkpoint_no_longer_loads(feature_dir, tmp_path):
    train, val = _train_val(feature_dir)
    out = tmp_path / "models"
    train_ensemble(train, val, out, num_models=2, model_config=SMALL_MODEL, config=FAST)
    truncated = out / "best_ensemble_model_2.pt"
    truncated.write_bytes(truncated.read_bytes()[:200])
    report = train_ensemble(train, val, out, num_models=2, model_config=SMALL_MODEL, config=FAST, resume=True)
    assert report.skipped == [1] and report.trained == [2]
    assert len(report.rejected) == 1
    assert report.rejected[0].startswith(f"{truncated}: not a PyTorch checkpoint")
    assert report.rejected[0].endswith("retraining member 2")
    assert load_checkpoint(truncated, "cpu").epoch is not None
