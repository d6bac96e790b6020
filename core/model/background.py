"""Split predictions finished in the background: after the unaugmented pass, the remaining TTA
modes run in a daemon thread so the pages can show plain-ensemble numbers first.

Nothing here knows about Streamlit; the app keeps one registry per process and polls it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from torch import nn

from core.features.store import open_features
from core.model.inference import ProgressCallback, predict_split


@dataclass(frozen=True)
class BackgroundProgress:
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class BackgroundPrediction:
    """`predict_split` of `modes` on a features file in a daemon thread, streamed from disk;
    `on_done` receives the probabilities (and typically stores them) before it counts as finished."""

    def __init__(
        self,
        models: Sequence[nn.Module],
        features_path: Path,
        modes: Sequence[str],
        on_done: Callable[[np.ndarray], None],
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._progress = BackgroundProgress()
        self._thread = threading.Thread(
            target=self._work,
            args=(list(models), features_path, tuple(modes), on_done, on_progress),
            name=f"tta-{features_path.name}",
            daemon=True,
        )
        self._thread.start()

    def snapshot(self) -> BackgroundProgress:
        with self._lock:
            return self._progress

    def wait(self, timeout: float | None = None) -> BackgroundProgress:
        self._thread.join(timeout)
        return self.snapshot()

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._progress = replace(self._progress, **changes)  # type: ignore[arg-type]

    def _work(
        self,
        models: list[nn.Module],
        features_path: Path,
        modes: tuple[str, ...],
        on_done: Callable[[np.ndarray], None],
        on_progress: ProgressCallback | None,
    ) -> None:
        def report(done: int, total: int) -> None:
            self._update(done=done, total=total)
            if on_progress is not None:
                on_progress(done, total)

        try:
            with open_features(features_path) as handle:
                probabilities = predict_split(models, handle, modes, progress=report)
            on_done(probabilities)
            self._update(finished=True)
        except Exception as exc:
            # The thread is the only place this error exists: keep it for the page to show.
            self._update(finished=True, error=f"{type(exc).__name__}: {exc}")


class BackgroundPredictions:
    """At most one background prediction per key (e.g. a prediction-cache key), so reruns and
    other sessions asking for the same split share it instead of starting another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, BackgroundPrediction] = {}

    def start(
        self,
        key: str,
        models: Sequence[nn.Module],
        features_path: Path,
        modes: Sequence[str],
        on_done: Callable[[np.ndarray], None],
        on_progress: ProgressCallback | None = None,
    ) -> BackgroundPrediction:
        """The job for `key`, started now unless one is running or has failed (a failed one is
        kept, so its error is shown instead of retrying on every rerun). A finished one is
        replaced: its result was handed to `on_done`, so asking again means that result is gone."""
        with self._lock:
            job = self._jobs.get(key)
            progress = job.snapshot() if job is not None else None
            if progress is None or (progress.finished and progress.error is None):
                job = BackgroundPrediction(models, features_path, modes, on_done, on_progress)
                self._jobs[key] = job
            return job

    def get(self, key: str) -> BackgroundPrediction | None:
        with self._lock:
            return self._jobs.get(key)

    def wait_all(self, timeout: float | None = None) -> list[BackgroundProgress]:
        """Wait for every job started so far (shutdown, scripts, tests); their progress then."""
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.wait(timeout) for job in jobs]
