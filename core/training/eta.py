"""Time left in work done in stages (the demo build, a retrain), from the rates measured as it runs.

Each stage holds a number of units (clips, videos, epochs) and a reference cost: the seconds it
took in a measured reference run, and perhaps a probed rate (a few units timed on this machine
before the work starts). The stage under way is extrapolated from its own rate, smoothed over its
recent units so that one slow unit does not swing the estimate and a change of load does show.
Stages still to come have no rate of their own yet: each is its probed rate, else its reference
cost times how much slower (or faster) than the reference the work runs now, measured on the
latest stage.
A stage's first report is its warm-up (set-up costs ride on it) and gives no rate. Until some
rate is measured, the estimate says what it is timing instead of a number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# How much of a stage the smoothed rate remembers: its last ~15% of units weigh most.
STAGE_MEMORY = 0.15


@dataclass(frozen=True)
class Stage:
    name: str
    units: float
    reference_s: float
    unit: str = "unit"
    """What one unit is, for "timing the first …" while nothing is measured."""
    probed_rate: float | None = None
    """Seconds per unit measured in advance on this machine (a few real units timed before the
    work starts): it stands for the stage's rate until the stage runs, instead of its reference
    cost scaled, since stages slow down unequally under load."""

    def expected_s(self, slowdown: float) -> float:
        return self.units * self.probed_rate if self.probed_rate is not None else self.reference_s * slowdown

    @property
    def reference_rate(self) -> float:
        return self.reference_s / self.units if self.units > 0 else 0.0


@dataclass(frozen=True)
class Remaining:
    """Seconds left, or (None) what is being timed before there is a rate to extrapolate."""

    seconds: float | None
    measuring: str = ""


def smoothed_rate(previous: float | None, observed: float, units: float, stage_units: float) -> float:
    """Exponential smoothing per unit: an observation covering `units` units weighs as much as
    that share of the stage's memory."""
    if previous is None:
        return observed
    weight = min(1.0, units / max(stage_units * STAGE_MEMORY, 1.0))
    return previous + weight * (observed - previous)


class TimeLeft:
    """Seconds left after (stage, units done in that stage) reports, stages in the given order."""

    def __init__(self, stages: Sequence[Stage], clock: Callable[[], float] = time.monotonic) -> None:
        if not stages:
            raise ValueError("time left needs at least one stage")
        self.stages = {stage.name: stage for stage in stages}
        self.order = [stage.name for stage in stages]
        self.clock = clock
        self.current = self.order[0]
        self.mark = (clock(), 0.0)
        self.last_report = self.mark[0]
        self.rate: float | None = None
        self.slowdown: float | None = None
        self.done_units = {name: 0.0 for name in self.order}

    def resize(self, name: str, units: float) -> None:
        """A stage's size turned out other than planned (early stopping, a skipped file)."""
        stage = self.stages[name]
        scale = units / stage.units if stage.units > 0 else 1.0
        self.stages[name] = Stage(name, units, stage.reference_s * scale, stage.unit, stage.probed_rate)

    def update(self, name: str, done: float) -> Remaining:
        if name not in self.stages:
            raise ValueError(f"unknown stage {name!r}; the stages are {', '.join(self.order)}")
        now = self.clock()
        if self.order.index(name) > self.order.index(self.current):
            self._enter(name)
        stage = self.stages[name]
        done = min(max(done, 0.0), stage.units)
        last_time, last_done = self.mark
        if done > last_done and now > last_time:
            # A stage's first report pays its set-up (a model to load, a process to start): a
            # warm-up, not its rate.
            if last_done > 0:
                observed = (now - last_time) / (done - last_done)
                self.rate = smoothed_rate(self.rate, observed, done - last_done, stage.units)
                if stage.reference_rate > 0:
                    self.slowdown = self.rate / stage.reference_rate
            self.mark = (now, done)
        self.done_units[name] = done
        self.last_report = now
        return self._remaining(stage, done)

    def _enter(self, name: str) -> None:
        """The stages before `name` are over; `name` began at the last report, unmeasured."""
        for passed in self.order[: self.order.index(name)]:
            self.done_units[passed] = self.stages[passed].units
        self.current, self.mark, self.rate = name, (self.last_report, 0.0), None

    def _remaining(self, stage: Stage, done: float) -> Remaining:
        later = self.order[self.order.index(stage.name) + 1 :]
        if self.rate is not None:
            current = (stage.units - done) * self.rate
        elif stage.probed_rate is not None:
            current = (stage.units - done) * stage.probed_rate
        elif self.slowdown is not None:
            current = (stage.units - done) * stage.reference_rate * self.slowdown
        else:
            return Remaining(None, f"timing the first {stage.unit}s")
        slowdown = self.slowdown if self.slowdown is not None else 1.0
        return Remaining(current + sum(self.stages[n].expected_s(slowdown) for n in later))

    def fraction_done(self) -> float:
        """The share of the work done, each stage counted at its reference cost."""
        total = sum(stage.reference_s for stage in self.stages.values())
        if total <= 0:
            return 0.0
        done = sum(
            stage.reference_s * (self.done_units[name] / stage.units if stage.units > 0 else 1.0)
            for name, stage in self.stages.items()
        )
        return min(done / total, 1.0)


def describe_seconds(seconds: float) -> str:
    """'about 1 min 20 s', rounded so the text does not flicker every report."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 60:
        return f"about {round(seconds / 5) * 5:.0f} s"
    if seconds < 5400:
        minutes, rest = divmod(round(seconds / 10) * 10, 60)
        return f"about {minutes:.0f} min {rest:.0f} s" if rest else f"about {minutes:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def describe_remaining(remaining: Remaining) -> str:
    """'about 3 min left', or what is being timed while there is no rate yet."""
    if remaining.seconds is None:
        return f"{remaining.measuring}…" if remaining.measuring else "estimating time left…"
    return f"{describe_seconds(remaining.seconds)} left"
