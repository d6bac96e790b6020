import os
import pickle

import numpy as np
import pytest
import torch

from core.model.checkpoints import (
    CheckpointError,
    find_ensemble_checkpoints,
    infer_config,
    load_checkpoint,
    missing_ensemble_members,
)
from core.model.inference import predict_sequence
from core.model.network import TemporalClassifier, TemporalModelConfig

FULL = TemporalModelConfig()


@pytest.fixture(scope="module")
def full_model():
    torch.manual_seed(0)
    return TemporalClassifier(FULL).eval()


def _original_layout(model, with_config=True):
    payload = {
        "model_state_dict": model.state_dict(),
        "epoch": 37,
        "best_val_acc": np.float64(92.05),
        "metrics": {"val_f1": np.float64(91.7), "per_class_f1": np.array([90.0, 93.1, 91.0, 92.2])},
        "history": {"train_loss": [1.2, 0.9], "val_acc": [80.0, 88.5]},
        "optimizer_state_dict": {"state": {}, "param_groups": [{"lr": 1e-3}]},
    }
    if with_config:
        payload["model_config"] = {**FULL.to_dict()}
    return payload


@pytest.mark.parametrize("layout", ["with_config", "without_config", "bare_state_dict"])
def test_full_size_original_checkpoints_load_strictly_and_predict(tmp_path, full_model, layout):
    path = tmp_path / "best_ensemble_model_1.pt"
    if layout == "bare_state_dict":
        torch.save(full_model.state_dict(), path)
    else:
        torch.save(_original_layout(full_model, with_config=layout == "with_config"), path)
    loaded = load_checkpoint(path, device="cpu")
    assert loaded.config == FULL
    assert (loaded.config_source == "model_config") == (layout == "with_config")
    sequence = np.random.default_rng(0).normal(size=(73, 1280)).astype(np.float32)
    expected = predict_sequence([full_model], sequence).probabilities
    got = predict_sequence([loaded.model], sequence).probabilities
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert got.shape == (1, 4, 4)
    if layout != "bare_state_dict":
        assert loaded.epoch == 37
        assert loaded.best_val_acc == pytest.approx(92.05)


def test_inferred_config_for_small_unidirectional_model():
    config = TemporalModelConfig(
        feature_dim=64, hidden_dim=30, num_lstm_layers=2, num_attention_heads=6, bidirectional=False
    )
    inferred = infer_config(TemporalClassifier(config).state_dict())
    assert (inferred.feature_dim, inferred.hidden_dim, inferred.num_lstm_layers) == (64, 30, 2)
    assert inferred.bidirectional is False
    assert inferred.num_attention_heads == 10  # 12 does not divide 30: the largest divisor below it


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch pwned_marker",))


def test_checkpoint_whose_unpickling_runs_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {}, "payload": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint(path, device="cpu")
    assert not (tmp_path / "pwned_marker").exists()


def test_non_checkpoint_and_shape_mismatch_name_the_file(tmp_path, full_model):
    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.pt: not a PyTorch checkpoint"):
        load_checkpoint(text, device="cpu")
    pickled_list = tmp_path / "list.pt"
    torch.save([1, 2, 3], pickled_list)
    with pytest.raises(CheckpointError, match=r"list\.pt: expected a dict"):
        load_checkpoint(pickled_list, device="cpu")
    wrong = tmp_path / "wrong.pt"
    payload = _original_layout(full_model)
    payload["model_config"] = {**FULL.to_dict(), "hidden_dim": 384}
    torch.save(payload, wrong)
    with pytest.raises(
        CheckpointError,
        match=r"wrong\.pt: 'model_config' disagrees with its weights: hidden_dim=384 but the weights have",
    ):
        load_checkpoint(wrong, device="cpu")
    unrelated = tmp_path / "resnet.pt"
    torch.save({"fc.weight": torch.zeros(2, 2)}, unrelated)
    with pytest.raises(CheckpointError, match="no temporal-model weights"):
        load_checkpoint(unrelated, device="cpu")


def test_pickle_error_class_is_what_torch_raises(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": _RunsCode()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)


def test_ensemble_discovery_orders_by_member_number_and_reports_missing(tmp_path):
    for n in (10, 2, 1, 4):
        (tmp_path / f"best_ensemble_model_{n}.pt").write_bytes(b"")
    (tmp_path / "other.pt").write_bytes(b"")
    found = find_ensemble_checkpoints(tmp_path)
    assert [p.name for p in found] == [f"best_ensemble_model_{n}.pt" for n in (1, 2, 4, 10)]
    assert missing_ensemble_members(found) == [3]


def test_model_config_that_cannot_build_a_model_is_reported(tmp_path, full_model):
    path = tmp_path / "odd.pt"
    payload = _original_layout(full_model)
    payload["model_config"] = {**FULL.to_dict(), "num_attention_heads": 7}
    torch.save(payload, path)
    with pytest.raises(
        CheckpointError, match=r"odd\.pt: 'model_config' num_attention_heads=7 does not divide 1536"
    ):
        load_checkpoint(path, device="cpu")
