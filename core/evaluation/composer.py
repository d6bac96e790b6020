"""The ensemble composer and member comparisons: any member subset, weights and TTA modes,
scored from stored probabilities without re-running a model."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core.evaluation.metrics import Scores
from core.evaluation.predictions import ENSEMBLE, ENSEMBLE_TTA, SplitPredictions, summary_row

COMPOSED = "composed"


def composition_metrics(
    split: SplitPredictions, members: Sequence[str], weights: Sequence[float], modes: Sequence[str]
) -> Scores:
    """`core.evaluation.metrics.compute_metrics` of the weighted soft vote over the chosen modes."""
    return split.metrics_of(split.compose(members, weights, modes))


def composition_table(
    split: SplitPredictions,
    members: Sequence[str],
    weights: Sequence[float],
    modes: Sequence[str],
    reference: SplitPredictions | None = None,
) -> pd.DataFrame:
    """The composition next to the standard ensemble (all members of `reference`, by default
    `split`, equal weights) and its TTA."""
    reference = reference or split
    rows = [summary_row(COMPOSED, composition_metrics(split, members, weights, modes), split.class_names)]
    for name in (ENSEMBLE, ENSEMBLE_TTA) if reference.has_tta else (ENSEMBLE,):
        rows.append(summary_row(name, reference.metrics(name), split.class_names))
    return pd.DataFrame(rows)


def member_contributions(
    split: SplitPredictions, members: Sequence[str], weights: Sequence[float], modes: Sequence[str]
) -> pd.DataFrame:
    """Per chosen member: the composition's scores without it, and what it adds (with minus
    without, percentage points; negative = the member costs accuracy)."""
    members, weights = list(members), list(weights)
    full = composition_metrics(split, members, weights, modes)
    rows = []
    for i, name in enumerate(members):
        rest = members[:i] + members[i + 1 :]
        rest_weights = weights[:i] + weights[i + 1 :]
        if not rest or sum(rest_weights) <= 0:
            continue
        without = composition_metrics(split, rest, rest_weights, modes)
        rows.append(
            {
                "member": name,
                "accuracy without": without.accuracy,
                "accuracy added": full.accuracy - without.accuracy,
                "weighted F1 without": without.f1_weighted,
                "weighted F1 added": full.f1_weighted - without.f1_weighted,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["member", "accuracy without", "accuracy added", "weighted F1 without", "weighted F1 added"],
    )


def agreement_matrix(split: SplitPredictions, value: str) -> pd.DataFrame:
    """Square member x member table of `disagreement` (percent) or `kappa` (Cohen's)."""
    pairs = split.member_agreement()
    matrix = pairs.pivot(index="a", columns="b", values=value)
    return matrix.loc[split.member_names, split.member_names]
