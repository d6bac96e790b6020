"""Narrowing the per-video table (`SplitPredictions.video_table`) to what a user looks for."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def filter_video_table(
    table: pd.DataFrame,
    *,
    query: str = "",
    true_classes: Sequence[str] = (),
    subcategories: Sequence[str] = (),
    misclassified_only: bool = False,
    disagreement_only: bool = False,
) -> pd.DataFrame:
    """Rows whose name contains `query` (case-insensitive), of the given classes/subcategories
    (empty = any), optionally only the ensemble's mistakes or the videos members disagree on."""
    keep = pd.Series(True, index=table.index)
    if query.strip():
        keep &= table["video"].str.contains(query.strip(), case=False, regex=False)
    if true_classes:
        keep &= table["true_class"].isin(list(true_classes))
    if subcategories:
        keep &= table["subcategory"].isin(list(subcategories))
    if misclassified_only:
        keep &= ~table["correct"]
    if disagreement_only:
        keep &= table["members_disagree"]
    return table[keep].reset_index(drop=True)
