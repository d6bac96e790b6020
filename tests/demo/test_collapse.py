"""The collapsed member's recipe: batches that starve Animation, and the note that says so."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.classes import CLASS_NAMES
from core.demo.collapse import (
    DEMO_NOTE,
    STARVED_SHARE,
    collapsed_member_config,
    demo_note,
    describe,
    starved_shares,
)
from core.training.batches import class_share_sampler
from core.training.member import TrainingConfig


def test_class_share_sampler_draws_each_class_at_its_share():
    labels = np.repeat(np.arange(4), [10, 30, 20, 40])
    shares = (0.1, 0.2, 0.3, 0.4)
    drawn = np.concatenate([labels[list(class_share_sampler(labels, shares, seed=s))] for s in range(50)])
    assert np.bincount(drawn, minlength=4) / len(drawn) == pytest.approx(shares, abs=0.02)
    again = class_share_sampler(labels, shares, seed=3)
    assert list(class_share_sampler(labels, shares, seed=3)) == list(again)


def test_starved_class_is_almost_never_drawn():
    labels = np.repeat(np.arange(4), 25)
    drawn = np.concatenate(
        [labels[list(class_share_sampler(labels, starved_shares(CLASS_NAMES), seed=s))] for s in range(200)]
    )
    assert np.mean(drawn == 0) == pytest.approx(STARVED_SHARE, abs=0.003)
    assert np.mean(drawn == 2) == pytest.approx((1 - STARVED_SHARE) / 3, abs=0.02)


def test_class_shares_must_cover_every_class_and_not_be_negative():
    labels = np.repeat(np.arange(4), 5)
    with pytest.raises(ValueError, match="one non-negative value per class"):
        class_share_sampler(labels, (0.5, 0.5), seed=0)
    with pytest.raises(ValueError, match="class_shares must be non-negative"):
        TrainingConfig(class_shares=(-0.1, 0.5, 0.3, 0.3))


def test_collapsed_config_starves_animation_halves_patience_and_keeps_the_rest():
    base = TrainingConfig(max_epochs=25, patience=8, batch_size=32)
    config = collapsed_member_config(base, CLASS_NAMES)
    assert config.class_shares == starved_shares(CLASS_NAMES)
    assert config.class_shares[CLASS_NAMES.index("Animation")] == STARVED_SHARE
    assert sum(config.class_shares) == pytest.approx(1.0)
    assert config.patience == 4 and config.note == DEMO_NOTE
    assert (config.max_epochs, config.batch_size, config.learning_rate) == (25, 32, base.learning_rate)
    assert config.to_dict()["class_shares"] == list(config.class_shares)


def test_demo_notes_describe_only_the_members_that_carry_one(tmp_path):
    config = collapsed_member_config(TrainingConfig(patience=8), CLASS_NAMES)
    notes = {
        name: demo_note(SimpleNamespace(name=name, training_config=training, class_names=list(CLASS_NAMES)))
        for name, training in (("m1", config.to_dict()), ("m2", TrainingConfig().to_dict()))
    }
    assert notes["m2"] is None
    assert describe(notes["m1"]) == f"{DEMO_NOTE} (batch share: Animation 0.5%; patience 4)."
