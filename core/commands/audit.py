"""`python -m core audit`: near-duplicates (leaks), likely wrong labels and per-slice scores of the
feature files, written as one JSON document (docs/formats.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.audit.settings import NEAR_DUPLICATE_SIMILARITY
from core.model.config import DEFAULT_BATCH_SIZE
from core.paths import FEATURES_DIR, SPLITS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="find leaks between splits, likely wrong labels and the weakest slices",
        description="Reads every features file (or --splits), runs the ensemble where the prediction "
        "cache does not already hold its probabilities, and writes one JSON document.",
    )
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--features", type=Path, default=Path(FEATURES_DIR), help="features folder")
    parser.add_argument(
        "--splits", help=f"comma-separated splits, e.g. {','.join(reversed(SPLITS))} (default: every file)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=NEAR_DUPLICATE_SIMILARITY,
        help="cosine similarity at which two videos count as near-duplicates (default: %(default)s)",
    )
    parser.add_argument("--tta", action="store_true", help="judge labels with the ensemble + TTA")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="sequences per pass")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument("--out", type=Path, help="audit JSON to write (default: runs/<stamp>-audit.json)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file at --out")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, faiss and h5py load only when the command runs, never for --help or a flag error.
    from core.commands import audit_run

    return audit_run.run(args)
