"""A confusion matrix as one row per cell: counts and row-normalised percentages together."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def confusion_cells(matrix: Sequence[Sequence[int]], class_names: Sequence[str]) -> pd.DataFrame:
    """Cells in row-major order (row = true class) with the share of the true class's videos
    that landed in each cell; a class with no videos has 0% everywhere."""
    counts = np.asarray(matrix, dtype=np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(100.0 * counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    true_index, predicted_index = np.indices(counts.shape)
    return pd.DataFrame(
        {
            "true_index": true_index.ravel(),
            "predicted_index": predicted_index.ravel(),
            "true_class": [class_names[k] for k in true_index.ravel()],
            "predicted_class": [class_names[k] for k in predicted_index.ravel()],
            "count": counts.ravel(),
            "row_percent": shares.ravel(),
        }
    )
