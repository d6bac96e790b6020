"""An audit from start to end: near-duplicates across and within splits, likely wrong labels, and
per-slice scores, with every input that cannot take part said once and the rest carried on."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY, near_duplicates, unit_vectors
from core.audit.label_issues import label_check_problem, label_issues
from core.audit.slices import slice_rows, worst_first
from core.audit.splits import AuditSplit, SplitReading, comparable_splits, stacked_means
from core.model.inference import ENSEMBLE, ENSEMBLE_TTA, predictor_probabilities

StageProgress = Callable[[str, float], None]
IN_SAMPLE_SPLITS: tuple[str, ...] = ("train",)
# Share of the progress reported for the near-duplicate search; predictions and scoring the rest.
NEAR_DUPLICATE_SHARE = 0.5


@dataclass(frozen=True)
class SplitProbabilities:
    """A split's probabilities [members, modes, videos, classes] and the TTA modes they cover."""

    probabilities: np.ndarray
    modes: tuple[str, ...]


ProbabilitySource = Callable[[AuditSplit], SplitProbabilities]


@dataclass
class AuditFindings:
    near_duplicates: list[dict[str, object]] = field(default_factory=list)
    label_issues: list[dict[str, object]] = field(default_factory=list)
    label_issues_in_sample: list[dict[str, object]] = field(default_factory=list)
    slices: list[dict[str, object]] = field(default_factory=list)
    label_predictor: dict[str, str] = field(default_factory=dict)
    compared_splits: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def add_problem(problems: list[str], file_name: str, problem: str) -> None:
    """One line per bad file: a second consequence of the same file joins its first line."""
    for number, earlier in enumerate(problems):
        if file_name in earlier:
            problems[number] = f"{earlier}; also, {problem.removeprefix(file_name + ': ')}"
            return
    problems.append(problem)


def _report(progress: StageProgress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def find_near_duplicates(
    splits: Sequence[AuditSplit], threshold: float, findings: AuditFindings, progress: StageProgress | None
) -> None:
    compared, problems = comparable_splits(splits)
    findings.problems += problems
    findings.compared_splits = [s.split for s in compared]
    if not compared:
        return
    vectors, refs = stacked_means(compared)
    unit = unit_vectors(vectors)
    del vectors

    def searched(done: int, total: int) -> None:
        _report(progress, "near-duplicates", NEAR_DUPLICATE_SHARE * done / total)

    findings.near_duplicates = near_duplicates(unit, refs, threshold, searched)


def _label_predictor(predictors: dict[str, np.ndarray]) -> str:
    return ENSEMBLE_TTA if ENSEMBLE_TTA in predictors else ENSEMBLE


def audit_split_predictions(
    split: AuditSplit, probabilities: SplitProbabilities, member_names: Sequence[str], findings: AuditFindings
) -> None:
    """Label issues (kept apart for in-sample splits) and slice scores of one split."""
    index = split.index
    predictors = predictor_probabilities(probabilities.probabilities, member_names, probabilities.modes)
    findings.slices += slice_rows(split.split, index.labels, index.video_names, index.class_names, predictors)
    problem = label_check_problem(split.path.name, index.labels, index.class_names)
    if problem is not None:
        add_problem(findings.problems, split.path.name, problem)
        return
    chosen = _label_predictor(predictors)
    findings.label_predictor[split.split] = chosen
    issues = label_issues(split.split, index.labels, predictors[chosen], index.video_names, index.class_names)
    if split.split in IN_SAMPLE_SPLITS:
        findings.label_issues_in_sample += issues
    else:
        findings.label_issues += issues


def run_audit(
    reading: SplitReading,
    member_names: Sequence[str],
    probabilities_of: ProbabilitySource,
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    progress: StageProgress | None = None,
) -> AuditFindings:
    """Everything the audit document lists. `probabilities_of` gives a split's predictions; a
    ValueError from it (a model that does not fit the file) becomes a problem for that split only."""
    findings = AuditFindings(problems=list(reading.problems))
    find_near_duplicates(reading.splits, threshold, findings, progress)
    for number, split in enumerate(reading.splits):
        share = NEAR_DUPLICATE_SHARE + (1 - NEAR_DUPLICATE_SHARE) * number / len(reading.splits)
        _report(progress, f"labels and slices of {split.split}", share)
        try:
            probabilities = probabilities_of(split)
        except ValueError as exc:
            add_problem(
                findings.problems, split.path.name, f"{split.path.name}: no label issues or slices ({exc})"
            )
            continue
        audit_split_predictions(split, probabilities, member_names, findings)
    findings.slices = worst_first(findings.slices)
    findings.label_issues.sort(key=lambda r: -float(r["score"]))
    findings.label_issues_in_sample.sort(key=lambda r: -float(r["score"]))
    _report(progress, "done", 1.0)
    return findings
