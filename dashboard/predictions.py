"""Split predictions for the pages: read from the on-disk cache when the inputs' content has
been seen before, else computed with a progress bar and stored.

The unaugmented pass is computed first, in the script run; the other TTA modes (about three
quarters of the work) then run in a background job, so the pages show plain-ensemble numbers
at once and a "TTA: computing" state until the full result is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.evaluation.predictions import SplitPredictions
from core.features.store import open_features
from core.model.background import BackgroundProgress
from core.model.ensemble import Ensemble
from core.model.inference import predict_split
from core.model.prediction_cache import prediction_key, store_probabilities
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from dashboard.cache import background_predictions, feature_index, fingerprint, stored_probabilities

UNAUGMENTED = ("original",)
TTA_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class PendingTta:
    """The background pass of the TTA modes: its registry key and its progress when last seen."""

    key: str
    progress: BackgroundProgress


@dataclass(frozen=True)
class SplitProbabilities:
    """What is known so far: all `modes`, or only the unaugmented one while `pending` runs."""

    probabilities: np.ndarray
    modes: tuple[str, ...]
    pending: PendingTta | None = None


def background_key(cache_dir: Path, key: str) -> str:
    """A background pass is per cache folder: two projects with the same files each store theirs."""
    return f"{key}@{cache_dir.resolve()}"


def _key(members: Ensemble, features_path: Path, modes: tuple[str, ...]) -> str:
    return prediction_key([fingerprint(m.path) for m in members.members], fingerprint(features_path), modes)


def _stored(
    cache_dir: Path, members: Ensemble, features_path: Path, modes: tuple[str, ...]
) -> np.ndarray | None:
    """The cached probabilities when the file holds exactly [members, modes, videos, classes]."""
    videos = len(feature_index(features_path).labels)
    shape = (len(members.members), len(modes), videos, members.members[0].config.num_classes)
    return stored_probabilities(cache_dir, _key(members, features_path, modes), shape)


def _computed_now(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...]
) -> np.ndarray:
    stored = _stored(paths.cache_dir, members, features_path, modes)
    if stored is not None:
        return stored
    num_videos = len(feature_index(features_path).labels)
    bar = st.progress(0.0, text=f"Running {len(members.members)} models × {len(modes)} TTA modes…")

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Predicting {num_videos} videos: {done}/{total} sequences")

    with open_features(features_path) as handle:
        probabilities = predict_split([m.model for m in members.members], handle, modes, progress=report)
    store_probabilities(paths.cache_dir, _key(members, features_path, modes), probabilities)
    bar.empty()
    stored = _stored(paths.cache_dir, members, features_path, modes)
    return probabilities if stored is None else stored


def stored_or_unaugmented(
    paths: ProjectPaths, members: Ensemble, features_path: Path
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Every TTA mode when stored, else the unaugmented pass (computed now if need be); starts no
    background pass, for pages that read several splits at once."""
    stored = _stored(paths.cache_dir, members, features_path, TTA_MODES)
    if stored is not None:
        return stored, TTA_MODES
    return _computed_now(paths, members, features_path, UNAUGMENTED), UNAUGMENTED


def split_probabilities(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...] = TTA_MODES
) -> SplitProbabilities:
    """[members, modes, videos, classes] when stored; else the unaugmented pass now and the
    other modes started in the background (or still running)."""
    key = _key(members, features_path, modes)
    stored = _stored(paths.cache_dir, members, features_path, modes)
    if stored is not None:
        return SplitProbabilities(stored, modes)
    if modes[0] != "original" or len(modes) == 1:
        return SplitProbabilities(_computed_now(paths, members, features_path, modes), modes)
    original = _computed_now(paths, members, features_path, UNAUGMENTED)
    cache_dir = paths.cache_dir

    def store_all(rest: np.ndarray) -> None:
        store_probabilities(cache_dir, key, np.concatenate([original, rest], axis=1))

    job_key = background_key(cache_dir, key)
    job = background_predictions().start(
        job_key, [m.model for m in members.members], features_path, modes[1:], store_all
    )
    progress = job.snapshot()
    stored = _stored(cache_dir, members, features_path, modes) if progress.finished else None
    if stored is not None:
        return SplitProbabilities(stored, modes)
    return SplitProbabilities(original, UNAUGMENTED, PendingTta(job_key, progress))


def split_predictions(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...] = TTA_MODES
) -> tuple[SplitPredictions, PendingTta | None]:
    """The members' predictions on one features file with its labels and names, and the state
    of the TTA modes still computing (None when every mode is in)."""
    known = split_probabilities(paths, members, features_path, modes)
    index = feature_index(features_path)
    split = SplitPredictions(
        member_names=[m.name for m in members.members],
        modes=list(known.modes),
        probabilities=known.probabilities,
        labels=index.labels,
        video_names=index.video_names,
        class_names=index.class_names,
    )
    return split, known.pending


def tta_status_text(progress: BackgroundProgress) -> str:
    if progress.error is not None:
        return f"TTA: failed ({progress.error}); showing the unaugmented ensemble only"
    return f"TTA: computing, {progress.fraction:.0%} — plain-ensemble numbers are shown until it finishes"


def render_tta_status(pending: PendingTta) -> None:
    """The TTA state above the page: a warning when the pass failed, else a polled status."""
    if pending.progress.error is not None:
        st.warning(tta_status_text(pending.progress))
    else:
        _poll_tta(pending.key)


@st.fragment(run_every=TTA_POLL_SECONDS)
def _poll_tta(key: str) -> None:
    # Runs alone every poll, so navigation is never blocked; the whole page reruns once the
    # full result is stored, and then fills in the TTA numbers.
    job = background_predictions().get(key)
    if job is None:
        return
    progress = job.snapshot()
    if progress.finished:
        st.rerun()
    st.info(tta_status_text(progress))
