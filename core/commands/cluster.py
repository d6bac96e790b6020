"""The `--engine`, `--address` and `--actors` flags of the commands that can run on a Ray cluster,
and the one-line answer when Ray is not installed. Ray is imported only for `--engine ray`."""

from __future__ import annotations

import argparse
import importlib
from types import ModuleType

RAY_REQUIREMENTS = "pip install -r requirements-ray.txt"
RAY_MISSING = f"--engine ray needs Ray: {RAY_REQUIREMENTS}"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_engine_flags(parser: argparse.ArgumentParser, *, ray_does: str, actors_help: str) -> None:
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help=f"local: this process; ray: {ray_does} on a Ray cluster (needs {RAY_REQUIREMENTS})",
    )
    cluster = parser.add_argument_group("--engine ray")
    cluster.add_argument(
        "--address", help="Ray cluster to join, e.g. auto (default: RAY_ADDRESS, else a local instance)"
    )
    cluster.add_argument("--actors", type=positive_int, help=actors_help)


def import_ray_module(name: str) -> ModuleType:
    """The project module that runs on Ray, or the one-line way to install Ray."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "ray":
            raise
        raise ValueError(RAY_MISSING) from None
