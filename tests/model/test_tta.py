import pytest
import torch

from core.demo.bundle import SCALES
from core.model.tta import TTA_MODES, apply_tta, tta_indices, unchanged_modes, validate_modes


@pytest.mark.parametrize("length", [5, 6, 10, 11, 73])
def test_indices_follow_design_section_4(length):
    assert tta_indices(length, "original").tolist() == list(range(length))
    assert tta_indices(length, "reverse").tolist() == list(range(length - 1, -1, -1))
    up = tta_indices(length, "speed_up").tolist()
    down = tta_indices(length, "speed_down").tolist()
    if length > 10:
        assert up == torch.linspace(0, length - 1, length // 2).long().tolist()
        assert len(up) == length // 2
    else:
        assert up == list(range(length))
    if length > 5:
        expected = torch.linspace(0, length - 1, int(length * 1.5)).long().clamp(max=length - 1).tolist()
        assert down == expected
        assert len(down) == int(length * 1.5)
    else:
        assert down == list(range(length))


def test_known_values_for_eleven_steps():
    assert tta_indices(11, "speed_up").tolist() == [0, 2, 5, 7, 10]
    assert tta_indices(6, "speed_down").tolist() == [0, 0, 1, 1, 2, 3, 3, 4, 5]
    assert len(tta_indices(73, "speed_down")) == 109


def test_apply_tta_gathers_rows():
    x = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(apply_tta(x, "reverse"), x.flip(0))
    assert set(TTA_MODES) == {"original", "reverse", "speed_up", "speed_down"}
    with pytest.raises(ValueError, match="unknown TTA mode"):
        apply_tta(x, "sideways")


def test_a_mode_given_twice_is_refused_not_weighted_twice():
    assert validate_modes(["original", "reverse"]) == ("original", "reverse")
    with pytest.raises(ValueError, match="TTA mode\\(s\\) reverse given more than once"):
        validate_modes(["reverse", "reverse", "reverse"])


def test_unchanged_modes_name_the_modes_that_return_the_original_sequence() -> None:
    assert unchanged_modes(9) == ("speed_up",)
    assert unchanged_modes(11) == ()
    assert unchanged_modes(5) == ("speed_up", "speed_down")
    assert unchanged_modes(1) == ("reverse", "speed_up", "speed_down")
    assert unchanged_modes(9, ("original", "reverse")) == ()


def test_the_full_demo_recipe_gives_sequences_every_mode_changes() -> None:
    assert unchanged_modes(SCALES["full"].recipe.sequence_length) == ()
