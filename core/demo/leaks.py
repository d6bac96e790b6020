"""The demo against its own audit: the near-duplicate pairs that cross splits in a features
folder, found exactly as `python -m core audit` finds them (same vectors, same threshold)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY
from core.audit.run import AuditFindings, find_near_duplicates
from core.audit.splits import read_splits


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


def unflagged_copies(
    pairs: Sequence[Mapping[str, object]], originals: Mapping[str, str], copy_split: str = "test"
) -> list[str]:
    """The copies (video name in `copy_split` -> name of its original in train) that no pair links
    to their original: an audit that is sensitive enough returns an empty list."""
    found = {
        (pair["video"], pair["match"])
        for pair in pairs
        if pair["split"] == copy_split and pair["match_split"] == "train"
    }
    return [copy for copy, original in originals.items() if (copy, original) not in found]
