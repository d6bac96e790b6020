"""Sidebar launcher on every page: start an evaluation run in the background, watch its progress
while browsing, cancel it. The work itself is `core.evaluation.jobs`; this module only draws and polls."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from core.evaluation.jobs import EvaluationRequest, JobRegistry, JobSnapshot, JobState, cluster_address
from core.evaluation.runs import LOCAL_ENGINE
from core.features.inventory import feature_files
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.inference import DEFAULT_BATCH_SIZE
from core.model.tta import TTA_MODES
from dashboard.cache import job_registry
from dashboard.context import DashboardContext
from dashboard.plain_text import code, plain
from dashboard.theme import short_name

SESSION_JOBS_KEY = "evaluation_jobs"
ANNOUNCED_KEY = "evaluation_jobs_announced"
AUGMENTED_MODES = tuple(m for m in TTA_MODES if m != "original")
DEVICE_LABELS = {"cpu": "CPU", "cuda": "GPU"}
ENGINE_LABELS = {LOCAL_ENGINE: "This machine", "ray": "Ray cluster"}
POLL_EVERY = "2s"
FORM_OPEN_KEY = "eval_form_open"
FORM_PROBLEM_KEY = "eval_form_problem"


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
    # Keyed and tracking its state (an untracked expander ignores `session_state[key]`) so it can
    # close itself once a run starts: the run's progress is then at the sidebar's top.
    with st.sidebar.expander(
        "Evaluation run", icon=":material/play_circle:", key=FORM_OPEN_KEY, on_change="rerun"
    ):
        if not checkpoints or not features:
            st.caption(
                f"Needs checkpoints (*.pt) in {code(paths.models_dir.name + '/')} and a features file (*.h5) "
                f"in {code(paths.features_dir.name + '/')}."
            )
            return
        analysed = context.analysed.path if context.analysed else features[0]
        with st.form("evaluation_form", border=False):
            st.multiselect(
                "Checkpoints",
                checkpoints,
                default=find_ensemble_checkpoints(paths.models_dir) or checkpoints,
                format_func=lambda p: short_name(p.stem),
                key="eval_checkpoints",
            )
            st.selectbox(
                "Features file",
                features,
                index=features.index(analysed) if analysed in features else 0,
                format_func=lambda p: p.name,
                key="eval_features",
            )
            st.toggle("Test-time augmentation", value=True, key="eval_tta")
            st.multiselect("TTA modes", AUGMENTED_MODES, default=AUGMENTED_MODES, key="eval_modes")
            devices = available_devices()
            st.radio(
                "Device", devices, index=len(devices) - 1, format_func=DEVICE_LABELS.get, horizontal=True,
                key="eval_device",
            )  # fmt: skip
            render_engine_choice()
            st.number_input("Batch size", 1, 4096, DEFAULT_BATCH_SIZE, step=16, key="eval_batch_size")
            st.form_submit_button(
                "Start evaluation",
                icon=":material/play_arrow:",
                on_click=submit_evaluation,
                args=(registry, paths.runs_dir),
            )
        problem = st.session_state.pop(FORM_PROBLEM_KEY, None)
        if problem:
            st.error(problem)


def render_engine_choice() -> None:
    """Offered only when a Ray cluster is named (RAY_ADDRESS) and Ray is installed here."""
    address = cluster_address()
    if address is None:
        return
    st.radio(
        "Engine", list(ENGINE_LABELS), format_func=ENGINE_LABELS.get, horizontal=True, key="eval_engine",
        help=f"Ray cluster: the ensemble runs on the actors of the cluster at {address} (RAY_ADDRESS), "
        "one GPU each where it has GPUs; Device applies to this machine only.",
    )  # fmt: skip


def submit_evaluation(registry: JobRegistry, runs_dir: Path) -> None:
    """Form callback (it runs before the script, so it may still close the expander)."""
    state = st.session_state
    modes = tuple(state["eval_modes"]) if state["eval_tta"] else ()
    problem = start_job(
        registry, runs_dir, state["eval_checkpoints"], state["eval_features"], modes,
        state["eval_device"], state["eval_batch_size"], state.get("eval_engine", LOCAL_ENGINE),
    )  # fmt: skip
    if problem:
        state[FORM_PROBLEM_KEY] = problem
    else:
        state[FORM_OPEN_KEY] = False


def start_job(
    registry: JobRegistry,
    runs_dir: Path,
    checkpoints: list[Path],
    features: Path,
    modes: tuple[str, ...],
    device: str,
    batch_size: int,
    engine: str = LOCAL_ENGINE,
) -> str | None:
    """Submit the run; the reason it cannot start, or None."""
    if not checkpoints:
        return "Choose at least one checkpoint."
    if st.session_state.get("eval_tta") and not modes:
        return "TTA is on but no mode is chosen: pick at least one TTA mode or turn TTA off."
    request = EvaluationRequest(tuple(checkpoints), features, modes, int(batch_size), device, engine)
    job = registry.submit(request, runs_dir)
    st.session_state[SESSION_JOBS_KEY] = [*st.session_state.get(SESSION_JOBS_KEY, []), job.job_id]
    registry.forget_finished()
    return None


def render_job(snapshot: JobSnapshot, registry: JobRegistry) -> None:
    request = snapshot.request
    if snapshot.active:
        # A percentage: the pass counts member x mode x batch units, which no user counts in.
        counted = f"{snapshot.fraction:.0%} done" if snapshot.total else "loading…"
        st.progress(snapshot.fraction, text=f"Evaluating {request.describe()}: {counted}")
        st.button(
            "Cancel evaluation",
            key=f"cancel_job_{snapshot.job_id}",
            on_click=registry.cancel,
            args=(snapshot.job_id,),
            icon=":material/stop:",
        )
    elif snapshot.state is JobState.FINISHED and snapshot.run_path is not None:
        st.success(f"Evaluation saved: {code(snapshot.run_path.name)} (see Evaluation runs).")
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


def render_job_status() -> None:
    """The session's running or last job, first in the sidebar so every page shows it in view."""
    registry = job_registry()
    polling = any(s.active for s in session_jobs(registry))
    # A container, not `with st.sidebar:` directly: an empty fragment there blanks the sidebar
    # on the next run in Streamlit 1.67.
    with st.sidebar.container():
        st.fragment(job_status, run_every=POLL_EVERY if polling else None)(registry)


def render_evaluation_sidebar(context: DashboardContext) -> None:
    render_launch_form(context, job_registry())
