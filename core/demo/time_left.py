"""Time left in a multi-stage build, from the rates measured so far, so a long first launch
never looks hung: the stage under way runs at its own measured pace, the stages still to come
at the pace the whole build has shown per unit of expected work."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

# Below this much of a stage, its own pace is too noisy to extrapolate.
_MIN_STAGE_FRACTION = 0.05


class TimeLeft:
    """Estimates the seconds left from (stage, fraction of that stage) reports."""

    def __init__(self, weights: Mapping[str, float], clock: Callable[[], float] = time.monotonic) -> None:
        self.weights = dict(weights)
        self.clock = clock
        self.started = clock()
        self.stage: str | None = None
        self.stage_started = self.started

    def update(self, stage: str, fraction: float) -> float | None:
        """Seconds left after `stage` has done `fraction` of its work; None until measurable."""
        now = self.clock()
        if stage != self.stage:
            self.stage, self.stage_started = stage, now
        fraction = min(max(fraction, 0.0), 1.0)
        names = list(self.weights)
        index = names.index(stage)
        done_weight = sum(self.weights[n] for n in names[:index]) + self.weights[stage] * fraction
        if done_weight <= 0 or now <= self.started:
            return None
        pace = (now - self.started) / done_weight
        later = sum(self.weights[n] for n in names[index + 1 :]) * pace
        stage_elapsed = now - self.stage_started
        if fraction >= _MIN_STAGE_FRACTION and stage_elapsed > 0:
            current = stage_elapsed * (1.0 - fraction) / fraction
        else:
            current = self.weights[stage] * (1.0 - fraction) * pace
        return current + later


def describe_time_left(seconds: float | None) -> str:
    """'about 1 min 20 s left', rounded so the text does not flicker every report."""
    if seconds is None:
        return "estimating time left…"
    if seconds < 10:
        return "a few seconds left"
    if seconds < 60:
        return f"about {round(seconds / 5) * 5:.0f} s left"
    minutes, rest = divmod(round(seconds / 10) * 10, 60)
    return f"about {minutes:.0f} min {rest:.0f} s left" if rest else f"about {minutes:.0f} min left"
