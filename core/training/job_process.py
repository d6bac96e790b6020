"""The process a retrain job runs in: `python -m core.training.job_process <job folder>`.

It is started by `core.training.jobs` and does what `python -m core retrain` does (the same plan,
the same training loop, torch's own thread count), recording its pid, each finished epoch and its
end in the job's `job.json`, which it alone writes while it runs. SIGTERM stops it before the next
batch, with the last finished epoch kept for a resume.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from core.training.ensemble import load_training_splits
from core.training.job_file import check_job_folder
from core.training.jobs import RetrainSnapshot, RetrainState, read_job, write_job
from core.training.member import EpochRecord, TrainingStopped
from core.training.retrain import plan_retrain, retrain_member


class JobRecorder:
    """The job's file as this process keeps it: every change is written at once, atomically."""

    def __init__(self, snapshot: RetrainSnapshot) -> None:
        self.snapshot = snapshot

    def update(self, **changes: Any) -> None:
        self.snapshot = replace(self.snapshot, **changes)
        # The folder may have been swapped for a link since the job started: never write through it.
        check_job_folder(self.snapshot.folder)
        write_job(self.snapshot)

    def on_epoch(self, record: EpochRecord) -> None:
        rows = [row for row in self.snapshot.rows if row["epoch"] < record.epoch]
        self.update(rows=[*rows, record.to_row()])


def run_job(folder: Path, stop: threading.Event) -> RetrainState:
    """Train the candidate `folder`'s job asks for; returns the state it ended in."""
    snapshot = read_job(folder, live=True)
    if snapshot is None:
        raise ValueError(f"{folder}: no readable retrain job file")
    recorder = JobRecorder(snapshot)
    recorder.update(state=RetrainState.RUNNING, error=None, pid=os.getpid())
    request = snapshot.request
    try:
        plan = plan_retrain(
            request.models_dir,
            request.member,
            request.features_dir,
            snapshot.candidate_dir,
            seed=request.seed,
            options=request.training_options(),
        )
        recorder.update(seed=plan.seed, max_epochs=plan.config.max_epochs)
        train, val = load_training_splits(request.features_dir)
        retrain_member(
            plan,
            train,
            val,
            device=torch.device(request.device),
            on_epoch=recorder.on_epoch,
            should_stop=stop.is_set,
        )
    except TrainingStopped:
        recorder.update(state=RetrainState.CANCELLED)
    # The process's last chance to say why it failed: the app shows this line.
    except Exception as exc:
        recorder.update(state=RetrainState.FAILED, error=f"{type(exc).__name__}: {exc}")
    else:
        recorder.update(state=RetrainState.FINISHED)
    return recorder.snapshot.state


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m core.training.job_process <job folder>", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    state = run_job(Path(argv[0]), stop)
    return 0 if state is RetrainState.FINISHED else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
