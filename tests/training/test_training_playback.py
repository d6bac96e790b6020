from pathlib import Path

import pytest

from core.classes import CLASS_NAMES
from core.model.checkpoints import save_checkpoint
from core.training.history import load_history_source, load_training_history
from core.training.snapshots import epoch_snapshot, history_models, model_epochs, next_epoch
from tests.factories import make_model, write_ensemble, write_training_metrics


def test_snapshot_reads_the_csv_row_of_that_epoch(tmp_path: Path) -> None:
    written = write_training_metrics(tmp_path / "training_metrics.csv", members=2, epochs=5)
    history = load_training_history(tmp_path / "training_metrics.csv")
    snapshot = epoch_snapshot(history, model=2, epoch=3, class_names=CLASS_NAMES)
    row = written[(written["model"] == 2) & (written["epoch"] == 3)].iloc[0]
    expected = [row[f"class_{k}_f1"] for k in range(4)]
    assert snapshot.class_f1["class"].tolist() == list(CLASS_NAMES)
    assert snapshot.class_f1["val_f1"].tolist() == pytest.approx(expected)
    assert snapshot.mean_f1 == pytest.approx(sum(expected) / 4)
    assert snapshot.val_acc == pytest.approx(row["val_acc"])
    with pytest.raises(KeyError, match="model 2 epoch 9"):
        epoch_snapshot(history, model=2, epoch=9, class_names=CLASS_NAMES)


def test_playback_order(tmp_path: Path) -> None:
    write_training_metrics(tmp_path / "m.csv", members=1, epochs=3)
    epochs = model_epochs(load_training_history(tmp_path / "m.csv"), 1)
    assert epochs == [1, 2, 3]
    assert next_epoch(epochs, 1) == 2
    assert next_epoch(epochs, 3) is None


def test_history_source_prefers_the_csv(tmp_path: Path) -> None:
    models = tmp_path / "models_enhanced"
    checkpoints = write_ensemble(models, members=1)
    write_training_metrics(models / "training_metrics.csv", members=2, epochs=3)
    source = load_history_source(models / "training_metrics.csv", checkpoints)
    assert source.csv_problem is None and source.origin.endswith("training_metrics.csv")
    assert len(source.table) == 6


def test_history_source_falls_back_to_checkpoint_histories(tmp_path: Path) -> None:
    path = tmp_path / "best_ensemble_model_2.pt"
    history = {
        "train_loss": [1.0, 0.5],
        "val_loss": [1.1, 0.7],
        "train_acc": [0.5, 0.8],
        "val_acc": [0.4, 0.7],
    }
    save_checkpoint(path, make_model(), history=history)
    source = load_history_source(tmp_path / "training_metrics.csv", [path])
    assert source.csv_missing and "training_metrics.csv: file not found" in source.csv_problem
    assert source.table["model"].tolist() == [2, 2]
    assert source.table["val_acc"].tolist() == pytest.approx([40.0, 70.0])


def test_history_source_names_the_bad_cell(tmp_path: Path) -> None:
    csv = tmp_path / "training_metrics.csv"
    table = write_training_metrics(csv, members=1, epochs=3)
    table["val_acc"] = table["val_acc"].astype(object)
    table.loc[1, "val_acc"] = "high"
    table.to_csv(csv, index=False)
    source = load_history_source(csv, [])
    assert not source.csv_missing
    assert "column 'val_acc', line 3" in source.csv_problem
    assert source.empty


def test_history_models_lists_each_model_once_ascending(tmp_path: Path) -> None:
    write_training_metrics(tmp_path / "m.csv", members=3, epochs=4)
    history = load_training_history(tmp_path / "m.csv")
    assert history_models(history.iloc[::-1]) == [1, 2, 3]
    assert history_models(history[history["model"] != 2]) == [1, 3]
