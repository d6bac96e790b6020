"""The demo against its own audit: the near-duplicate pairs that cross splits in a features
folder, found exactly as `python -m core audit` finds them (same vectors, same threshold), and
the re-encoded copies its decoded frames give away (core/audit/video_copies.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from core.audit.duplicates import NEAR_DUPLICATE_SIMILARITY, unit_vectors
from core.audit.run import AuditFindings, find_near_duplicates
from core.audit.splits import read_splits, stacked_means
from core.audit.video_copies import COPY_SIMILARITY, aligned_similarity, copy_matches, frame_thumbnails


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


def _clips(folder: Path) -> dict[str, Path]:
    return {str(path.relative_to(folder)): path for path in sorted(folder.rglob("*.mp4"))}


def frame_copy_pairs(videos_dir: Path, threshold: float = COPY_SIMILARITY) -> list[dict[str, object]]:
    """Every test or val clip under `videos_dir/{split}/` whose decoded frames match, in order, a
    clip of a split it must not share anything with (test: val and train; val: train)."""
    clips = {split: _clips(videos_dir / split) for split in ("test", "val", "train")}
    thumbnails = {split: [frame_thumbnails(p) for p in found.values()] for split, found in clips.items()}
    pairs = []
    for split, others in (("test", ("val", "train")), ("val", ("train",))):
        for other in others:
            for q, r, score in copy_matches(thumbnails[split], thumbnails[other], threshold):
                video, match = list(clips[split])[q], list(clips[other])[r]
                pairs.append(
                    {
                        "video": video,
                        "split": split,
                        "match": match,
                        "match_split": other,
                        "similarity": round(score, 6),
                    }
                )
    return sorted(pairs, key=lambda pair: -float(pair["similarity"]))


def frame_similarities(copies: Mapping[Path, Path]) -> dict[Path, float]:
    """For each copy (path -> path of its original), the aligned-thumbnail similarity of the two."""
    return {
        copy: aligned_similarity(frame_thumbnails(copy), frame_thumbnails(original))
        for copy, original in copies.items()
    }
