"""`python -m core serve`: the ensemble over HTTP (FastAPI on uvicorn, or on Ray Serve)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands.cluster import add_engine_flags, positive_int
from core.paths import ProjectPaths
from core.serve.settings import LOCAL_HOST, TOKEN_ENV, ServeSettings

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


def run(args: argparse.Namespace) -> int:
    # torch, FastAPI and the model load only when the server starts, never for --help or a flag error.
    from core.commands import serve_run

    return serve_run.run(args)
