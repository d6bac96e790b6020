"""The one place where the app caches models, feature files and predictions.

Models live in `st.cache_resource` (shared across sessions, inference only). Split
probabilities are computed once with a progress bar, stored on disk keyed by the content
hashes of the checkpoints and the features file, and held in memory with `st.cache_data`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from core.evaluation.jobs import JobRegistry
from core.evaluation.predictions import SplitPredictions
from core.evaluation.recorded import read_configuration_analysis, recorded_metrics
from core.features.inventory import FeatureFileInfo, feature_files, inspect_feature_file
from core.features.store import FeatureSet, load_feature_set
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.ensemble import Ensemble, compatibility_problems, load_ensemble, member_problems
from core.model.inference import predict_split
from core.model.prediction_cache import (
    file_fingerprint,
    load_cached_probabilities,
    prediction_key,
    store_probabilities,
)
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths

ANALYSED_SPLIT_KEY = "analysed_features"
CONTEXT_KEY = "dashboard_context"


def project_paths() -> ProjectPaths:
    """The folder the app was started in, or DASHBOARD_ROOT when set (tests, other projects)."""
    return ProjectPaths.at(os.environ.get("DASHBOARD_ROOT", "."))


def device_name() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_label() -> str:
    if torch.cuda.is_available():
        return f"GPU ({torch.cuda.get_device_name(0)})"
    return f"CPU ({torch.get_num_threads()} threads)"


@st.cache_resource
def job_registry() -> JobRegistry:
    """One registry of background evaluation runs per server process, so a run survives page
    switches and reruns."""
    return JobRegistry()


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@st.cache_data(show_spinner=False, max_entries=256)
def _fingerprint_of(path: str, stamp: tuple[int, int]) -> str:
    return file_fingerprint(path)


def fingerprint(path: Path) -> str:
    """Content hash, recomputed only when the file's mtime or size changes."""
    return _fingerprint_of(str(path), _stamp(path))


@st.cache_resource(show_spinner="Loading checkpoints…", max_entries=4)
def _load_members(paths: tuple[str, ...], fingerprints: tuple[str, ...], device: str) -> Ensemble:
    return load_ensemble([Path(p) for p in paths], device)


def load_members(paths: list[Path]) -> Ensemble:
    return _load_members(tuple(map(str, paths)), tuple(fingerprint(p) for p in paths), device_name())


@st.cache_resource(show_spinner="Reading features…", max_entries=4)
def _feature_set(path: str, fingerprint_: str) -> FeatureSet:
    return load_feature_set(path)


def feature_set(path: Path) -> FeatureSet:
    """A whole split in memory, shared read-only across sessions."""
    return _feature_set(str(path), fingerprint(path))


@st.cache_data(show_spinner=False, max_entries=16)
def _inspect(path: str, stamp: tuple[int, int]) -> FeatureFileInfo:
    return inspect_feature_file(Path(path))


def feature_infos(paths: ProjectPaths) -> list[FeatureFileInfo]:
    return [_inspect(str(p), _stamp(p)) for p in feature_files(paths.features_dir)]


@st.cache_data(show_spinner=False, max_entries=16)
def _probabilities_from_disk(cache_dir: str, key: str) -> np.ndarray:
    probabilities = load_cached_probabilities(Path(cache_dir), key)
    if probabilities is None:
        raise FileNotFoundError(f"{cache_dir}: no cached predictions {key}")
    return probabilities


def split_probabilities(
    paths: ProjectPaths, members: Ensemble, features_path: Path, modes: tuple[str, ...] = TTA_MODES
) -> np.ndarray:
    """[members, modes, videos, classes], computed at most once per content of the inputs."""
    key = prediction_key([fingerprint(m.path) for m in members.members], fingerprint(features_path), modes)
    try:
        # A hit in memory touches no file; only a miss falls through to computing.
        return _probabilities_from_disk(str(paths.cache_dir), key)
    except FileNotFoundError:
        pass
    data = feature_set(features_path)
    bar = st.progress(0.0, text=f"Running {len(members.members)} models × {len(modes)} TTA modes…")

    def report(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Predicting {data.num_videos} videos: {done}/{total} sequences")

    probabilities = predict_split([m.model for m in members.members], data, modes, progress=report)
    store_probabilities(paths.cache_dir, key, probabilities)
    bar.empty()
    return _probabilities_from_disk(str(paths.cache_dir), key)


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


@dataclass
class DashboardContext:
    paths: ProjectPaths
    members: Ensemble
    features: list[FeatureFileInfo]
    analysed: FeatureFileInfo | None
    problems: list[str] = field(default_factory=list)
    split: SplitPredictions | None = None

    @property
    def member_names(self) -> list[str]:
        return [m.name for m in self.members.members]

    def recorded(self) -> dict[str, dict[str, float]]:
        return recorded_metrics(
            read_configuration_analysis(self.paths.configuration_analysis_json), self.members.members
        )


def readable_features(infos: list[FeatureFileInfo]) -> list[FeatureFileInfo]:
    return [info for info in infos if info.error is None]


def default_analysed(infos: list[FeatureFileInfo]) -> FeatureFileInfo | None:
    readable = readable_features(infos)
    tests = [info for info in readable if info.split == "test"]
    return (tests or readable or [None])[0]


def chosen_analysed(infos: list[FeatureFileInfo]) -> FeatureFileInfo | None:
    chosen = st.session_state.get(ANALYSED_SPLIT_KEY)
    by_path = {str(info.path): info for info in readable_features(infos)}
    return by_path.get(chosen) or default_analysed(infos)


def build_context() -> DashboardContext:
    """Load what loads and predict the analysed split; problems are collected, never raised."""
    paths = project_paths()
    members = load_members(find_ensemble_checkpoints(paths.models_dir))
    infos = feature_infos(paths)
    analysed = chosen_analysed(infos)
    problems = member_problems(members, paths.models_dir)
    problems += [info.error for info in infos if info.error]
    context = DashboardContext(paths, members, infos, analysed, problems)
    if analysed is None or not members.members:
        return context
    incompatible = compatibility_problems(members.members, analysed)
    context.problems += incompatible
    if incompatible:
        return context
    context.split = split_predictions(paths, members, analysed.path)
    return context


def require_split(context: DashboardContext) -> SplitPredictions:
    """The analysed split's predictions, or a clear message and a stop when there are none."""
    if context.split is None:
        if not context.members.members:
            st.error(f"No loadable checkpoints in {context.paths.models_dir}. See the sidebar for details.")
        elif context.analysed is None:
            st.error(
                f"No readable feature file in {context.paths.features_dir}. See the sidebar for details."
            )
        else:
            st.error(
                "The checkpoints cannot be evaluated on the chosen features file: "
                + " ".join(context.problems)
            )
        st.stop()
    return context.split


def _page_runs_without_shell() -> bool:
    # Streamlit treats `pages/` as a v1 pages folder until some session has called
    # st.navigation; until then a first request to a page URL runs that page file alone.
    from streamlit.runtime.pages_manager import PagesManager

    return bool(PagesManager.uses_pages_directory)


def current_context() -> DashboardContext:
    """The context the shell built for this script run (building it when the page runs alone)."""
    if _page_runs_without_shell() or CONTEXT_KEY not in st.session_state:
        from dashboard.shell import render_shell  # the shell imports this module

        return render_shell()
    return st.session_state[CONTEXT_KEY]
