"""A running retrain's time left on runs whose load holds: within 1.5x of the time that actually
remained at 25%, 50% and 75% of the run, early stopping included."""

from __future__ import annotations

from itertools import accumulate

import numpy as np
import pytest

from core.training.estimate import expected_epochs, retrain_time_left


def shown_at(run: dict, fraction: float) -> tuple[float | None, float]:
    """The time left the panel shows `fraction` of the way through the run, and what remained."""
    rows = [{"time_s": t, "val_acc": acc} for t, acc in run["epochs"]]
    ends = list(accumulate(row["time_s"] for row in rows))
    now = fraction * ends[-1]
    finished = [row for row, end in zip(rows, ends, strict=True) if end <= now]
    into = now - (ends[len(finished) - 1] if finished else 0.0)
    left = retrain_time_left(
        finished,
        max_epochs=run["max_epochs"],
        patience=run["patience"],
        typical=run["typical_epochs"],
        seconds_into_epoch=into,
    )
    return left.seconds, ends[-1] - now


def test_nothing_is_promised_before_the_first_epoch_ends() -> None:
    left = retrain_time_left([], max_epochs=25, patience=8, typical=16.0, seconds_into_epoch=3.0)
    assert left.seconds is None and left.measuring == "timing the first epoch"


def test_the_expected_end_lies_between_early_stopping_and_the_epoch_cap() -> None:
    assert expected_epochs([50.0, 60.0, 55.0], max_epochs=25, patience=8, typical=16.0) == 16.0
    # Still improving at epoch 12: it cannot stop before 12 + 8.
    assert expected_epochs([float(i) for i in range(12)], max_epochs=25, patience=8, typical=16.0) == 20.0
    assert expected_epochs([50.0] * 3, max_epochs=25, patience=30, typical=None) == 25.0
    assert expected_epochs([50.0] * 3, max_epochs=10, patience=8, typical=16.0) == 10.0


def steady_run(seed: int, best_epoch: int, seconds: float = 12.0) -> dict:
    """A run on a machine whose load holds: epochs around `seconds` each, validation improving until
    `best_epoch`, so early stopping ends it `patience` epochs later, within an epoch or two of the
    15 the members trained for."""
    rng = np.random.default_rng(seed)
    epochs = [
        [seconds * float(rng.lognormal(0.0, 0.1)), min(epoch, best_epoch) * 5.0 - (epoch > best_epoch)]
        for epoch in range(1, best_epoch + 9)
    ]
    return {"max_epochs": 25, "patience": 8, "typical_epochs": 15.0, "epochs": epochs}


@pytest.mark.parametrize("best_epoch", [6, 7, 8])
@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75])
def test_the_time_left_comes_true_while_the_load_holds(best_epoch: int, fraction: float) -> None:
    seconds, remained = shown_at(steady_run(best_epoch, best_epoch), fraction)
    assert seconds is not None and remained / 1.5 <= seconds <= remained * 1.5, (seconds, remained)
