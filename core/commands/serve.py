"""`python -m core serve`: the ensemble over HTTP (FastAPI on uvicorn, or on Ray Serve)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import torch

from core.commands.cluster import add_engine_flags, import_ray_module, positive_int
from core.device import default_device
from core.paths import ProjectPaths
from core.serve.errors import configure_request_log
from core.serve.settings import LOCAL_HOST, TOKEN_ENV, ServeSettings, check_exposure, resolve_token

DEFAULTS = ServeSettings()


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the ensemble over HTTP (JSON API, docs at /docs)",
        description="Loads the checkpoints and the features file once, then answers /api/videos, "
        "/api/classify (a stored video by name, an upload, or a URL), /api/models, /metrics, /healthz "
        "and /readyz. Binds 127.0.0.1 unless told otherwise; any other address needs a token.",
    )
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--checkpoints", type=Path, nargs="+", help="explicit ensemble members (files)")
    parser.add_argument(
        "--features",
        type=Path,
        default=ProjectPaths.at().features_file("test"),
        help="features file of the stored videos (default: %(default)s)",
    )
    parser.add_argument("--host", default=LOCAL_HOST, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULTS.port, help="default: %(default)s")
    parser.add_argument(
        "--token-file",
        type=Path,
        help=f"file holding the bearer token callers must send (or set {TOKEN_ENV})",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=positive_int,
        default=DEFAULTS.max_upload_bytes // 2**20,
        help="default: %(default)s",
    )
    parser.add_argument(
        "--allow-private-urls", action="store_true", help="let URLs reach loopback and private addresses"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument(
        "--threads", type=positive_int, help="CPU threads for inference (default: usable cores)"
    )
    parser.add_argument(
        "--max-batch", type=positive_int, default=DEFAULTS.max_batch, help="stored videos per forward pass"
    )
    parser.add_argument(
        "--max-wait-ms", type=non_negative, default=DEFAULTS.max_wait_ms, help="longest wait to fill a batch"
    )
    parser.add_argument(
        "--max-queue", type=positive_int, default=DEFAULTS.max_queue, help="waiting requests before 503"
    )
    parser.add_argument(
        "--timeout-s", type=positive_number, default=DEFAULTS.request_timeout_s, help="per-request time limit"
    )
    add_engine_flags(
        parser,
        ray_does="the same app on Ray Serve, batching with @serve.batch",
        actors_help="replicas (default: 1; with --autoscale, the most)",
    )
    parser.add_argument("--autoscale", action="store_true", help="--engine ray: scale replicas with load")
    parser.set_defaults(func=run)


def non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def positive_number(text: str) -> float:
    value = non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


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
