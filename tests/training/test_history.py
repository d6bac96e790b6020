import numpy as np
import pandas as pd
import pytest
import torch

from core.training.history import HistoryError, best_epochs, history_from_checkpoints, load_training_history


def _csv(tmp_path, rows, name="training_metrics.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _row(model, epoch, val_acc, **extra):
    row = {"model": model, "epoch": epoch, "train_loss": 1.0 / (epoch + 1), "train_acc": 50.0 + epoch,
           "val_loss": 1.2 / (epoch + 1), "val_acc": val_acc, "val_f1": 60.0, "lr": 1e-3}  # fmt: skip
    row.update({f"class_{k}_f1": 10.0 * (k + 1) for k in range(4)})
    return {**row, **extra}


def test_load_training_history_sorts_and_types(tmp_path):
    path = _csv(tmp_path, [_row(2, 1, 60.0), _row(1, 2, 80.0), _row(1, 1, 70.0)])
    df = load_training_history(path)
    assert df[["model", "epoch"]].values.tolist() == [[1, 1], [1, 2], [2, 1]]
    assert df["model"].dtype == np.int64
    assert df["class_3_f1"].tolist() == [40.0, 40.0, 40.0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"model": 1, "epoch": 1}], "missing column.*train_loss"),
        ([_row(1, 1, 70.0), _row(1, 2, "abc")], "column 'val_acc', line 3: 'abc' is not a number"),
        ([_row(1, 0, 70.0)], "column 'epoch', line 2"),
        ([_row(1, 1, 70.0), _row(1, 1, 71.0)], "line 3: model 1 epoch 1 appears twice"),
    ],
)
def test_load_training_history_errors_name_column_and_line(tmp_path, rows, message):
    path = _csv(tmp_path, rows)
    with pytest.raises(HistoryError, match=message) as info:
        load_training_history(path)
    assert str(path) in str(info.value)


def test_missing_history_file_says_how_to_make_it(tmp_path):
    with pytest.raises(HistoryError, match="python -m core train"):
        load_training_history(tmp_path / "nope.csv")


def test_best_epochs_reports_best_and_early_stopping_point(tmp_path):
    rows = [_row(1, e, acc) for e, acc in enumerate([60.0, 75.0, 75.0, 70.0], start=1)]
    rows += [_row(2, e, acc) for e, acc in enumerate([50.0, 55.0], start=1)]
    table = best_epochs(load_training_history(_csv(tmp_path, rows)))
    assert table.to_dict("records") == [
        {"model": 1, "best_epoch": 2, "best_val_acc": 75.0, "last_epoch": 4, "epochs_trained": 4},
        {"model": 2, "best_epoch": 2, "best_val_acc": 55.0, "last_epoch": 2, "epochs_trained": 2},
    ]


def test_history_from_original_style_and_our_checkpoints(tmp_path):
    original = {
        "train_loss": [1.0, 0.8, 0.6],
        "train_acc": [0.5, 0.6, 0.7],  # fractions in this variant
        "val_loss": [1.1, 0.9],  # one list shorter: an interrupted append
        "val_acc": [55.0, 65.0, 70.0],
        "val_f1": [50.0, 60.0, 68.0],
        "learning_rate": [1e-3, 9e-4, 8e-4],
    }
    torch.save({"model_state_dict": {}, "history": original}, tmp_path / "best_ensemble_model_3.pt")
    torch.save({"model_state_dict": {}}, tmp_path / "best_ensemble_model_1.pt")
    ours = {"val_acc": [40.0], "train_loss": [1.3], "val_f1_per_class": [[10.0, 20.0, 30.0, 40.0]]}
    torch.save({"model_state_dict": {}, "history": ours}, tmp_path / "renamed.pt")
    paths = [
        tmp_path / "best_ensemble_model_1.pt",
        tmp_path / "renamed.pt",
        tmp_path / "best_ensemble_model_3.pt",
    ]

    df = history_from_checkpoints(paths)
    assert sorted(set(df["model"])) == [2, 3]  # model 1 has no history; renamed.pt is 2nd in the list
    original_rows = df[df["model"] == 3]
    assert original_rows["epoch"].tolist() == [1, 2]
    assert original_rows["train_acc"].tolist() == pytest.approx([50.0, 60.0])
    assert original_rows["val_acc"].tolist() == [55.0, 65.0]
    assert original_rows["lr"].tolist() == pytest.approx([1e-3, 9e-4])
    ours_rows = df[df["model"] == 2]
    assert ours_rows[["class_0_f1", "class_3_f1"]].values.tolist() == [[10.0, 40.0]]
    assert best_epochs(df)["best_epoch"].tolist() == [1, 2]


def test_history_from_checkpoints_without_history_is_empty(tmp_path):
    torch.save({"model_state_dict": {}}, tmp_path / "best_ensemble_model_1.pt")
    df = history_from_checkpoints([tmp_path / "best_ensemble_model_1.pt"])
    assert df.empty and "val_acc" in df.columns
