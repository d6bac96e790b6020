"""Time left in the demo build, so a long first launch never looks hung and never promises what
it cannot keep.

The build's four stages are sized in their own units (clips generated, videos extracted, epochs
trained, the test split evaluated) and costed by the reference build below; `core.training.eta`
turns the rates measured while this build runs into the seconds left. Training's length is not known in
advance (early stopping), so the epochs still expected are revised as each member ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from core.classes import CLASS_NAMES
from core.features.store import FeatureSet
from core.model.network import TemporalModelConfig
from core.training.estimate import estimate_epoch
from core.training.eta import Remaining, Stage, TimeLeft
from core.training.member import TrainingConfig

STAGES = ("generate", "extract", "train", "evaluate")


@dataclass(frozen=True)
class ReferenceStage:
    seconds: float
    units: float
    unit: str

    @property
    def rate(self) -> float:
        return self.seconds / self.units


# The full build (seed 0, 580 clips, 4 members) timed on the idle 2-core machine: what each unit
# of each stage cost there; its epochs are those the seed-0 members trained in the build recorded
# for the tests (6, 18, 20 and 16). Only the ratios matter: the running build's rates scale them.
REFERENCE_EPOCHS_PER_MEMBER = 15
REFERENCE_BUILD: dict[str, ReferenceStage] = {
    "generate": ReferenceStage(42.0, 580, "clip"),
    "extract": ReferenceStage(41.0, 580, "video"),
    "train": ReferenceStage(17.0, 6 + 18 + 20 + 16, "epoch"),
    "evaluate": ReferenceStage(0.3, 1, "test split"),
}


class MemberEpochs:
    """Epochs trained so far and still expected, as members end (early stopping) one by one."""

    def __init__(self, num_models: int, max_epochs: int) -> None:
        self.num_models = num_models
        self.max_epochs = max_epochs
        self.ended: dict[int, int] = {}
        self.member = 1
        self.epoch = 0

    def record(self, member: int, epoch: int) -> None:
        if member > self.member:
            self.ended[self.member] = self.epoch
        self.member, self.epoch = member, epoch

    @property
    def done(self) -> int:
        return sum(self.ended.values()) + self.epoch

    @property
    def expected(self) -> float:
        """The ended members' epochs, this member's at least, and the others' at the ended
        members' mean (the reference build's before any has ended)."""
        ended = list(self.ended.values())
        typical = sum(ended) / len(ended) if ended else min(REFERENCE_EPOCHS_PER_MEMBER, self.max_epochs)
        current = min(max(typical, self.epoch + 1), self.max_epochs)
        waiting = self.num_models - len(ended) - 1
        return sum(ended) + current + waiting * typical


def probe_epoch_seconds(
    model_config: TemporalModelConfig,
    training: TrainingConfig,
    steps: int,
    videos: Mapping[str, int],
    device: torch.device,
) -> float:
    """Seconds per training epoch of a demo member, measured now on features of the build's
    shape (random values: the cost does not depend on them). Under load, training slows down far
    more than clip generation does, so its share of the build is measured, not scaled."""
    dim = model_config.feature_dim
    rng = np.random.default_rng(0)

    def split(count: int) -> FeatureSet:
        labels = np.arange(count, dtype=np.int64) % len(CLASS_NAMES)
        features = rng.standard_normal((count, steps, dim), dtype=np.float32)
        names = [str(i) for i in range(count)]
        return FeatureSet(features, labels, np.full(count, steps, np.int32), names, list(CLASS_NAMES), None)

    train, val = (split(videos[name]) for name in ("train", "val"))
    return estimate_epoch(train, val, model_config, training, device, batches=2).seconds_per_epoch


class BuildTimeLeft:
    """The demo build's time left and its share of the work done."""

    def __init__(
        self,
        clips: int,
        num_models: int,
        max_epochs: int,
        epoch_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.epochs = MemberEpochs(num_models, max_epochs)
        self.shown = 0.0
        units = {"generate": clips, "extract": clips, "train": self.epochs.expected, "evaluate": 1}
        probed = {"train": epoch_seconds}
        self.estimate = TimeLeft(
            [
                Stage(
                    name,
                    units[name],
                    REFERENCE_BUILD[name].rate * units[name],
                    REFERENCE_BUILD[name].unit,
                    probed.get(name),
                )
                for name in STAGES
            ],
            clock=clock,
        )

    def update(self, stage: str, done: float) -> Remaining:
        return self.estimate.update(stage, done)

    def epoch_done(self, member: int, epoch: int) -> Remaining:
        self.epochs.record(member, epoch)
        self.estimate.resize("train", self.epochs.expected)
        return self.estimate.update("train", self.epochs.done)

    def fraction_done(self) -> float:
        """The bar: the share of the work done, which never moves back when the epochs expected
        grow."""
        self.shown = max(self.shown, self.estimate.fraction_done())
        return self.shown
