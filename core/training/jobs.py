"""Retraining in the background, with the mechanics of evaluation runs (a worker thread, a locked
snapshot, cancellation between batches) plus a progress file, so the job outlives the app.

Each job owns a folder `runs/retrain/<job id>/`: `job.json` (request, state, one row per finished
epoch) and `candidate/`, the retrain `--out`. A job whose file says it was running but that no
worker of this process holds was stopped by an app restart; resuming it continues the candidate
from its last finished epoch. Nothing here knows about Streamlit.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_write_text
from core.paths import RETRAIN_PROVENANCE_JSON
from core.training.ensemble import load_training_splits
from core.training.job_file import (
    JOB_FILE,
    JOB_FORMAT,
    JobFileError,
    UnreadableJob,
    check_folders_inside_project,
    job_folders,
    read_job_document,
    remove_job_folder,
    unreadable_jobs,
)
from core.training.member import EpochRecord, TrainingConfig, TrainingStopped
from core.training.retrain import plan_retrain, retrain_member

CANDIDATE_DIR = "candidate"


class RetrainState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    """It was running when the app went away; its folder holds the last finished epoch."""


@dataclass(frozen=True)
class RetrainRequest:
    """What the form asks for: the member, the seed (None: the first unused one), and the
    recipe fields that differ from the recorded recipe."""

    models_dir: Path
    features_dir: Path
    member: int
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(models_dir=str(self.models_dir), features_dir=str(self.features_dir))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetrainRequest:
        return cls(
            models_dir=Path(data["models_dir"]),
            features_dir=Path(data["features_dir"]),
            member=int(data["member"]),
            seed=None if data.get("seed") is None else int(data["seed"]),
            options=dict(data.get("options") or {}),
            device=str(data.get("device", "cpu")),
        )

    def training_options(self) -> dict[str, Any]:
        """The options as TrainingConfig fields (JSON keeps tuples as lists)."""
        return {k: tuple(v) if isinstance(v, list) else v for k, v in self.options.items()}


@dataclass(frozen=True)
class RetrainSnapshot:
    job_id: str
    folder: Path
    request: RetrainRequest
    state: RetrainState
    rows: list[dict[str, Any]]
    max_epochs: int
    seed: int | None = None
    error: str | None = None
    started_utc: str = ""

    @property
    def active(self) -> bool:
        return self.state is RetrainState.RUNNING

    @property
    def resumable(self) -> bool:
        return self.state in (RetrainState.STOPPED, RetrainState.CANCELLED, RetrainState.FAILED)

    @property
    def candidate_dir(self) -> Path:
        return self.folder / CANDIDATE_DIR

    @property
    def fraction(self) -> float:
        return min(len(self.rows) / self.max_epochs, 1.0) if self.max_epochs else 0.0

    @property
    def has_candidate(self) -> bool:
        """Only a finished job offers a candidate: its three files landed together."""
        landed = (self.candidate_dir / RETRAIN_PROVENANCE_JSON).is_file()
        return self.state is RetrainState.FINISHED and landed

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": JOB_FORMAT,
            "job_id": self.job_id,
            "request": self.request.to_dict(),
            "state": str(self.state),
            "rows": self.rows,
            "max_epochs": self.max_epochs,
            "seed": self.seed,
            "error": self.error,
            "started_utc": self.started_utc,
        }


def read_job(folder: Path, *, live: bool = False) -> RetrainSnapshot | None:
    """The job recorded in `folder`, or None when it holds no readable job file."""
    try:
        return load_job(folder, live=live)
    except JobFileError:
        return None


def load_job(folder: Path, *, live: bool = False) -> RetrainSnapshot:
    """The job recorded in `folder`; raises JobFileError with the file's one-line problem. A job
    recorded as running that no live worker holds is reported as stopped."""
    data = read_job_document(folder, tuple(RetrainState))
    state = RetrainState(data["state"])
    snapshot = RetrainSnapshot(
        job_id=data["job_id"],
        folder=folder,
        request=RetrainRequest.from_dict(data["request"]),
        state=state,
        rows=list(data.get("rows", [])),
        max_epochs=data["max_epochs"],
        seed=data.get("seed"),
        error=data.get("error"),
        started_utc=data.get("started_utc") or "",
    )
    if live:
        return snapshot
    if (folder / CANDIDATE_DIR / RETRAIN_PROVENANCE_JSON).is_file():
        # The candidate's files landed (together) before the job file could say so.
        return replace(snapshot, state=RetrainState.FINISHED, error=None)
    if state is RetrainState.RUNNING:
        return replace(snapshot, state=RetrainState.STOPPED, error="the app stopped while it was training")
    return snapshot


class RetrainJob:
    """One candidate trained in a daemon thread; `cancel()` stops it before the next batch."""

    def __init__(self, snapshot: RetrainSnapshot) -> None:
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._work, name=f"retrain-{snapshot.job_id}", daemon=True)

    @property
    def job_id(self) -> str:
        return self._snapshot.job_id

    def start(self) -> RetrainJob:
        self._update(state=RetrainState.RUNNING, error=None)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def snapshot(self) -> RetrainSnapshot:
        with self._lock:
            return self._snapshot

    def wait(self, timeout_s: float | None = None) -> RetrainSnapshot:
        self._thread.join(timeout_s)
        return self.snapshot()

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)
            document = json.dumps(self._snapshot.to_dict(), indent=1)
        atomic_write_text(self._snapshot.folder / JOB_FILE, document + "\n")

    def _on_epoch(self, record: EpochRecord) -> None:
        rows = [row for row in self.snapshot().rows if row["epoch"] < record.epoch]
        self._update(rows=[*rows, record.to_row()])

    def _work(self) -> None:
        request = self._snapshot.request
        try:
            plan = plan_retrain(
                request.models_dir,
                request.member,
                request.features_dir,
                self._snapshot.candidate_dir,
                seed=request.seed,
                options=request.training_options(),
            )
            self._update(seed=plan.seed, max_epochs=plan.config.max_epochs)
            train, val = load_training_splits(request.features_dir)
            retrain_member(
                plan,
                train,
                val,
                device=torch.device(request.device),
                on_epoch=self._on_epoch,
                should_stop=self._cancel.is_set,
            )
        except TrainingStopped:
            self._update(state=RetrainState.CANCELLED)
        # The worker is the last place an error can be caught; it is shown in the app, not lost.
        except Exception as exc:
            self._update(state=RetrainState.FAILED, error=f"{type(exc).__name__}: {exc}")
        else:
            self._update(state=RetrainState.FINISHED)


def new_job_id(member: int) -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}-member{member}"


class RetrainRegistry:
    """Every retrain job of this process, and the folders of earlier ones under `root`."""

    def __init__(self) -> None:
        self._jobs: dict[str, RetrainJob] = {}
        self._lock = threading.Lock()

    def submit(self, request: RetrainRequest, root: Path) -> RetrainJob:
        job_id = new_job_id(request.member)
        folder = Path(root) / job_id
        folder.mkdir(parents=True)
        max_epochs = int(request.options.get("max_epochs", TrainingConfig().max_epochs))
        snapshot = RetrainSnapshot(
            job_id, folder, request, RetrainState.RUNNING, [], max_epochs,
            started_utc=datetime.now(UTC).isoformat(timespec="seconds"),
        )  # fmt: skip
        return self._start(RetrainJob(snapshot))

    def resume(self, folder: Path) -> RetrainJob:
        """Continue a stopped, cancelled or failed job from its last finished epoch."""
        snapshot = load_job(folder)
        if not snapshot.resumable:
            raise ValueError(f"{folder}: no interrupted retrain job to resume")
        request = snapshot.request
        check_folders_inside_project(folder, {"models": request.models_dir, "features": request.features_dir})
        running = self.get(snapshot.job_id)
        if running is not None and running.snapshot().active:
            raise ValueError(f"{folder}: that job is running")
        return self._start(RetrainJob(snapshot))

    def _start(self, job: RetrainJob) -> RetrainJob:
        with self._lock:
            self._jobs[job.job_id] = job
        return job.start()

    def get(self, job_id: str) -> RetrainJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> None:
        job = self.get(job_id)
        if job is not None:
            job.cancel()

    def snapshots(self, root: Path) -> list[RetrainSnapshot]:
        """Every job under `root`, newest first: live ones from their worker, others from file."""
        found = []
        for folder in job_folders(Path(root)):
            job = self.get(folder.name)
            snapshot = job.snapshot() if job is not None else read_job(folder)
            if snapshot is not None:
                found.append(snapshot)
        return found

    def active(self, root: Path) -> list[RetrainSnapshot]:
        return [s for s in self.snapshots(root) if s.active]

    def unreadable(self, root: Path) -> list[UnreadableJob]:
        """The job folders under `root` that are not read, each with its one-line problem."""
        found = unreadable_jobs(Path(root), tuple(RetrainState))
        return [job for job in found if self.get(job.folder.name) is None]


def discard_job(snapshot: RetrainSnapshot) -> None:
    """Remove an ended job's folder (the app made it; a promoted candidate was copied out)."""
    if snapshot.active:
        raise ValueError(f"{snapshot.folder}: the job is running; cancel it first")
    remove_job_folder(snapshot.folder)
