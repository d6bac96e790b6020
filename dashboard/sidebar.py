"""Sidebar on every page: what is loaded, which split is analysed, and what is wrong."""

from __future__ import annotations

import streamlit as st
import torch

from core.evaluation.split_choice import readable_features
from core.features.inventory import FeatureFileInfo
from core.model.checkpoints import LoadedCheckpoint
from core.model.cpu_threads import configured_cpu_threads
from dashboard.context import ANALYSED_SPLIT_KEY, DashboardContext
from dashboard.notices import render_notices
from dashboard.plain_text import code, plain
from dashboard.theme import pct


def device_label() -> str:
    if torch.cuda.is_available():
        return f"GPU ({torch.cuda.get_device_name(0)})"
    return f"CPU ({configured_cpu_threads()} threads)"


def _recipe_text(info: LoadedCheckpoint | FeatureFileInfo) -> str:
    recipe = info.recipe
    if recipe is None:
        return "recipe not recorded"
    return f"{recipe.backbone}, {recipe.num_frames} frames @ {recipe.image_size}px"


def _checkpoint_line(member: LoadedCheckpoint) -> str:
    c = member.config
    shape = f"H{c.hidden_dim}×{c.num_lstm_layers}L, {c.num_attention_heads} heads, {c.feature_dim}-d in"
    recorded = member.recorded_val_acc
    val = f"val acc {pct(recorded)}" if recorded is not None else "val acc not recorded"
    return f"**{plain(member.name)}** — {shape}; {val}; {_recipe_text(member)}"


def render_loaded(context: DashboardContext) -> None:
    with st.sidebar.expander("Loaded artifacts", expanded=False):
        st.caption(f"Project: {code(context.paths.root)} · device: {device_label()}")
        if context.members.members:
            st.markdown("\n".join(f"- {_checkpoint_line(m)}" for m in context.members.members))
        else:
            st.markdown(f"No loadable checkpoints in {code(context.paths.models_dir.name + '/')}.")
        for info in readable_features(context.features):
            classes = plain(", ".join(info.class_names))
            st.markdown(
                f"- {code(info.path.name)}: {info.num_videos} videos, {info.feature_dim}-d, "
                f"{info.max_frames} steps; {_recipe_text(info)}; classes {classes}"
            )


def render_split_choice(context: DashboardContext) -> None:
    readable = readable_features(context.features)
    if len(readable) < 2 or context.analysed is None:
        return
    options = [str(info.path) for info in readable]
    st.sidebar.selectbox(
        "Analysed features file",
        options,
        index=options.index(str(context.analysed.path)),
        format_func=lambda p: p.rsplit("/", 1)[-1],
        key=ANALYSED_SPLIT_KEY,
        help="The split every page analyses; predictions are computed once per file and cached.",
    )


def render_problems(context: DashboardContext) -> None:
    render_notices(context.problems, what="problem(s) found", sidebar=True)


def render_sidebar(context: DashboardContext) -> None:
    render_split_choice(context)
    render_loaded(context)
    render_problems(context)
