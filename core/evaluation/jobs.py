"""Evaluation runs in the background: a worker thread per run, progress and cancellation
shared through a locked snapshot, and the finished run saved atomically under `runs/`.

Nothing here knows about Streamlit; the app keeps one `JobRegistry` per process and polls it."""

from __future__ import annotations

import importlib.util
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from core.evaluation.runs import (
    LOCAL_ENGINE,
    EvaluationCancelled,
    EvaluationError,
    SplitEngine,
    check_run_outputs,
    default_run_path,
    run_evaluation,
    save_run,
)
from core.input_watch import InputSnapshot
from core.model.inference import DEFAULT_BATCH_SIZE
from core.paths import split_of

ProgressObserver = Callable[[int, int], None]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class EvaluationRequest:
    checkpoints: tuple[Path, ...]
    features: Path
    tta_modes: tuple[str, ...] = ()
    batch_size: int = DEFAULT_BATCH_SIZE
    device: str = "cpu"
    engine: str = LOCAL_ENGINE
    """`local`, or `ray`: the Ray cluster at RAY_ADDRESS, whose actors take its GPUs if it has any."""
    swaps: tuple[tuple[str, str], ...] = ()
    """(member name, checkpoint standing in for it): recorded in the run."""

    @property
    def label(self) -> str:
        """Run file label: split, member count, TTA and swaps, e.g. `test-4models-tta-swap1`."""
        tta = "-tta" if self.tta_modes else ""
        swapped = "".join(f"-swap{name.rsplit('_', 1)[-1]}" for name, _ in self.swaps)
        return f"{split_of(self.features)}-{len(self.checkpoints)}models{tta}{swapped}"

    def describe(self) -> str:
        tta = f"TTA {', '.join(self.tta_modes)}" if self.tta_modes else "no TTA"
        where = self.device if self.engine == LOCAL_ENGINE else f"{self.engine} cluster"
        return f"{len(self.checkpoints)} checkpoint(s) on {self.features.name}, {tta}, {where}"


def cluster_address() -> str | None:
    """The Ray cluster the app can run evaluations on: RAY_ADDRESS, when Ray is installed here."""
    address = os.environ.get("RAY_ADDRESS", "").strip()
    return address if address and importlib.util.find_spec("ray") is not None else None


def split_engine(request: EvaluationRequest, run_path: Path) -> SplitEngine | None:
    """None for this process. A cluster run keeps no shards when it fails or is cancelled, since
    the next run from the app gets a new file name and could not resume from them; the app stays
    joined to the cluster, so that runs which overlap share one connection."""
    if request.engine == LOCAL_ENGINE:
        return None
    from core.evaluation.ray_evaluate import RayEvaluation  # Ray is optional: imported for cluster runs only

    return RayEvaluation.beside(run_path, keep_shards=False, stay_connected=True)


@dataclass(frozen=True)
class JobSnapshot:
    job_id: int
    request: EvaluationRequest
    state: JobState = JobState.QUEUED
    done: int = 0
    total: int = 0
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    run_path: Path | None = None
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class EvaluationJob:
    """One evaluation in a daemon thread. `cancel()` stops it at the next batch; a cancelled or
    failed run writes nothing, because the run file is only written, atomically, at the end."""

    def __init__(
        self,
        job_id: int,
        request: EvaluationRequest,
        runs_dir: Path,
        on_progress: ProgressObserver | None = None,
    ) -> None:
        self._snapshot = JobSnapshot(job_id, request)
        self._runs_dir = Path(runs_dir)
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"evaluation-{job_id}", daemon=True)

    @property
    def job_id(self) -> int:
        return self._snapshot.job_id

    def start(self) -> EvaluationJob:
        self._update(state=JobState.RUNNING)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return self._snapshot

    def wait(self, timeout_s: float | None = None) -> JobSnapshot:
        self._thread.join(timeout_s)
        return self.snapshot()

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)  # type: ignore[arg-type]

    def _progress(self, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise EvaluationCancelled(f"evaluation {self.job_id} cancelled")
        self._update(done=done, total=total)
        if self._on_progress is not None:
            self._on_progress(done, total)

    def _work(self) -> None:
        request = self._snapshot.request
        inputs = InputSnapshot.of([request.features, *request.checkpoints])
        try:
            path = default_run_path(self._runs_dir, request.label)
            check_run_outputs(path, inputs=[request.features, *request.checkpoints])
            engine = split_engine(request, path)
            run = run_evaluation(
                list(request.checkpoints),
                request.features,
                tta_modes=request.tta_modes,
                batch_size=request.batch_size,
                device=request.device,
                progress=self._progress,
                engine=engine,
                swaps=dict(request.swaps),
            )
            if self._cancel.is_set():
                raise EvaluationCancelled(f"evaluation {self.job_id} cancelled")
            changed = inputs.change_message()
            if changed:
                raise EvaluationError(changed)
            save_run(run, path)
        except EvaluationCancelled:
            self._update(state=JobState.CANCELLED, finished_at=time.time())
        # The worker is the last place an error can be caught; it is shown in the app, not lost.
        except Exception as exc:
            changed = inputs.change_message()
            error = changed or f"{type(exc).__name__}: {exc}"
            self._update(state=JobState.FAILED, finished_at=time.time(), error=error)
        else:
            self._update(state=JobState.FINISHED, finished_at=time.time(), run_path=path)


class JobRegistry:
    """Every job of this process, newest first; safe to share between sessions and threads."""

    def __init__(self) -> None:
        self._jobs: dict[int, EvaluationJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(
        self, request: EvaluationRequest, runs_dir: Path, on_progress: ProgressObserver | None = None
    ) -> EvaluationJob:
        with self._lock:
            job = EvaluationJob(next(self._ids), request, runs_dir, on_progress)
            self._jobs[job.job_id] = job
        return job.start()

    def get(self, job_id: int) -> EvaluationJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def snapshots(self) -> list[JobSnapshot]:
        with self._lock:
            jobs = list(self._jobs.values())
        return sorted((job.snapshot() for job in jobs), key=lambda s: s.job_id, reverse=True)

    def active(self) -> list[JobSnapshot]:
        return [s for s in self.snapshots() if s.active]

    def cancel(self, job_id: int) -> None:
        job = self.get(job_id)
        if job is not None:
            job.cancel()

    def forget_finished(self, keep: int = 5) -> None:
        """Drop all but the `keep` newest inactive jobs, so a long-lived server does not grow."""
        inactive = [s.job_id for s in self.snapshots() if not s.active][keep:]
        with self._lock:
            for job_id in inactive:
                self._jobs.pop(job_id, None)
