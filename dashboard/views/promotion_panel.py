"""The Collapse inspector's promotion of a finished candidate, and its undoing.

Before the Promote button, the ensemble with the candidate is compared with the ensemble as it is
on the validation split (choosing on the test split would leak it into the choice): accuracy, the
inspected class's F1, the videos fixed and broken, McNemar's p. A candidate that makes either
number fall needs a second tick box that says what falls. A promoted member is named as such, with
a button that restores the previous member from the backups. The work is in `core.training`
(promotion_review, promote); this module draws."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from core.evaluation.jobs import EvaluationRequest
from core.evaluation.run_compare import compare_runs, latest_swap_pair
from core.evaluation.runs import EvaluationRun, list_runs
from core.model.checkpoints import find_ensemble_checkpoints
from core.model.promotions import current_promotions
from core.paths import checkpoint_file_name
from core.training.jobs import RetrainSnapshot
from core.training.promote import promote_candidate, restore_member
from core.training.promotion_review import PromotionReview, review_runs
from dashboard.cache import fingerprint, job_registry
from dashboard.context import DashboardContext
from dashboard.eval_launcher import SESSION_JOBS_KEY
from dashboard.plain_text import code, plain
from dashboard.theme import PERCENT_FORMAT, short_name

DONE_KEY = "promotion_done"


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _start_comparison(context: DashboardContext, checkpoint: Path, number: int, missing: list[bool]) -> None:
    ensemble = find_ensemble_checkpoints(context.paths.models_dir)
    validation = context.paths.features_file("val")
    member = checkpoint_file_name(number)[:-3]
    swapped = tuple(checkpoint if p.stem == member else p for p in ensemble)
    swap = ((member, str(checkpoint.resolve())),)
    requests = [
        EvaluationRequest(tuple(ensemble), validation, device=_device()),
        EvaluationRequest(swapped, validation, device=_device(), swaps=swap),
    ]
    for request, needed in zip(requests, missing, strict=True):
        if needed:
            job = job_registry().submit(request, context.paths.runs_dir)
            st.session_state[SESSION_JOBS_KEY] = [*st.session_state.get(SESSION_JOBS_KEY, []), job.job_id]


def render_validation_comparison(
    context: DashboardContext, checkpoint: Path, number: int, class_index: int
) -> PromotionReview | None:
    """The comparison on the validation split, or the button that starts it; its review once both
    runs exist."""
    st.markdown("**The ensemble with the original member vs with the candidate, on the validation split**")
    validation = context.paths.features_file("val")
    if not validation.is_file():
        st.info(f"No validation features file ({code(validation.name)}), so the candidate cannot be checked.")
        return None
    member = checkpoint_file_name(number)[:-3]
    runs = list_runs(context.paths.runs_dir).runs
    ensemble = find_ensemble_checkpoints(context.paths.models_dir)
    original, swapped = latest_swap_pair(runs, validation, ensemble, member, checkpoint)
    if original is None or swapped is None:
        if any(s.request.features == validation for s in job_registry().active()):
            st.caption("Evaluating both ensembles in the background (progress in the sidebar)…")
            return None
        st.button(
            "Compare the ensemble with the original member vs with the candidate",
            key=f"retrain_compare_{number}",
            icon=":material/compare_arrows:",
            type="primary",
            on_click=_start_comparison,
            args=(context, checkpoint, number, [original is None, swapped is None]),
        )
        st.caption(
            f"Two evaluation runs on {plain(validation.name)}, without TTA; both are kept on the Evaluation "
            "runs page. The choice is made on validation: the test split stays unseen by it."
        )
        return None
    review = review_runs(original[1], swapped[1], class_index)
    render_run_comparison(original, swapped, member, review)
    if review.worse:
        st.warning(
            f"On the validation split the candidate makes the ensemble worse: {'; '.join(review.worse)}. "
            "Promoting it needs a second confirmation.",
            icon=":material/trending_down:",
        )
    return review


def render_review(review: PromotionReview) -> None:
    columns = st.columns(4)
    accuracy_change = review.accuracy_after - review.accuracy_before
    columns[0].metric("Ensemble accuracy", f"{review.accuracy_after:.1f}%", f"{accuracy_change:+.1f} pp")
    class_change = review.class_f1_after - review.class_f1_before
    columns[1].metric(f"{review.class_name} F1", f"{review.class_f1_after:.1f}%", f"{class_change:+.1f} pp")
    columns[2].metric("Videos fixed / broken", f"{review.fixed} / {review.broken}")
    columns[3].metric("McNemar exact p", f"{review.p_value:.3g}")


def render_run_comparison(
    original: tuple[Path, EvaluationRun],
    swapped: tuple[Path, EvaluationRun],
    member: str,
    review: PromotionReview,
) -> None:
    render_review(review)
    comparison = compare_runs(original[1], swapped[1], "ensemble")
    alone = compare_runs(original[1], swapped[1], member).class_f1
    shown = pd.DataFrame(
        {
            "class": comparison.class_f1["class"],
            "ensemble, original": comparison.class_f1["F1 A"],
            "ensemble, candidate": comparison.class_f1["F1 B"],
            "ensemble change": comparison.class_f1["F1 B−A"],
            f"{short_name(member)} alone": alone["F1 A"],
            "candidate alone": alone["F1 B"],
        }
    )
    percent = st.column_config.NumberColumn(format=PERCENT_FORMAT)
    config = {column: percent for column in shown.columns[1:]}
    config["ensemble change"] = st.column_config.NumberColumn("ensemble change (pp)", format="%+.1f")
    st.markdown("**Per-class F1**: each ensemble, and the member and the candidate on their own")
    st.dataframe(shown, hide_index=True, key=f"retrain_class_f1_{member}", column_config=config)
    st.markdown(f"**Videos the ensemble flipped** ({len(comparison.flipped)})")
    if comparison.flipped.empty:
        st.caption("No video changed between right and wrong.")
    else:
        st.dataframe(comparison.flipped, hide_index=True, key=f"retrain_flipped_{member}")
    st.caption(
        f"A = `{original[0].name}`, B = `{swapped[0].name}` ({short_name(member)} swapped for the "
        f"candidate), on {review.videos} validation videos; open both on Evaluation runs for every predictor."
    )


def _second_confirmation(review: PromotionReview | None, validation_exists: bool, key: str) -> bool:
    """True when no second confirmation is needed, or it is given."""
    if review is None and validation_exists:
        st.info("Compare the candidate on the validation split first; promotion follows the comparison.")
        return False
    if review is None:
        return st.checkbox("I accept promoting it without any check on a validation split", key=key)
    if not review.worse:
        return True
    return st.checkbox(f"I accept that on the validation split {'; '.join(review.worse)}", key=key)


def render_promotion(
    context: DashboardContext,
    job: RetrainSnapshot,
    checkpoint: Path,
    number: int,
    review: PromotionReview | None,
) -> None:
    models = context.paths.models_dir
    with st.expander(f"Promote the candidate into {models.name}/", icon=":material/upgrade:"):
        st.write(
            f"Replaces `{checkpoint.name}` in `{models.name}/` with the candidate, and its rows of the "
            "training history and run summary. The original files are kept beside them as "
            f"`{checkpoint.stem}.backup-<time>.pt`, `training_metrics.backup-<time>.csv` and "
            "`configuration_analysis.backup-<time>.json`, and *Restore the previous member* puts them back."
        )
        accepted = _second_confirmation(review, context.paths.features_file("val").is_file(),
                                         f"retrain_promote_worse_{job.job_id}")  # fmt: skip
        sure = st.checkbox(
            f"Yes, replace {short_name(checkpoint.stem)} with this candidate",
            key=f"retrain_promote_sure_{job.job_id}",
        )
        if st.button(
            "Promote", key=f"retrain_promote_{job.job_id}", disabled=not (sure and accepted), type="primary"
        ):
            try:
                promotion = promote_candidate(job.candidate_dir, models)
            except (ValueError, OSError) as exc:
                st.error(plain(exc))
                return
            kept = ", ".join(p.name for p in promotion.backups)
            st.session_state[DONE_KEY] = ("done", f"Promoted; the originals are kept as {kept}")
            st.rerun(scope="app")


def _restore(models: Path, number: int) -> None:
    try:
        restoration = restore_member(models, number)
    except (ValueError, OSError) as exc:
        st.session_state[DONE_KEY] = ("error", str(exc))
        return
    names = ", ".join(
        f"{p.name} from {restoration.record.backups[p.name]['name']}" for p in restoration.restored
    )
    st.session_state[DONE_KEY] = ("done", f"Restored the previous member: {names}")


def render_done() -> None:
    kind, text = st.session_state.pop(DONE_KEY, (None, ""))
    if kind == "error":
        st.error(plain(text), icon=":material/block:")
    elif kind == "done":
        st.success(plain(text), icon=":material/upgrade:")


def render_promoted_member(context: DashboardContext, number: int) -> bool:
    """Whether the member is a promoted candidate; if so, says so and offers the restore."""
    render_done()
    record = current_promotions(context.paths.models_dir, fingerprint).get(number)
    if record is None:
        return False
    name = short_name(checkpoint_file_name(number)[:-3])
    st.info(
        f"{name} is a {plain(record.describe())}; the member before it is kept as "
        f"{code(record.checkpoint_backup)}.",
        icon=":material/upgrade:",
    )
    st.button(
        "Restore the previous member",
        key=f"promotion_restore_{number}",
        icon=":material/undo:",
        on_click=_restore,
        args=(context.paths.models_dir, number),
        help="Puts the backups of this promotion back; refused if any file changed since the promotion.",
    )
    return True
