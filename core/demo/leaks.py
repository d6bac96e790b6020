"""The demo against its own audit: the near-duplicate pairs that cross splits in a features
folder, found exactly as `python -m core audit` finds them (same vectors, same threshold)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY, unit_vectors
from core.audit.run import AuditFindings, find_near_duplicates
from core.audit.splits import read_splits, stacked_means


def cross_split_pairs(
    feature_files: Sequence[Path], threshold: float = NEAR_DUPLICATE_SIMILARITY
) -> list[dict[str, object]]:
    """Every near-duplicate pair whose two videos sit in different splits (test-train, test-val,
    val-train), most similar first; raises ValueError when a file cannot take part."""
    reading = read_splits(feature_files)
    findings = AuditFindings()
    find_near_duplicates(reading.splits, threshold, findings, None)
    problems = reading.problems + findings.problems
    if problems:
        raise ValueError("; ".join(problems))
    return [pair for pair in findings.near_duplicates if not pair["within_split"]]


def copy_similarities(feature_files: Sequence[Path], originals: Mapping[str, str]) -> dict[str, float]:
    """For each copy (video name in the test split -> name of its original in train), the cosine
    the audit computes between the two (centred clip-mean features, all files together): the
    audit flags the copy when it reaches the threshold."""
    reading = read_splits(feature_files)
    if reading.problems:
        raise ValueError("; ".join(reading.problems))
    vectors, refs = stacked_means(reading.splits)
    unit = unit_vectors(vectors)
    row = {(ref.split, ref.video): number for number, ref in enumerate(refs)}
    return {
        copy: float(unit[row["test", copy]] @ unit[row["train", original]])
        for copy, original in originals.items()
    }
