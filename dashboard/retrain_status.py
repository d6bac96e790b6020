"""Sidebar on every page: the project's running retrain jobs (cancellable), the ones an app
restart stopped (resumable), and job folders that are not read, each with its one-line problem.
The work is `core.training.jobs`; this module only draws and polls."""

from __future__ import annotations

import streamlit as st

from core.training.jobs import RetrainSnapshot, RetrainState
from dashboard.cache import retrain_registry
from dashboard.context import DashboardContext
from dashboard.plain_text import plain

POLL_EVERY = "2s"
ACTIVE_KEY = "retrain_jobs_seen_active"


def _label(snapshot: RetrainSnapshot) -> str:
    seed = f", seed {snapshot.seed}" if snapshot.seed is not None else ""
    return f"Retraining Model {snapshot.request.member}{seed}"


def render_snapshot(snapshot: RetrainSnapshot) -> None:
    registry = retrain_registry()
    if snapshot.active:
        st.progress(
            snapshot.fraction, text=f"{_label(snapshot)}: epoch {len(snapshot.rows)}/{snapshot.max_epochs}"
        )
        st.button(
            "Cancel retraining",
            key=f"sidebar_retrain_cancel_{snapshot.job_id}",
            icon=":material/stop:",
            on_click=registry.cancel,
            args=(snapshot.job_id,),
        )
        return
    st.warning(f"{_label(snapshot)} stopped before it finished; its last finished epoch is kept.")
    resumed = st.button(
        "Resume retraining", key=f"sidebar_retrain_resume_{snapshot.job_id}", icon=":material/play_arrow:"
    )
    if resumed:
        # A job file can be edited by hand; its refusal is shown as its one line, never a traceback.
        try:
            registry.resume(snapshot.folder)
        except (ValueError, OSError) as exc:
            st.error(plain(exc))
        else:
            st.rerun()


def retrain_status(context: DashboardContext) -> None:
    """Running and stopped jobs; when a job this session saw running ends, rerun the whole app
    once so the Collapse inspector shows its candidate."""
    snapshots = retrain_registry().snapshots(context.paths.retrain_dir)
    active = {s.job_id for s in snapshots if s.active}
    seen = set(st.session_state.get(ACTIVE_KEY, []))
    st.session_state[ACTIVE_KEY] = sorted(active)
    if seen - active:
        st.rerun(scope="app")
    for snapshot in snapshots:
        if snapshot.active or snapshot.state is RetrainState.STOPPED:
            render_snapshot(snapshot)
    for unreadable in retrain_registry().unreadable(context.paths.retrain_dir):
        st.warning(f"Retrain job not read: {plain(unreadable.problem)}", icon=":material/error:")


def render_retrain_status(context: DashboardContext) -> None:
    polling = bool(retrain_registry().active(context.paths.retrain_dir))
    with st.sidebar.container():
        st.fragment(retrain_status, run_every=POLL_EVERY if polling else None)(context)
