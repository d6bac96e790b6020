"""`python -m core serve`: the work behind the command; `core.commands.serve` only parses its flags."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import torch

from core.commands.cluster import import_ray_module
from core.device import default_device
from core.serve.errors import configure_request_log
from core.serve.settings import ServeSettings, check_exposure, resolve_token


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def settings_of(args: argparse.Namespace, token: str | None) -> ServeSettings:
    return ServeSettings(
        host=args.host,
        port=args.port,
        token=token,
        max_upload_bytes=args.max_upload_mb * 2**20,
        allow_private_urls=args.allow_private_urls,
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        max_queue=args.max_queue,
        request_timeout_s=args.timeout_s,
    )


def run(args: argparse.Namespace) -> int:
    token = resolve_token(args.token_file)
    check_exposure(args.host, token)
    settings = settings_of(args, token)
    configure_request_log()
    if args.engine == "ray":
        ray_serve = import_ray_module("core.serve.ray_serve")
        return ray_serve.serve_on_ray(args, settings)
    device = torch.device(args.device) if args.device else default_device()
    return serve_locally(args, settings, device)


def serve_locally(args: argparse.Namespace, settings: ServeSettings, device: torch.device) -> int:
    import uvicorn

    from core.serve.app import create_app
    from core.serve.engine import ServeEngine

    # Inference passes spread their units over exactly this many threads (core.model.cpu_threads).
    torch.set_num_threads(args.threads or usable_cores())
    engine = ServeEngine.load(args.models, args.features, device, args.checkpoints)
    for warning in engine.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    engine.prepare_backbone()
    if engine.recipe_problem:
        print(f"warning: uploads and URLs are refused: {engine.recipe_problem}", file=sys.stderr)
    logging.getLogger("core.serve").info(
        "serving %d member(s) and %d stored videos on http://%s:%d (API docs at /docs)",
        len(engine.member_names), len(engine.index.names), settings.host, settings.port,
    )  # fmt: skip
    try:
        uvicorn.run(
            create_app(engine, settings), host=settings.host, port=settings.port, access_log=False,
            log_level="warning",
        )  # fmt: skip
    finally:
        engine.close()
    return 0
