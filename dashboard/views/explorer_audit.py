"""The Data explorer's audit: leaks between splits, likely wrong labels and the slice table, read
from the latest audit document in runs/ or computed here with a progress bar (and saved there)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from core.audit.document import (
    AuditFileError,
    AuditSources,
    audit_document,
    default_audit_path,
    latest_audit,
    planned_audit_output,
    read_audit,
    write_audit,
)
from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY
from core.audit.run import SplitProbabilities, run_audit
from core.audit.splits import AuditSplit
from core.model.inference import ENSEMBLE, ENSEMBLE_TTA
from core.outputs import check_outputs
from dashboard.plain_text import plain
from dashboard.theme import PERCENT_FORMAT, short_name
from dashboard.views.explorer_videos import render_video_list

if TYPE_CHECKING:
    from dashboard.views.explorer_data import ExplorerData

COMPUTED_KEY = "explorer_audit"
THRESHOLD_KEY = "explorer_threshold"
SCORE = {
    "score": st.column_config.NumberColumn(
        format="%.3f", help="1 - the probability the ensemble gave the label"
    )
}
SIMILARITY = {"similarity": st.column_config.NumberColumn(format="%.4f")}


def compute_audit(data: ExplorerData, threshold: float) -> dict[str, Any]:
    """The audit of the page's splits from the predictions it already holds, with a progress bar."""
    bar = st.progress(0.0, text="Auditing…")

    def probabilities_of(split: AuditSplit) -> SplitProbabilities:
        known = data.predictions.get(split.split)
        if known is None:
            raise ValueError("the members cannot be evaluated on it")
        return SplitProbabilities(known.probabilities, tuple(known.modes))

    def progress(stage: str, fraction: float) -> None:
        bar.progress(min(1.0, fraction), text=f"Auditing: {stage}")

    members = data.context.members
    findings = run_audit(data.reading, members.names, probabilities_of, threshold, progress)
    bar.empty()
    files = {split.split: split.path for split in data.reading.splits}
    return audit_document(findings, AuditSources(files, members.paths, members.names, threshold))


def save_audit(data: ExplorerData, document: dict[str, Any]) -> str:
    path = default_audit_path(data.context.paths.runs_dir)
    try:
        check_outputs([planned_audit_output(path)])
        write_audit(document, path)
    except OSError as exc:
        return f"computed now; not saved ({exc})"
    except ValueError as exc:
        return f"computed now; not saved ({exc})"
    return f"computed now and saved as runs/{path.name}"


def audit_to_show(data: ExplorerData) -> tuple[dict[str, Any] | None, str]:
    computed = st.session_state.get(COMPUTED_KEY)
    if computed is not None:
        return computed
    path = latest_audit(data.context.paths.runs_dir)
    if path is None:
        return None, "No audit in runs/ yet."
    try:
        return read_audit(path), f"From runs/{path.name}, written {read_audit(path).get('created_utc', '?')}."
    except AuditFileError as exc:
        return None, f"The latest audit file cannot be read: {exc}"


def render_run_button(data: ExplorerData) -> None:
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    threshold = left.number_input(
        "Near-duplicate similarity",
        0.5,
        1.0,
        NEAR_DUPLICATE_SIMILARITY,
        0.005,
        format="%.3f",
        key=THRESHOLD_KEY,
        help="Cosine similarity of centred, time-averaged features at which two "
        "videos count as near-identical (docs/data_explorer.md).",
    )
    if not data.context.members.members:
        right.caption("The audit needs the ensemble's predictions; no checkpoint loaded.")
        return
    if right.button("Run the audit now", icon=":material/fact_check:", key="explorer_run_audit"):
        document = compute_audit(data, threshold)
        st.session_state[COMPUTED_KEY] = (document, save_audit(data, document).capitalize() + ".")


def render_leaks(data: ExplorerData, document: dict[str, Any]) -> None:
    pairs = pd.DataFrame(
        document["near_duplicates"], columns=["similarity", "split", "video", "match_split", "match"]
    )
    across = pairs[pairs["split"] != pairs["match_split"]]
    within = pairs[pairs["split"] == pairs["match_split"]]
    st.markdown(f"**Leaks: {len(across)} pair(s) of near-identical videos in different splits**")
    threshold = document.get("near_duplicate_threshold", NEAR_DUPLICATE_SIMILARITY)
    st.caption(
        f"Cosine similarity ≥ {threshold} of the frame features averaged over time (centred); "
        "a test video with a near-copy in train is scored on something the members saw."
    )
    if len(across):
        render_video_list(across, data.files, "explorer_leaks", SIMILARITY)
    with st.expander(f"Near-duplicates within one split: {len(within)} pair(s)"):
        if len(within):
            render_video_list(within, data.files, "explorer_within", SIMILARITY)


def _predictor_text(document: dict[str, Any]) -> str:
    used = set(document.get("label_issue_predictor", {}).values())
    return " / ".join(short_name(name) for name in sorted(used)) or "the ensemble"


def render_label_issues(data: ExplorerData, document: dict[str, Any]) -> None:
    columns = ["score", "split", "video", "label", "suggested"]
    issues = pd.DataFrame(document["label_issues"], columns=columns)
    st.markdown(f"**Likely wrong labels: {len(issues)} video(s) in the held-out splits**")
    st.caption(
        f"Confident learning (cleanlab) on {plain(_predictor_text(document))}'s probabilities, test and "
        "validation only; most likely wrong first. Check the video before changing its label."
    )
    if len(issues):
        render_video_list(issues, data.files, "explorer_labels", SCORE)
    in_sample = pd.DataFrame(document.get("label_issues_in_sample", []), columns=columns)
    with st.expander(f"Training split (in-sample, weak evidence): {len(in_sample)} video(s)"):
        st.caption(
            "The members were fitted to these very labels, so the training split's probabilities "
            "overrate them; a video listed here is worth a look, not a verdict."
        )
        if len(in_sample):
            render_video_list(in_sample, data.files, "explorer_labels_train", SCORE)


def slice_table(document: dict[str, Any], predictor: str) -> pd.DataFrame:
    rows = [row for row in document["slices"] if row["predictor"] == predictor]
    table = pd.DataFrame(
        rows, columns=["split", "class", "subcategory", "videos", "accuracy", "f1_per_class"]
    )
    own_f1 = [(row.get("f1_per_class") or {}).get(row["class"]) for row in rows]
    return table.drop(columns="f1_per_class").assign(**{"F1 (its class)": own_f1})


def render_slices(data: ExplorerData, document: dict[str, Any]) -> None:
    predictors = list(dict.fromkeys(row["predictor"] for row in document["slices"]))
    st.markdown("**Slices: each class's subcategories, worst first**")
    if not predictors:
        st.caption("No slices: no split had predictions.")
        return
    default = ENSEMBLE_TTA if ENSEMBLE_TTA in predictors else ENSEMBLE
    predictor = st.selectbox(
        "Predictor",
        predictors,
        index=predictors.index(default) if default in predictors else 0,
        format_func=short_name,
        key="explorer_slice_predictor",
    )
    table = slice_table(document, predictor)
    percent = st.column_config.NumberColumn(format=PERCENT_FORMAT)
    event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="explorer_slices",
        column_config={"accuracy": percent, "F1 (its class)": percent},
    )
    st.caption("Click a row to list the slice's videos.")
    if event.selection.rows:
        chosen = table.iloc[event.selection.rows[0]]
        videos = data.videos
        mask = (videos["split"] == chosen["split"]) & (videos["true_class"] == chosen["class"])
        mask &= videos["subcategory"] == chosen["subcategory"]
        st.markdown(
            f"**{plain(chosen['class'])} / {plain(chosen['subcategory'] or '(no subcategory)')} "
            f"in {plain(chosen['split'])}: {int(mask.sum())} video(s)**"
        )
        listed = videos[mask][["split", "video", "true_class", "predicted_class", "confidence"]]
        render_video_list(listed, data.files, "explorer_slice_videos", {"confidence": percent})


def _file_of(problem: str) -> str:
    return Path(problem.split(": ", 1)[0]).name


def unsaid_problems(audit_problems: list[str], page_problems: list[str]) -> list[str]:
    """The audit's problems about files the page has not already warned about: one message a file."""
    said = {_file_of(problem) for problem in page_problems}
    return [problem for problem in audit_problems if _file_of(problem) not in said]


def render_audit(data: ExplorerData) -> None:
    st.subheader("Audit: leaks, likely wrong labels, weak slices")
    render_run_button(data)
    document, origin = audit_to_show(data)
    st.caption(plain(origin))
    if document is None:
        st.info("Run the audit here, or from a terminal: `python -m core audit`.")
        return
    unsaid = unsaid_problems(document.get("problems", []), data.problems)
    if unsaid:
        with st.expander(f"What the audit could not check ({len(unsaid)})"):
            for problem in unsaid:
                st.markdown(f"- {plain(problem)}")
    render_leaks(data, document)
    render_label_issues(data, document)
    render_slices(data, document)
