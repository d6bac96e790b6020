"""Split predictions for the pages: read from the on-disk cache when the inputs' content has
been seen before, else computed once with a progress bar and stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from core.evaluation.predictions import SplitPredictions
from core.model.ensemble import Ensemble
from core.model.inference import predict_split
from core.model.prediction_cache import prediction_key, store_probabilities
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from dashboard.cache import feature_set, fingerprint, stored_probabilities


def split_probabilities(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...] = TTA_MODES
) -> np.ndarray:
    """[members, modes, videos, classes], computed at most once per content of the inputs."""
    key = prediction_key([fingerprint(m.path) for m in members.members], fingerprint(features_path), modes)
    stored = stored_probabilities(paths.cache_dir, key)
    if stored is not None:
        return stored
    data = feature_set(features_path)
    bar = st.progress(0.0, text=f"Running {len(members.members)} models × {len(modes)} TTA modes…")

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Predicting {data.num_videos} videos: {done}/{total} sequences")

    probabilities = predict_split([m.model for m in members.members], data, modes, progress=report)
    store_probabilities(paths.cache_dir, key, probabilities)
    bar.empty()
    return stored_probabilities(paths.cache_dir, key)


def split_predictions(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...] = TTA_MODES
) -> SplitPredictions:
    """The members' cached predictions on one features file, with its labels and names."""
    probabilities = split_probabilities(paths, members, features_path, modes)
    data = feature_set(features_path)
    return SplitPredictions(
        member_names=[m.name for m in members.members],
        modes=list(modes),
        probabilities=probabilities,
        labels=data.labels,
        video_names=data.video_names,
        class_names=data.class_names,
    )
