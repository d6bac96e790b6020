"""What every page works on: the loaded members, the feature files, the analysed split's
predictions and the problems found on the way, built once per script run by the shell."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import streamlit as st

from core.device import default_device
from core.evaluation.predictions import SplitPredictions
from core.evaluation.recorded import read_configuration_analysis, recorded_metrics
from core.evaluation.split_choice import chosen_or_default, validation_file
from core.features.inventory import FeatureFileInfo, feature_files
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.ensemble import Ensemble, compatibility_problems, member_problems
from core.model.tta import TTA_MODES
from core.paths import ProjectPaths
from dashboard.cache import feature_info, load_members
from dashboard.plain_text import code, plain
from dashboard.predictions import PendingTta, split_predictions

ANALYSED_SPLIT_KEY = "analysed_features"
UNAUGMENTED = ("original",)


def project_paths() -> ProjectPaths:
    """The folder the app was started in, or DASHBOARD_ROOT when set (tests, other projects)."""
    return ProjectPaths.at(os.environ.get("DASHBOARD_ROOT", "."))


@dataclass
class DashboardContext:
    paths: ProjectPaths
    members: Ensemble
    features: list[FeatureFileInfo]
    analysed: FeatureFileInfo | None
    problems: list[str] = field(default_factory=list)
    split: SplitPredictions | None = None
    tta_pending: PendingTta | None = None

    @property
    def member_names(self) -> list[str]:
        return [m.name for m in self.members.members]

    def recorded(self) -> dict[str, dict[str, float]]:
        return recorded_metrics(
            read_configuration_analysis(self.paths.configuration_analysis_json), self.members.members
        )


def build_context() -> DashboardContext:
    """Load what loads and predict the analysed split; problems are collected, never raised."""
    paths = project_paths()
    members = load_members(find_ensemble_checkpoints(paths.models_dir), default_device().type)
    infos = [feature_info(p) for p in feature_files(paths.features_dir)]
    analysed = chosen_or_default(infos, st.session_state.get(ANALYSED_SPLIT_KEY))
    problems = member_problems(members, paths.models_dir)
    problems += [info.error for info in infos if info.error]
    context = DashboardContext(paths, members, infos, analysed, problems)
    if analysed is None or not members.members:
        return context
    incompatible = compatibility_problems(members.members, analysed)
    context.problems += incompatible
    if incompatible:
        return context
    context.split, context.tta_pending = _predictions_or_problem(context, analysed)
    return context


def _predictions_or_problem(
    context: DashboardContext, info: FeatureFileInfo, modes: tuple[str, ...] = TTA_MODES
) -> tuple[SplitPredictions | None, PendingTta | None]:
    """A file can look fine until its values are read (NaN, a model giving NaN): that becomes a
    problem in the sidebar, and the pages that do not need this file keep working."""
    try:
        return split_predictions(context.paths, context.members, info.path, modes)
    except ValueError as exc:
        problem = f"{info.path.name} cannot be analysed: {exc}"
        context.problems.append(problem)
        return None, None


def require_split(context: DashboardContext) -> SplitPredictions:
    """The analysed split's predictions, or a clear message and a stop when there are none."""
    if context.split is None:
        if not context.members.members:
            st.error(
                f"No loadable checkpoints in {code(context.paths.models_dir)}. See the sidebar for details."
            )
        elif context.analysed is None:
            st.error(
                f"No readable feature file in {code(context.paths.features_dir)}. "
                "See the sidebar for details."
            )
        else:
            st.error(
                "The checkpoints cannot be evaluated on the chosen features file: "
                + plain(" ".join(context.problems))
            )
        st.stop()
    return context.split


@dataclass(frozen=True)
class ReferenceSplit:
    info: FeatureFileInfo
    split: SplitPredictions
    is_validation: bool


def reference_split(context: DashboardContext) -> ReferenceSplit | None:
    """Members' unaugmented predictions on the validation features when they exist (the split
    training recorded its numbers on), else the analysed split."""
    info = validation_file(context.features, context.members.members)
    split, _ = _predictions_or_problem(context, info, UNAUGMENTED) if info is not None else (None, None)
    if info is not None and split is not None:
        return ReferenceSplit(info, split, is_validation=True)
    if info is not None:
        # Shown now: the sidebar was drawn before this page asked for the validation split.
        st.sidebar.warning(plain(context.problems[-1]), icon="⚠️")
    if context.split is None or context.analysed is None:
        return None
    return ReferenceSplit(context.analysed, context.split, is_validation=False)
