"""The split the Overview compares recorded (validation) numbers against."""

from __future__ import annotations

from dataclasses import dataclass

from core.evaluation.predictions import SplitPredictions
from core.features.inventory import FeatureFileInfo
from core.model.ensemble import compatibility_problems
from dashboard.state import DashboardContext, readable_features, split_predictions

UNAUGMENTED = ("original",)


@dataclass(frozen=True)
class ReferenceSplit:
    info: FeatureFileInfo
    split: SplitPredictions
    is_validation: bool


def _validation_file(context: DashboardContext) -> FeatureFileInfo | None:
    for info in readable_features(context.features):
        if info.split == "val" and not compatibility_problems(context.members.members, info):
            return info
    return None


def reference_split(context: DashboardContext) -> ReferenceSplit | None:
    """Members' unaugmented predictions on the validation features when they exist (the split
    training recorded its numbers on), else the analysed split."""
    info = _validation_file(context)
    if info is None:
        if context.split is None or context.analysed is None:
            return None
        return ReferenceSplit(context.analysed, context.split, is_validation=False)
    split = split_predictions(context.paths, context.members, info.path, modes=UNAUGMENTED)
    return ReferenceSplit(info, split, is_validation=True)
