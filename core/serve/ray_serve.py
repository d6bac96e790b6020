"""`python -m core serve --engine ray`: the same FastAPI app on Ray Serve. Each replica loads the
engine once and builds the app around it (`serve.ingress`); stored-video requests are gathered by
`@serve.batch` instead of the local batcher, and Serve's own queue bound answers 503 past it.
Replicas are a flag, or scale with load; each takes a GPU when the cluster has one."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
import torch
from fastapi import FastAPI
from ray import serve
from ray.serve import Deployment

from core.serve.app import create_app
from core.serve.engine import ServeEngine, StoredRequest
from core.serve.errors import configure_request_log
from core.serve.settings import ServeSettings

APP_NAME = "video-classifier"
LOG = logging.getLogger("core.serve")


@dataclass(frozen=True)
class RayPlan:
    models: Path
    features: Path
    checkpoints: tuple[Path, ...] | None
    settings: ServeSettings
    replicas: int = 1
    autoscale: bool = False
    threads: int = 1
    device: str | None = None
    """cpu, cuda, or None: a GPU per replica when the cluster has one."""


def replica_gpus(device: str | None, cluster_gpus: float) -> float:
    if device == "cuda" and cluster_gpus < 1:
        raise ValueError("--device cuda: the Ray cluster has no GPU; leave --device out or use cpu")
    return 0.0 if device == "cpu" or cluster_gpus < 1 else 1.0


def _deployment(plan: RayPlan, gpus: float) -> Deployment:
    settings = plan.settings
    device = "cuda" if gpus else "cpu"

    @serve.ingress()
    class EnsembleReplica:
        def __init__(self) -> None:
            configure_request_log()
            torch.set_num_threads(plan.threads)
            self.engine = ServeEngine.load(plan.models, plan.features, device, plan.checkpoints)
            self.engine.prepare_backbone()

        @serve.batch(max_batch_size=settings.max_batch, batch_wait_timeout_s=settings.max_wait_ms / 1000)
        async def predict_batch(self, requests: list[StoredRequest]) -> list[np.ndarray]:
            return await asyncio.to_thread(self.engine.predict_stored, requests)

        def __serve_build_asgi_app__(self) -> FastAPI:
            return create_app(self.engine, settings, predict_stored=self.predict_batch)

    scaling = (
        {"autoscaling_config": {"min_replicas": 1, "max_replicas": plan.replicas}}
        if plan.autoscale
        else {"num_replicas": plan.replicas}
    )
    return serve.deployment(
        EnsembleReplica,
        name="ensemble",
        ray_actor_options={"num_cpus": plan.threads, "num_gpus": gpus},
        max_queued_requests=settings.max_queue,
        max_ongoing_requests=max(settings.max_batch * 2, 8),
        **scaling,
    )


def start_on_ray(plan: RayPlan, address: str | None) -> None:
    """Joins (or starts) Ray and runs the app behind Serve's HTTP proxy on the settings' host and port."""
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    gpus = replica_gpus(plan.device, ray.cluster_resources().get("GPU", 0))
    serve.start(http_options={"host": plan.settings.host, "port": plan.settings.port})
    serve.run(_deployment(plan, gpus).bind(), name=APP_NAME, route_prefix="/", blocking=False)


def stop_on_ray() -> None:
    serve.delete(APP_NAME)
    serve.shutdown()


def serve_on_ray(args: argparse.Namespace, settings: ServeSettings) -> int:
    checkpoints: Sequence[Path] | None = args.checkpoints
    plan = RayPlan(
        args.models.resolve(),
        args.features.resolve(),
        tuple(p.resolve() for p in checkpoints) if checkpoints else None,
        settings,
        replicas=args.actors or 1,
        autoscale=args.autoscale,
        threads=args.threads or 1,
        device=args.device,
    )
    start_on_ray(plan, args.address)
    LOG.info("serving on Ray Serve at http://%s:%d (API docs at /docs)", settings.host, settings.port)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        stop_on_ray()
