"""What the Data explorer shows, gathered once per run: every named split, the members'
predictions on each, and one row per video of the splits that share a map."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from core.audit.run import add_problem
from core.audit.splits import AuditSplit, SplitReading, comparable_splits
from core.evaluation.predictions import SplitPredictions, subcategories_of
from core.features.inventory import feature_files
from core.model.ensemble import compatibility_problems
from dashboard.cache import audit_reading
from dashboard.context import DashboardContext
from dashboard.plain_text import plain
from dashboard.predictions import stored_or_unaugmented
from dashboard.views.explorer_videos import VideoFiles


@dataclass
class ExplorerData:
    """Every named split the page can show, their predictions where the members fit, and one
    table row per video of the splits that can share a map (in stacked order)."""

    context: DashboardContext
    reading: SplitReading
    compared: list[AuditSplit]
    predictions: dict[str, SplitPredictions]
    videos: pd.DataFrame
    files: VideoFiles
    problems: list[str] = field(default_factory=list)


def _predictions(context: DashboardContext, split: AuditSplit) -> SplitPredictions:
    probabilities, modes = stored_or_unaugmented(context.paths, context.members, split.path)
    return SplitPredictions(
        member_names=context.member_names,
        modes=list(modes),
        probabilities=probabilities,
        labels=split.index.labels,
        video_names=split.index.video_names,
        class_names=split.index.class_names,
    )


def split_predictions(context: DashboardContext, splits: list[AuditSplit]) -> tuple[dict, list[str]]:
    """Predictions per split; a split the members do not fit (or whose values fail) is one message."""
    predictions, problems = {}, []
    for split in splits:
        unfit = compatibility_problems(context.members.members, split)
        if unfit:
            problems.append(f"{split.path.name}: no predictions ({'; '.join(unfit)})")
            continue
        try:
            predictions[split.split] = _predictions(context, split)
        except ValueError as exc:
            problems.append(f"{split.path.name}: no predictions ({exc})")
    return predictions, problems


def _unpredicted_rows(split: AuditSplit) -> pd.DataFrame:
    names = np.asarray(split.index.class_names, dtype=object)
    return pd.DataFrame(
        {
            "video": split.index.video_names,
            "subcategory": subcategories_of(split.index.video_names),
            "true_class": names[split.index.labels],
        }
    )


def video_rows(compared: list[AuditSplit], predictions: dict[str, SplitPredictions]) -> pd.DataFrame:
    """One row per video of the compared splits, in the order their vectors are stacked."""
    parts = []
    for split in compared:
        known = predictions.get(split.split)
        table = known.video_table().drop(columns=["index"]) if known else _unpredicted_rows(split)
        parts.append(table.assign(split=split.split))
    table = pd.concat(parts, ignore_index=True)
    missing_columns = (
        ("predicted_class", "–"),
        ("confidence", np.nan),
        ("correct", None),
        ("members_disagree", None),
    )
    for column, missing in missing_columns:
        if column not in table:
            table[column] = missing
    return table


def explorer_data(context: DashboardContext) -> ExplorerData | None:
    paths = feature_files(context.paths.features_dir)
    if not paths:
        st.error(
            f"No features files in {plain(context.paths.features_dir)}: extract some with "
            "`python -m core extract`."
        )
        return None
    reading = audit_reading(paths)
    compared, problems = comparable_splits(reading.splits)
    predictions, unpredicted = (
        ({}, []) if not context.members.members else split_predictions(context, reading.splits)
    )
    files = VideoFiles(context.paths.data_dir, {s.split: s.path for s in reading.splits})
    videos = video_rows(compared, predictions) if compared else pd.DataFrame()
    said = list(reading.problems)
    for split in reading.splits:
        for problem in [p for p in [*problems, *unpredicted] if split.path.name in p]:
            add_problem(said, split.path.name, problem)
    return ExplorerData(context, reading, compared, predictions, videos, files, said)
