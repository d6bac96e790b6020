"""Sidebar launcher on every page: start an evaluation run in the background, watch its progress
while browsing, cancel it. The work itself is `core.evaluation.jobs`; this module only draws and polls."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from core.evaluation.jobs import EvaluationRequest, JobRegistry, JobSnapshot, JobState
from core.features.inventory import feature_files
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.inference import DEFAULT_BATCH_SIZE
from core.model.tta import TTA_MODES
from dashboard.cache import job_registry
from dashboard.context import DashboardContext
from dashboard.plain_text import plain
from dashboard.theme import short_name

SESSION_JOBS_KEY = "evaluation_jobs"
ANNOUNCED_KEY = "evaluation_jobs_announced"
AUGMENTED_MODES = tuple(m for m in TTA_MODES if m != "original")
DEVICE_LABELS = {"cpu": "CPU", "cuda": "GPU"}
POLL_EVERY = "2s"


def available_devices() -> list[str]:
    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def checkpoint_choices(models_dir: Path) -> list[Path]:
    return sorted(models_dir.glob("*.pt")) if models_dir.is_dir() else []


def session_jobs(registry: JobRegistry) -> list[JobSnapshot]:
    """This browser session's jobs, newest first."""
    mine = set(st.session_state.get(SESSION_JOBS_KEY, []))
    return [s for s in registry.snapshots() if s.job_id in mine]


def render_launch_form(context: DashboardContext, registry: JobRegistry) -> None:
    paths = context.paths
    checkpoints = checkpoint_choices(paths.models_dir)
    features = feature_files(paths.features_dir)
    with st.sidebar.expander("Evaluation run", icon=":material/play_circle:"):
        if not checkpoints or not features:
            st.caption(
                f"Needs checkpoints (*.pt) in `{paths.models_dir.name}/` and a features file (*.h5) "
                f"in `{paths.features_dir.name}/`."
            )
            return
        analysed = context.analysed.path if context.analysed else features[0]
        with st.form("evaluation_form", border=False):
            chosen = st.multiselect(
                "Checkpoints",
                checkpoints,
                default=find_ensemble_checkpoints(paths.models_dir) or checkpoints,
                format_func=lambda p: short_name(p.stem),
                key="eval_checkpoints",
            )
            features_path = st.selectbox(
                "Features file",
                features,
                index=features.index(analysed) if analysed in features else 0,
                format_func=lambda p: p.name,
                key="eval_features",
            )
            tta = st.toggle("Test-time augmentation", value=True, key="eval_tta")
            modes = st.multiselect("TTA modes", AUGMENTED_MODES, default=AUGMENTED_MODES, key="eval_modes")
            devices = available_devices()
            device = st.radio(
                "Device", devices, index=len(devices) - 1, format_func=DEVICE_LABELS.get, horizontal=True,
                key="eval_device",
            )  # fmt: skip
            batch_size = st.number_input(
                "Batch size", 1, 4096, DEFAULT_BATCH_SIZE, step=16, key="eval_batch_size"
            )
            submitted = st.form_submit_button("Start evaluation", icon=":material/play_arrow:")
        if submitted:
            modes = tuple(modes) if tta else ()
            start_job(registry, paths.runs_dir, chosen, features_path, modes, device, batch_size)


def start_job(
    registry: JobRegistry,
    runs_dir: Path,
    checkpoints: list[Path],
    features: Path,
    modes: tuple[str, ...],
    device: str,
    batch_size: int,
) -> None:
    if not checkpoints:
        st.error("Choose at least one checkpoint.")
        return
    if st.session_state.get("eval_tta") and not modes:
        st.error("TTA is on but no mode is chosen: pick at least one TTA mode or turn TTA off.")
        return
    request = EvaluationRequest(tuple(checkpoints), features, modes, int(batch_size), device)
    job = registry.submit(request, runs_dir)
    st.session_state[SESSION_JOBS_KEY] = [*st.session_state.get(SESSION_JOBS_KEY, []), job.job_id]
    registry.forget_finished()


def render_job(snapshot: JobSnapshot, registry: JobRegistry) -> None:
    request = snapshot.request
    if snapshot.active:
        counted = f"{snapshot.done}/{snapshot.total} batches" if snapshot.total else "loading…"
        st.progress(snapshot.fraction, text=f"Evaluating {request.describe()}: {counted}")
        st.button(
            "Cancel evaluation",
            key=f"cancel_job_{snapshot.job_id}",
            on_click=registry.cancel,
            args=(snapshot.job_id,),
            icon=":material/stop:",
        )
    elif snapshot.state is JobState.FINISHED and snapshot.run_path is not None:
        st.success(f"Evaluation saved: `{snapshot.run_path.name}` (see Evaluation runs).")
    elif snapshot.state is JobState.CANCELLED:
        st.info("Evaluation cancelled; nothing was written.")
    elif snapshot.state is JobState.FAILED:
        st.error(f"Evaluation failed: {plain(snapshot.error)}")


def job_status(registry: JobRegistry) -> None:
    """The session's latest job; when a job ends, rerun the whole app once so every page
    (e.g. the runs list) sees the new file and polling stops."""
    jobs = session_jobs(registry)
    if not jobs:
        return
    announced = set(st.session_state.get(ANNOUNCED_KEY, []))
    ended = [s.job_id for s in jobs if not s.active and s.job_id not in announced]
    if ended:
        st.session_state[ANNOUNCED_KEY] = sorted(announced | set(ended))
        st.rerun(scope="app")
    for snapshot in [s for s in jobs if s.active] or jobs[:1]:
        render_job(snapshot, registry)


def render_evaluation_sidebar(context: DashboardContext) -> None:
    registry = job_registry()
    render_launch_form(context, registry)
    polling = any(s.active for s in session_jobs(registry))
    # A container, not `with st.sidebar:` directly: an empty fragment there blanks the sidebar
    # on the next run in Streamlit 1.67.
    with st.sidebar.container():
        st.fragment(job_status, run_every=POLL_EVERY if polling else None)(registry)
