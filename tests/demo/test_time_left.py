"""Time left from measured rates (a clock the test drives), and in the demo build."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.demo.bundle import SCALES
from core.demo.time_left import REFERENCE_BUILD, BuildTimeLeft, MemberEpochs, probe_epoch_seconds
from core.training.eta import Remaining, Stage, TimeLeft, describe_remaining


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_promised_before_a_unit_is_timed() -> None:
    clock = Clock()
    estimate = TimeLeft([Stage("generate", 10, 10.0, "clip"), Stage("extract", 10, 20.0, "video")], clock)
    clock.now = 5.0
    assert estimate.update("generate", 0) == Remaining(None, "timing the first clips")
    left = estimate.update("generate", 1)  # the first clip also paid the set-up: no rate yet
    assert describe_remaining(left) == "timing the first clips…"


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
    clock.now = 25.0
    # b's first video (its warm-up) gives no rate: b is expected at a's slowdown.
    assert estimate.update("b", 1).seconds == pytest.approx(9 * 2.0 * 2)
    clock.now = 26.0
    # Its second took 1 s, half its reference rate of 2 s: b runs at the reference's pace.
    assert estimate.update("b", 2).seconds == pytest.approx(8 * 1.0)


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


DATA = Path(__file__).parent / "data"
CHECKPOINTS = (0.25, 0.5, 0.75)


def replay(build: dict) -> list[tuple[float, float, float | None]]:
    """(time, share of the work done, seconds left shown) after each report of a recorded build."""
    clock = Clock()
    estimate = BuildTimeLeft(
        build["clips"], build["num_models"], build["max_epochs"], build.get("epoch_seconds"), clock=clock
    )
    shown = []
    for report in build["reports"]:
        clock.now = report[0]
        if report[1] == "train":
            left = estimate.epoch_done(report[2], report[3])
        else:
            left = estimate.update(report[1], report[2])
        shown.append((report[0], estimate.fraction_done(), left.seconds))
    return shown


def shown_at(
    shown: list[tuple[float, float, float | None]], end: float, bar: bool = True
) -> dict[str, tuple[float, float]]:
    """The estimate on screen at 25/50/75% of the time the build took and (`bar`) of its work as
    the bar shows it, each with the time that actually remained."""
    picked = {}
    for q in CHECKPOINTS:
        t, _, seconds = [s for s in shown if s[0] <= q * end][-1]
        picked[f"{q:.0%} of the time"] = (seconds, end - t)
        if bar:
            t, _, seconds = next(s for s in shown if s[1] >= q)
            picked[f"{q:.0%} of the work"] = (seconds, end - t)
    return picked


def synthetic_build(seed: int, slowdown: float = 1.0, epochs: tuple[int, ...] = (15, 11, 19, 13)) -> dict:
    """A build at the reference's measured stage costs (the idle machine), each unit's time drawn
    around its stage's rate, every rate `slowdown` times the reference's."""
    rng = np.random.default_rng(seed)
    clips, t, reports = 580, 0.0, []

    def spend(seconds: float) -> float:
        return seconds * slowdown * float(rng.lognormal(0.0, 0.3))

    for stage in ("generate", "extract"):
        rate = REFERENCE_BUILD[stage].rate
        t += spend(2.0) if stage == "extract" else 0.0  # the backbone loads before the first video
        for done in range(1, clips + 1):
            t += spend(rate)
            reports.append([t, stage, done])
    for member, count in enumerate(epochs, start=1):
        for epoch in range(1, count + 1):
            t += spend(REFERENCE_BUILD["train"].rate)
            reports.append([t, "train", member, epoch])
    t += spend(REFERENCE_BUILD["evaluate"].seconds)
    reports.append([t, "evaluate", 1.0])
    return {"clips": clips, "num_models": len(epochs), "max_epochs": 25, "end_s": t, "reports": reports}


def assert_within_factor(build: dict, factor: float = 1.5, bar: bool = True) -> None:
    for when, (seconds, remained) in shown_at(replay(build), build["end_s"], bar).items():
        assert seconds is not None, f"no estimate at {when}"
        assert remained / factor <= seconds <= remained * factor, (when, seconds, remained)


@pytest.mark.parametrize("slowdown", [1.0, 6.0])
def test_the_estimate_comes_true_on_a_build_at_the_reference_pace(slowdown: float) -> None:
    assert_within_factor(synthetic_build(seed=3, slowdown=slowdown))


@pytest.mark.parametrize("recording", sorted(p.name for p in DATA.glob("demo_build_*.json")))
def test_the_estimate_comes_true_on_recorded_demo_builds(recording: str) -> None:
    """Under load the bar's work shares (the idle build's costs) are not shares of the time: there
    extraction took 50% of the time and 41% of the bar, generating 1.5% of the time and 42%; the
    time left is checked at 25/50/75% of the time the build took."""
    build = json.loads((DATA / recording).read_text())
    assert_within_factor(build, bar=False)


def test_training_is_probed_on_features_of_the_build_shape_without_touching_its_random_streams() -> None:
    before = torch.get_rng_state()
    ci = SCALES["ci"]
    videos = {split: 4 * count for split, count in ci.clips_per_class.items()}
    seconds = probe_epoch_seconds(
        ci.model_config, ci.training, ci.recipe.sequence_length, videos, torch.device("cpu")
    )
    assert seconds > 0 and torch.equal(before, torch.get_rng_state())
    clock = Clock()
    estimate = BuildTimeLeft(clips=10, num_models=2, max_epochs=4, epoch_seconds=seconds, clock=clock)
    clock.now = 0.5
    estimate.update("generate", 1)
    clock.now = 1.0
    left = estimate.update("generate", 2)
    # Training is expected at the probed rate for the epochs expected (each member's cap here).
    train = estimate.estimate.stages["train"]
    assert train.probed_rate == seconds and left.seconds >= train.units * seconds
