"""Time left in the demo build, from the rates measured so far (a clock the test drives)."""

from __future__ import annotations

import pytest

from core.demo.time_left import TimeLeft, describe_time_left


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_time_left_follows_the_current_stage_then_the_pace_so_far() -> None:
    clock = Clock()
    estimate = TimeLeft({"a": 0.5, "b": 0.5}, clock=clock)
    assert estimate.update("a", 0.0) is None
    clock.now = 10.0
    # Stage a: 10 s for 50% -> 10 s more; stage b, expected as long as a at the pace so far
    # (10 s per 0.25 of the build): 20 s.
    assert estimate.update("a", 0.5) == pytest.approx(10.0 + 20.0)
    clock.now = 20.0
    assert estimate.update("b", 0.0) == pytest.approx(20.0)
    clock.now = 25.0
    # Stage b runs twice as fast as a: 5 s for half of it.
    assert estimate.update("b", 0.5) == pytest.approx(5.0)


def test_time_left_is_said_in_rounded_words() -> None:
    assert describe_time_left(None) == "estimating time left…"
    assert describe_time_left(4) == "a few seconds left"
    assert describe_time_left(42) == "about 40 s left"
    assert describe_time_left(61) == "about 1 min left"
    assert describe_time_left(152) == "about 2 min 30 s left"
