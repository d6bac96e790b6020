"""Re-encoded copies found from the decoded frames, where the features cannot find them.

A heavy re-encode (scaled, a low bitrate, a few frames cut) moves a clip's CNN features as far as
a different clip of the same scene type, but keeps the original's frames one for one, shifted by
the frames cut. Frames are compared as small grey thumbnails (centred and normalised, so
brightness and contrast changes do not count), in order, at the best shift: a look-alike resembles
a clip frame by frame only here and there. bench/near_duplicate_margin.py measures the margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

THUMBNAIL_SIZE = (32, 24)
COPY_SIMILARITY = 0.979
"""Mean cosine of aligned thumbnails above which a clip counts as a copy of another: midway between
the weakest of 32 heavy copies (0.983) and the closest look-alike across splits (0.975) on the
demo build; see docs/demo.md."""


def frame_thumbnails(path: Path, size: tuple[int, int] = THUMBNAIL_SIZE) -> np.ndarray:
    """[frames, width*height] float32: each decoded frame in grey at `size`, centred and scaled
    to length 1; ValueError naming the file when it has no decodable frame."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    ok, frame = capture.read()
    while ok:
        grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), size, interpolation=cv2.INTER_AREA)
        flat = grey.astype(np.float32).ravel()
        frames.append(flat - flat.mean())
        ok, frame = capture.read()
    capture.release()
    if not frames:
        raise ValueError(f"{path}: no frame could be decoded; re-download or re-encode the file")
    out = np.array(frames)
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    return out


def aligned_similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Mean cosine of the two clips' thumbnails frame by frame, at the best shift of up to a third
    of the longer clip, over an overlap of at least half the shorter clip."""
    cosines = first @ second.T
    longest, shortest = max(cosines.shape), min(cosines.shape)
    least_overlap = max(1, math.ceil(shortest / 2))
    best = -1.0
    for shift in range(-(longest // 3), longest // 3 + 1):
        steps = np.diagonal(cosines, offset=shift)
        if len(steps) >= least_overlap:
            best = max(best, float(steps.mean()))
    return best


def copy_matches(
    queries: Sequence[np.ndarray], references: Sequence[np.ndarray], threshold: float = COPY_SIMILARITY
) -> list[tuple[int, int, float]]:
    """(query, reference, similarity) for every pair at or above `threshold`, most similar first.
    Every pair is compared: meant for the few hundred clips of a split, not for a large corpus."""
    found = [
        (q, r, score)
        for q, query in enumerate(queries)
        for r, reference in enumerate(references)
        if (score := aligned_similarity(query, reference)) >= threshold
    ]
    return sorted(found, key=lambda match: -match[2])
