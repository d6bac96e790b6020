"""Retraining in the background: each job trains in its own process (`core.training.job_process`),
so it runs at the command line's speed, never competes with the app's threads for the GIL or
torch's thread pool, and outlives the app.

Each job owns a folder `runs/retrain/<job id>/`: `job.json` (request, state, the worker's pid, one
row per finished epoch; only the worker writes it once it runs), `candidate/`, the retrain `--out`,
`worker.lock`, held (flock) by the worker for as long as it lives, and `worker.log`, its output.
A job whose file says it is running but whose lock nobody holds lost its process (killed, or the
machine restarted); resuming it continues the candidate from its last finished epoch. Cancelling
sends the worker SIGTERM; it stops before the next batch and records that it was cancelled.
Nothing here knows about Streamlit.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.paths import RETRAIN_PROVENANCE_JSON
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
from core.training.member import TrainingConfig

CANDIDATE_DIR = "candidate"
WORKER_LOCK = "worker.lock"
WORKER_LOG = "worker.log"
WORKER_MODULE = "core.training.job_process"
# Where `core` is importable from: the worker runs the same code as the app.
CODE_ROOT = Path(__file__).resolve().parents[2]


class RetrainState(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    """Its process ended before the job did (killed, or the machine restarted); its folder holds
    the last finished epoch."""


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
    pid: int | None = None

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
            "pid": self.pid,
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
        pid=data.get("pid"),
    )
    if live:
        return snapshot
    if (folder / CANDIDATE_DIR / RETRAIN_PROVENANCE_JSON).is_file():
        # The candidate's files landed (together) before the job file could say so.
        return replace(snapshot, state=RetrainState.FINISHED, error=None)
    if state is RetrainState.RUNNING and not worker_alive(folder):
        ended = "its training process ended before it finished"
        return replace(snapshot, state=RetrainState.STOPPED, error=ended)
    return snapshot


def worker_alive(folder: Path) -> bool:
    """True while a worker process holds the job's lock (a lock, not a pid: pids are reused)."""
    try:
        fd = os.open(Path(folder) / WORKER_LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def worker_environment() -> dict[str, str]:
    """The app's environment, with `core` importable from CODE_ROOT for a child process."""
    paths = [str(CODE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def spawn_worker(folder: Path) -> subprocess.Popen:
    """Start the worker on `folder`'s job. The lock is taken here and handed to the child, so the
    job counts as alive from the first instant; a second start of the same job is refused."""
    fd = os.open(Path(folder) / WORKER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{folder}: that job is running") from None
        with open(Path(folder) / WORKER_LOG, "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, str(folder)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=worker_environment(),
                cwd=CODE_ROOT,
                # Its own session: a Ctrl-C meant for the app does not cut the job short.
                start_new_session=True,
            )
    finally:
        # The child's inherited descriptor keeps the lock until the child exits.
        os.close(fd)


def is_worker_of(pid: int, folder: Path) -> bool:
    """True when process `pid` runs this module's worker on `folder` (read from /proc; where
    there is no /proc, nothing is confirmed)."""
    try:
        arguments = Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    return WORKER_MODULE.encode() in arguments and str(folder).encode() in arguments


class RetrainJob:
    """The handle of one job's worker process: its snapshot is what the worker last wrote."""

    def __init__(self, folder: Path, process: subprocess.Popen | None = None) -> None:
        self.folder = Path(folder)
        self._process = process

    @property
    def job_id(self) -> str:
        return self.folder.name

    def snapshot(self) -> RetrainSnapshot:
        if self._process is not None:
            self._process.poll()  # reaps an ended child
        snapshot = read_job(self.folder)
        if snapshot is None:
            raise ValueError(f"{self.folder / JOB_FILE}: the job file is unreadable")
        return snapshot

    def alive(self) -> bool:
        return worker_alive(self.folder)

    def cancel(self) -> None:
        """Ask the worker to stop before its next batch (SIGTERM); it records the cancellation."""
        if not self.alive():
            return
        pid = self._process.pid if self._process is not None else self.snapshot().pid
        # A pid read back from the job file is only signalled when it is this job's worker: the
        # file is untrusted, and pids are reused.
        if pid is not None and (self._process is not None or is_worker_of(pid, self.folder)):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def wait(self, timeout_s: float | None = None) -> RetrainSnapshot:
        """The snapshot once the worker has ended, or after `timeout_s`."""
        if self._process is not None:
            with suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout_s)
        else:
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while self.alive() and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.1)
        return self.snapshot()


def write_job(snapshot: RetrainSnapshot) -> None:
    document = json.dumps(snapshot.to_dict(), indent=1)
    atomic_write_text(snapshot.folder / JOB_FILE, document + "\n")


def new_job_id(member: int) -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%d-%H%M%S-%f')}-member{member}"


class RetrainRegistry:
    """The retrain jobs this app started or found running, and the folders of earlier ones."""

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
        return self._start(snapshot)

    def resume(self, folder: Path) -> RetrainJob:
        """Continue a stopped, cancelled or failed job from its last finished epoch."""
        snapshot = load_job(folder)
        if not snapshot.resumable:
            raise ValueError(f"{folder}: no interrupted retrain job to resume")
        request = snapshot.request
        check_folders_inside_project(folder, {"models": request.models_dir, "features": request.features_dir})
        if worker_alive(folder):
            raise ValueError(f"{folder}: that job is running")
        return self._start(replace(snapshot, state=RetrainState.RUNNING, error=None, pid=None))

    def _start(self, snapshot: RetrainSnapshot) -> RetrainJob:
        """Record the job as running, then hand it to a worker process (the only writer of its
        file from then on)."""
        write_job(snapshot)
        try:
            process = spawn_worker(snapshot.folder)
        except OSError as exc:
            write_job(replace(snapshot, state=RetrainState.FAILED, error=f"cannot start its process: {exc}"))
            raise ValueError(f"{snapshot.folder}: cannot start the training process ({exc})") from None
        job = RetrainJob(snapshot.folder, process)
        with self._lock:
            self._jobs[job.job_id] = job
        return job

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
            snapshot = read_job(folder)
            if snapshot is None:
                continue
            if snapshot.active:
                self._adopt(folder)
            found.append(snapshot)
        return found

    def _adopt(self, folder: Path) -> None:
        """A worker started by an earlier app process gets a handle, so it can be cancelled."""
        with self._lock:
            self._jobs.setdefault(folder.name, RetrainJob(folder))

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
