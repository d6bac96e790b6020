"""What the Classify page shows about one clip: every predictor's probabilities, the verdict,
and where the members' pooling attention fell, computed from stored per-mode probabilities.

The predictors come from `core.model.inference.predictor_probabilities(..., per_mode=True)`: members
unaugmented, and with TTA the ensemble of the chosen members on each augmented view, whose mean is
the TTA verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from core.model.inference import ENSEMBLE, ENSEMBLE_TTA

MAX_STRIP_FRAMES = 16


@dataclass(frozen=True)
class Verdict:
    predictor: str
    class_name: str
    confidence: float
    """Percent."""
    correct: bool | None
    """None when the true class is unknown (an upload)."""


@dataclass(frozen=True)
class FrameAttention:
    per_frame: np.ndarray
    """[members, frames]: percent of each member's pooling weight on step t = frame t."""
    tail_share: np.ndarray
    """[members]: percent on the steps past the frame count (tail of the longer scale)."""

    @property
    def mean(self) -> np.ndarray:
        return self.per_frame.mean(axis=0)


def clip_table(
    predictors: Mapping[str, np.ndarray], class_names: Sequence[str], true_label: int | None
) -> pd.DataFrame:
    """One row per predictor: verdict, confidence, right or wrong, and every class's probability
    (percent)."""
    rows = []
    for name, probabilities in predictors.items():
        predicted = int(np.argmax(probabilities))
        row = {
            "predictor": name,
            "predicted": class_names[predicted],
            "confidence": 100.0 * float(probabilities[predicted]),
            "correct": None if true_label is None else predicted == true_label,
        }
        row.update({c: 100.0 * float(p) for c, p in zip(class_names, probabilities, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def clip_verdict(
    predictors: Mapping[str, np.ndarray], class_names: Sequence[str], true_label: int | None
) -> Verdict:
    """The ensemble's verdict, with TTA when it was computed."""
    name = ENSEMBLE_TTA if ENSEMBLE_TTA in predictors else ENSEMBLE
    probabilities = predictors[name]
    predicted = int(np.argmax(probabilities))
    correct = None if true_label is None else predicted == true_label
    return Verdict(name, class_names[predicted], 100.0 * float(probabilities[predicted]), correct)


def attention_by_frame(attention: np.ndarray, num_frames: int) -> FrameAttention:
    """Map pooling weights [members, T] onto the decoded frames.

    Step t < num_frames averages frame t (scale 1.0) with the frames the shorter and longer
    scales pick at that position, so it is attributed to frame t; the steps past num_frames
    exist only for the longer scale and are reported as one share.
    """
    n = min(num_frames, attention.shape[1])
    percent = 100.0 * np.asarray(attention, dtype=np.float64)
    return FrameAttention(per_frame=percent[:, :n], tail_share=percent[:, n:].sum(axis=1))


def top_frames(frame_attention: FrameAttention, count: int = 3) -> list[tuple[int, float]]:
    """(frame, mean attention percent) of the frames the members relied on most."""
    mean = frame_attention.mean
    order = np.argsort(-mean, kind="stable")[:count]
    return [(int(i), float(mean[i])) for i in order]


def strip_positions(num_frames: int, max_count: int = MAX_STRIP_FRAMES) -> np.ndarray:
    """Which of the decoded frames the strip shows: all of them, or `max_count` evenly spread."""
    return np.unique(np.linspace(0, num_frames - 1, min(num_frames, max_count)).round().astype(np.int64))


def thumbnails(frames: np.ndarray, positions: np.ndarray, size: int = 96) -> list[np.ndarray]:
    """Small RGB copies of the chosen frames for the strip."""
    return [cv2.resize(frames[i], (size, size), interpolation=cv2.INTER_AREA) for i in positions]


@dataclass(frozen=True)
class MemberVotes:
    counts: dict[str, int]
    """Class -> how many chosen members predict it, most votes first (classes without votes left out)."""

    @property
    def tied(self) -> bool:
        """The top classes have equal votes (a 2–2 split of four members): the ensemble's verdict
        rests on probability mass, not on a majority."""
        top = list(self.counts.values())[:2]
        return len(top) == 2 and top[0] == top[1]

    def describe(self) -> str:
        return " – ".join(f"{votes} {name}" for name, votes in self.counts.items())


def member_votes(
    predictors: Mapping[str, np.ndarray], members: Sequence[str], class_names: Sequence[str]
) -> MemberVotes:
    """Each chosen member's top class, counted."""
    counts: dict[str, int] = {}
    for member in members:
        name = class_names[int(np.argmax(predictors[member]))]
        counts[name] = counts.get(name, 0) + 1
    return MemberVotes(dict(sorted(counts.items(), key=lambda item: -item[1])))


def clip_result(file_name: str, verdict: Verdict, table: pd.DataFrame, class_names: Sequence[str]) -> dict:
    """One clip's result as `python -m core classify --json` shapes it: the verdict, then every
    predictor's class probabilities (fractions, as the command writes them)."""
    return {
        "path": file_name,
        "predicted_class": verdict.class_name,
        "confidence": round(verdict.confidence / 100.0, 6),
        "verdict_from": verdict.predictor,
        "predictors": {
            row["predictor"]: {c: round(float(row[c]) / 100.0, 6) for c in class_names}
            for _, row in table.iterrows()
        },
    }
