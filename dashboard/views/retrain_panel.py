"""The Collapse inspector's "Retrain this member": the form with its measured cost, the running
job's live curves beside the original member's, and for a finished candidate its comparison and
promotion (`promotion_panel`). The work is in `core.training` (retrain, jobs, estimate, promote);
this module draws and polls."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
import torch

from core.evaluation.collapse import member_number
from core.model.checkpoints import find_ensemble_checkpoints
from core.paths import checkpoint_file_name
from core.training.estimate import job_time_left, measured_epoch_seconds, typical_epochs
from core.training.eta import describe_remaining
from core.training.history import class_f1_over_epochs, load_history_source
from core.training.jobs import RetrainRequest, RetrainSnapshot, RetrainState, discard_job
from core.training.retrain import MemberRecipe
from dashboard.cache import epoch_estimate, fingerprint, retrain_recipe, retrain_registry
from dashboard.context import DashboardContext
from dashboard.plain_text import plain
from dashboard.theme import short_name
from dashboard.views.promotion_panel import (
    render_promoted_member,
    render_promotion,
    render_validation_comparison,
)

POLL_EVERY = "2s"
PROBLEM_KEY = "retrain_problem"
_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _devices() -> list[str]:
    return ["cuda", "cpu"] if torch.cuda.is_available() else ["cpu"]


def member_jobs(context: DashboardContext, number: int) -> list[RetrainSnapshot]:
    models = context.paths.models_dir
    return [
        s
        for s in retrain_registry().snapshots(context.paths.retrain_dir)
        if s.request.member == number and s.request.models_dir == models
    ]


def render_cost(context: DashboardContext, number: int, device: str, max_epochs: int) -> None:
    try:
        estimate = epoch_estimate(context.paths.models_dir, number, context.paths.features_dir, device)
    except (ValueError, OSError) as exc:
        st.warning(f"Cannot time an epoch: {plain(exc)}")
        return
    where = "GPU" if estimate.device == "cuda" else "CPU"
    earlier = measured_epoch_seconds(member_jobs(context, number), device)
    if earlier is not None:
        per_epoch, epochs = earlier
        how = f"the median of the {epochs} epochs the last retraining of this member ran here"
    else:
        per_epoch = estimate.seconds_per_epoch
        how = (
            f"timed on {estimate.measured_batches} training batches of this member's size on these "
            "features, in a process of its own as the job runs: "
            f"{estimate.train_batches} training and {estimate.val_batches} validation batches per epoch"
        )
    typical = members_typical_epochs(context)
    likely = (
        f"; the members trained {typical:.0f} epochs on average, about {_duration(per_epoch * typical)}"
        if typical
        else ""
    )
    st.markdown(
        f"**Cost:** about **{_duration(per_epoch)} per epoch** on this {where} ({how}), so at most "
        f"{_duration(per_epoch * max_epochs)} for {max_epochs} epochs{likely}."
    )
    if estimate.gpu_recommended:
        st.warning(
            "A GPU is recommended: a full-size member on CPU takes hours. Run `python -m core retrain` "
            "on a machine with CUDA, then copy the candidate's folder here.",
            icon=":material/memory:",
        )


def render_form(context: DashboardContext, number: int, recipe: MemberRecipe) -> None:
    training = recipe.training
    seeds = ", ".join(map(str, recipe.used_seeds))
    with st.form(f"retrain_form_{number}"):
        left, middle, right = st.columns(3)
        seed = left.number_input("Seed", 0, 2**31 - 1, recipe.default_seed, help=f"Seeds in use: {seeds}")
        epochs = middle.number_input("Epochs (at most)", 1, 1000, training.max_epochs)
        patience = right.number_input(
            "Patience",
            1,
            1000,
            training.patience,
            help="Longer patience lets a slow class catch up before early stopping.",
        )
        left, middle, right = st.columns(3)
        balanced = left.toggle("Class-balanced batches", value=training.class_shares is None)
        alpha_high = middle.number_input(
            "Focal alpha, upper clip",
            0.5,
            100.0,
            float(training.alpha_clip[1]),
            step=0.5,
            help="Raising it lets the loss weigh rare classes more.",
        )
        device = right.radio("Device", _devices(), horizontal=True, format_func=str.upper)
        render_cost(context, number, _devices()[0], training.max_epochs)
        st.caption(
            f"Defaults: the recipe from {plain(recipe.training_source)}; seed: the first no member used."
        )
        submitted = st.form_submit_button("Start retraining", icon=":material/model_training:")
    if submitted:
        options = {
            "max_epochs": int(epochs),
            "patience": int(patience),
            "balanced_sampling": bool(balanced),
            "class_shares": None,
            "alpha_clip": [float(training.alpha_clip[0]), float(alpha_high)],
        }
        request = RetrainRequest(
            context.paths.models_dir, context.paths.features_dir, number, int(seed), options, str(device)
        )
        retrain_registry().submit(request, context.paths.retrain_dir)
        st.rerun()


def curves_figure(
    original: pd.DataFrame, job: RetrainSnapshot, class_index: int, class_name: str
) -> go.Figure:
    figure = go.Figure()
    if not original.empty:
        figure.add_scatter(
            x=original["epoch"],
            y=original["f1"],
            mode="lines",
            name="original member",
            line={"color": "#9E9E9E", "width": 2, "dash": "dot"},
        )
    epochs = [row["epoch"] for row in job.rows]
    figure.add_scatter(
        x=epochs,
        y=[row[f"class_{class_index}_f1"] for row in job.rows],
        mode="lines+markers",
        name=f"candidate (seed {job.seed})",
        line={"color": "#1565C0", "width": 3},
    )
    figure.update_layout(
        title=f"Validation F1 for {class_name} per epoch",
        xaxis={"title": "epoch"},
        yaxis={"title": "F1 (%)", "range": [0, 100]},
        legend={"orientation": "h", "y": -0.25},
        margin=_MARGIN,
        height=360,
    )
    return figure


def original_curve(context: DashboardContext, number: int, class_index: int) -> pd.DataFrame:
    paths = context.paths
    source = load_history_source(paths.training_metrics_csv, find_ensemble_checkpoints(paths.models_dir))
    curves = class_f1_over_epochs(source.table, class_index)
    return curves[curves["model"] == number] if not curves.empty else curves


def render_curves(context: DashboardContext, job: RetrainSnapshot, number: int, class_index: int) -> None:
    class_name = context.split.class_names[class_index]  # type: ignore[union-attr]
    figure = curves_figure(original_curve(context, number, class_index), job, class_index, class_name)
    st.plotly_chart(figure, key=f"retrain_curves_{job.job_id}")


def members_typical_epochs(context: DashboardContext) -> float | None:
    paths = context.paths
    source = load_history_source(paths.training_metrics_csv, find_ensemble_checkpoints(paths.models_dir))
    return typical_epochs(source.table)


def live_job(context: DashboardContext, job_id: str, number: int, class_index: int) -> None:
    registry = retrain_registry()
    running = registry.get(job_id)
    job = running.snapshot() if running is not None else None
    if job is None or not job.active:
        st.rerun(scope="app")
        return
    typical = members_typical_epochs(context)
    left = describe_remaining(job_time_left(job, typical))
    expected = f"; the members trained {typical:.0f} epochs on average" if typical else ""
    st.progress(
        job.fraction,
        text=f"Training the candidate (seed {job.seed}): epoch {len(job.rows)} of "
        f"{job.max_epochs} at most{expected} · {left}",
    )
    render_curves(context, job, number, class_index)
    st.button(
        "Cancel retraining",
        key=f"retrain_cancel_{job_id}",
        icon=":material/stop:",
        on_click=registry.cancel,
        args=(job_id,),
    )


def render_ended(context: DashboardContext, job: RetrainSnapshot, number: int, class_index: int) -> None:
    if job.has_candidate:
        render_candidate(context, job, number, class_index)
        return
    words = {
        RetrainState.STOPPED: "stopped (its training process ended before it finished)",
        RetrainState.CANCELLED: "was cancelled",
        RetrainState.FAILED: "failed",
    }
    message = f"The last retraining of {short_name(checkpoint_file_name(number)[:-3])} {words[job.state]}"
    detail = f": {plain(job.error)}" if job.error and job.state is RetrainState.FAILED else ""
    st.warning(f"{message}{detail}. Its last finished epoch is kept; no candidate was written.")
    if job.rows:
        render_curves(context, job, number, class_index)
    left, right = st.columns(2)
    resume = left.button("Resume it", key=f"retrain_resume_{job.job_id}", icon=":material/play_arrow:")
    discard = right.button("Discard it", key=f"retrain_discard_{job.job_id}", icon=":material/delete:")
    # The folder may have changed since it was listed (a shared project): its refusal is one line.
    try:
        if resume:
            retrain_registry().resume(job.folder)
        if discard:
            discard_job(job)
    except (ValueError, OSError) as exc:
        st.error(plain(exc))
        return
    if resume or discard:
        st.rerun()


def render_candidate(context: DashboardContext, job: RetrainSnapshot, number: int, class_index: int) -> None:
    checkpoint = job.candidate_dir / checkpoint_file_name(number)
    best = max(job.rows, key=lambda row: row["val_acc"]) if job.rows else {}
    st.success(
        f"Candidate ready (seed {job.seed}): best validation accuracy {best.get('val_acc', 0):.1f}%, "
        f"{context.split.class_names[class_index]} F1 {best.get(f'class_{class_index}_f1', 0):.1f}% "  # type: ignore[union-attr]
        f"at epoch {best.get('epoch')}. Files: `{job.candidate_dir.relative_to(context.paths.root)}`.",
        icon=":material/check_circle:",
    )
    render_curves(context, job, number, class_index)
    member_path = context.paths.models_dir / checkpoint.name
    if member_path.is_file() and fingerprint(member_path) == fingerprint(checkpoint):
        backups = sorted(context.paths.models_dir.glob(f"{checkpoint.stem}.backup-*.pt"))
        kept = f"; the original before it is kept as `{backups[-1].name}`" if backups else ""
        st.info(
            f"This candidate is {short_name(checkpoint.stem)} now (promoted){kept}.",
            icon=":material/upgrade:",
        )
        return
    review = render_validation_comparison(context, checkpoint, number, class_index)
    render_promotion(context, job, checkpoint, number, review)


def render_retrain_panel(context: DashboardContext, member: str, class_index: int) -> None:
    st.subheader("Retrain this member")
    number = member_number(member, context.member_names.index(member) + 1)
    render_promoted_member(context, number)
    try:
        recipe = retrain_recipe(context.paths.models_dir, number)
    except (ValueError, OSError) as exc:
        st.info(f"This member cannot be retrained here: {plain(exc)}")
        return
    jobs = member_jobs(context, number)
    latest = jobs[0] if jobs else None
    if latest is not None and latest.active:
        st.fragment(live_job, run_every=POLL_EVERY)(context, latest.job_id, number, class_index)
        return
    if latest is not None:
        render_ended(context, latest, number, class_index)
    with st.expander("Train a new candidate", expanded=latest is None, icon=":material/model_training:"):
        render_form(context, number, recipe)
