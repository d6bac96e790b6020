from pathlib import Path

import pytest

from core.classes import CLASS_NAMES
from core.history import load_training_history
from core.training_playback import epoch_snapshot, model_epochs, next_epoch
from tests.factories import write_training_metrics


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
