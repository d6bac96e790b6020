"""`python -m core <command>`: scriptable entry points with flags and exit codes."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from core.outputs import command_scope

COMMANDS: tuple[str, ...] = (
    "evaluate",
    "extract",
    "classify",
    "train",
    "retrain",
    "demo",
    "audit",
    "explain",
    "promote",
    "serve",
)
EXIT_FAILURE = 1
EXIT_USAGE = 2
DEBUG_ENV = "CORE_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"core.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        with command_scope():
            return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        # Every known bad input raises ValueError/OSError with the file named; anything else is
        # a bug, still reported in one line unless the traceback is asked for.
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {one_line(exc)} (set {DEBUG_ENV}=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
