"""Retrained candidates as extra members of the Compare page's composer: their probabilities on
the analysed split are computed once (cached by content) and set beside the members'."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

from core.evaluation.predictions import SplitPredictions
from core.paths import checkpoint_file_name
from core.training.jobs import RetrainSnapshot
from dashboard.cache import candidate_probabilities, retrain_registry
from dashboard.context import DashboardContext
from dashboard.sidebar import device_label
from dashboard.theme import short_name

CANDIDATE_PREFIX = "candidate_"


def candidate_name(snapshot: RetrainSnapshot) -> str:
    return f"{CANDIDATE_PREFIX}{snapshot.request.member}_seed{snapshot.seed}"


def finished_candidates(context: DashboardContext) -> dict[str, RetrainSnapshot]:
    """Composer name -> the newest finished job of that member and seed, for this project's models."""
    found: dict[str, RetrainSnapshot] = {}
    for snapshot in retrain_registry().snapshots(context.paths.retrain_dir):
        if snapshot.has_candidate and snapshot.request.models_dir == context.paths.models_dir:
            found.setdefault(candidate_name(snapshot), snapshot)
    return found


def with_candidates(context: DashboardContext, split: SplitPredictions) -> SplitPredictions:
    """`split` plus the candidates the user picks, as members the composer can toggle."""
    candidates = finished_candidates(context)
    if not candidates or context.analysed is None:
        return split
    chosen = st.multiselect(
        "Include retrained candidates",
        list(candidates),
        format_func=short_name,
        key="compare_candidates",
        help="Candidates trained from the Collapse inspector; each joins the composer as one more member.",
    )
    if not chosen:
        return split
    device = "cuda" if device_label().startswith("GPU") else "cpu"
    extra = [
        candidate_probabilities(
            candidates[name].candidate_dir / checkpoint_file_name(candidates[name].request.member),
            context.analysed.path,
            tuple(split.modes),
            device,
        )
        for name in chosen
    ]
    return replace(
        split,
        member_names=[*split.member_names, *chosen],
        probabilities=np.concatenate([split.probabilities, *extra], axis=0),
    )
