"""Time left from measured rates (a clock the test drives), and in the demo build."""

from __future__ import annotations

import pytest

from core.demo.time_left import MemberEpochs
from core.training.eta import Remaining, Stage, TimeLeft, describe_remaining


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_promised_before_a_unit_is_timed() -> None:
    estimate = TimeLeft([Stage("generate", 10, 10.0, "clip"), Stage("extract", 10, 20.0, "video")], Clock())
    left = estimate.update("generate", 0)
    assert left == Remaining(None, "timing the first clip")
    assert describe_remaining(left) == "timing the first clip…"


def test_the_stage_under_way_runs_at_its_own_rate_and_later_ones_at_the_slowdown_measured() -> None:
    clock = Clock()
    estimate = TimeLeft([Stage("a", 10, 10.0, "clip"), Stage("b", 10, 20.0, "video")], clock)
    for done in range(1, 6):
        clock.now = 2.0 * done  # twice the reference's 1 s per clip
        left = estimate.update("a", done)
    # a: 5 clips at 2 s; b: its reference 20 s, twice as slow as the reference too.
    assert left.seconds == pytest.approx(5 * 2.0 + 20.0 * 2)
    assert estimate.fraction_done() == pytest.approx(5.0 / 30.0)
    clock.now = 20.0
    estimate.update("a", 10)
    clock.now = 21.0
    # b's first video took 1 s, half its reference rate of 2 s: b runs at the reference's pace.
    assert estimate.update("b", 1).seconds == pytest.approx(9 * 1.0)


def test_one_slow_unit_moves_the_estimate_by_its_share_only() -> None:
    clock = Clock()
    estimate = TimeLeft([Stage("a", 100, 100.0, "clip")], clock)
    for done in range(1, 51):
        clock.now = float(done)
        estimate.update("a", done)
    clock.now += 10.0  # one clip ten times slower
    left = estimate.update("a", 51).seconds
    assert 49.0 < left < 49.0 * 1.7


def test_member_epochs_follow_early_stopping() -> None:
    epochs = MemberEpochs(num_models=4, max_epochs=25)
    for epoch in range(1, 11):
        epochs.record(1, epoch)
    epochs.record(2, 1)
    # Member 1 stopped after 10 epochs: the three others are expected to train as long.
    assert epochs.done == 11
    assert epochs.expected == pytest.approx(10 + 10 + 2 * 10)


def test_time_left_is_said_in_rounded_words() -> None:
    assert describe_remaining(Remaining(4)) == "a few seconds left"
    assert describe_remaining(Remaining(42)) == "about 40 s left"
    assert describe_remaining(Remaining(61)) == "about 1 min left"
    assert describe_remaining(Remaining(152)) == "about 2 min 30 s left"
    assert describe_remaining(Remaining(9000)) == "about 2.5 h left"
