"""Training the ensemble's members in parallel on a Ray cluster (`python -m core train --engine ray`).

A `MemberRunner` for `train_ensemble`: each member is a Ray task (one GPU each when the cluster
has GPUs, else an even share of its CPUs) running the local trainer's `train_member` with the
member's seed, so the driver writes the same checkpoints, `training_metrics.csv` and
`configuration_analysis.json` as the local engine, each member's files as soon as it finishes.
The tasks send their epochs through a Ray queue, so the CSV and the progress lines follow the
training live. An interrupted run cancels its tasks; the members already written are kept, and
`--resume` trains the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ray
import torch
from ray.util.queue import Queue

from core.features.ray_engine import connect
from core.features.store import FeatureSet
from core.model.network import TemporalModelConfig
from core.training.ensemble import MemberJob
from core.training.member import EpochRecord, MemberResult, TrainingError, train_member

POLL_S = 1.0
"""How often the driver passes on the epochs the tasks reported while none has finished."""


def _on_cpu(value: Any) -> Any:
    """Tensors of an optimizer state, moved to the CPU so a driver without a GPU can read them."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_on_cpu(item) for item in value)
    return value


def train_member_task(
    train: FeatureSet,
    val: FeatureSet,
    model_config: TemporalModelConfig,
    job: MemberJob,
    device: str,
    threads: int,
    epochs: Queue,
) -> MemberResult:
    """Ray task body: one member, trained as the local engine trains it."""
    torch.set_num_threads(threads)
    result = train_member(
        train,
        val,
        model_config=model_config,
        config=job.config,
        member=job.member,
        device=torch.device(device),
        on_epoch=epochs.put,
    )
    return replace(result, model=result.model.cpu(), optimizer_state=_on_cpu(result.optimizer_state))


@dataclass(frozen=True)
class TaskPlan:
    device: str
    cpus: int
    gpus: int
    parallel: int


def plan_member_tasks(
    resources: dict[str, float], members: int, parallel: int | None, device: torch.device | None
) -> TaskPlan:
    """One GPU per member where the cluster has GPUs; else the CPUs shared evenly between the
    members that run at once (all of them unless `parallel` says fewer)."""
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    wanted = device.type if device is not None else None
    if wanted == "cuda" and gpus == 0:
        raise TrainingError("--device cuda, but the Ray cluster has no GPUs")
    at_once = max(1, min(members, parallel or members))
    if gpus and wanted != "cpu":
        return TaskPlan("cuda", 1, 1, at_once)
    return TaskPlan("cpu", max(1, cpus // at_once), 0, at_once)


@dataclass(frozen=True)
class RayTraining:
    """A `MemberRunner` (core.training.ensemble) on a Ray cluster."""

    address: str | None = None
    """Cluster to join (`auto`, `ray://host:10001`, `host:6379`); None: RAY_ADDRESS, else a local one."""
    parallel: int | None = None
    """Members trained at once; default all."""

    def __call__(
        self,
        train: FeatureSet,
        val: FeatureSet,
        model_config: TemporalModelConfig,
        jobs: Sequence[MemberJob],
        device: torch.device | None,
        on_epoch: Callable[[EpochRecord], None],
    ) -> Iterator[tuple[int, MemberResult]]:
        if not jobs:
            return
        connected = connect(self.address)
        try:
            plan = plan_member_tasks(ray.cluster_resources(), len(jobs), self.parallel, device)
            yield from _run_tasks(train, val, model_config, list(jobs), plan, on_epoch)
        finally:
            if connected:
                ray.shutdown()


def _run_tasks(
    train: FeatureSet,
    val: FeatureSet,
    model_config: TemporalModelConfig,
    waiting: list[MemberJob],
    plan: TaskPlan,
    on_epoch: Callable[[EpochRecord], None],
) -> Iterator[tuple[int, MemberResult]]:
    """Keeps `plan.parallel` members training; yields each as it finishes, after every epoch it
    reported. However it ends, no task of it is left running."""
    epochs = Queue(actor_options={"num_cpus": 0})
    task = ray.remote(train_member_task).options(num_cpus=plan.cpus, num_gpus=plan.gpus, max_retries=0)
    shared = (ray.put(train), ray.put(val), model_config)
    running: dict[ray.ObjectRef, int] = {}
    try:
        while waiting or running:
            while waiting and len(running) < plan.parallel:
                job = waiting.pop(0)
                running[task.remote(*shared, job, plan.device, plan.cpus, epochs)] = job.member
            finished, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
            results = [(running.pop(ref), ray.get(ref)) for ref in finished]
            # A task puts its epochs before it returns, so a finished member's are all queued.
            _pass_on(epochs, on_epoch)
            yield from results
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
        ray.kill(epochs.actor)


def _pass_on(epochs: Queue, on_epoch: Callable[[EpochRecord], None]) -> None:
    size = epochs.qsize()
    if size:
        for record in epochs.get_nowait_batch(size):
            on_epoch(record)
