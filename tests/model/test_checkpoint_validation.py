"""Every malformed checkpoint is refused with one message naming the file, before any model of a
size the file asks for is built."""

from __future__ import annotations

import pytest
import torch

from core.model.checkpoints import CheckpointError, load_checkpoint
from tests.bad_inputs import BAD_CHECKPOINTS, good_checkpoint_payload, write_bad_checkpoint


def test_the_good_payload_loads(tmp_path):
    path = tmp_path / "good.pt"
    torch.save(good_checkpoint_payload(), path)
    loaded = load_checkpoint(path, device="cpu")
    assert loaded.epoch == 3
    assert loaded.config.hidden_dim == 16


@pytest.mark.parametrize("kind", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoint_is_one_error_naming_the_file(tmp_path, kind):
    path = tmp_path / f"best_ensemble_model_{kind}.pt"
    message = write_bad_checkpoint(path, kind)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path, device="cpu")
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_half_precision_weights_load_as_float32_and_their_infinities_are_refused(tmp_path):
    payload = good_checkpoint_payload()
    state = {name: value.to(torch.bfloat16) for name, value in payload["model_state_dict"].items()}
    path = tmp_path / "half.pt"
    torch.save({**payload, "model_state_dict": state}, path)
    model = load_checkpoint(path, device="cpu").model
    assert {parameter.dtype for parameter in model.parameters()} == {torch.float32}
    state["lstm.weight_hh_l0"][0, 0] = float("inf")
    torch.save({**payload, "model_state_dict": state}, path)
    with pytest.raises(CheckpointError, match=r"NaN or infinite values \(lstm.weight_hh_l0\)"):
        load_checkpoint(path, device="cpu")
