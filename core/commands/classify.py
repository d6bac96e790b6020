"""`python -m core classify`: classify video clips with the ensemble, featurised as it was trained."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.commands.cluster import positive_int
from core.paths import ProjectPaths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify video clips with the checkpoint ensemble",
        description="Featurises each clip with the recipe the checkpoints were trained on (or, for "
        "checkpoints that record none, the recipe of --features) and prints every model's, the "
        "ensemble's and each TTA mode's class probabilities. Exit code 1 when any clip failed.",
    )
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="video file(s) or http(s) URL(s)")
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--checkpoints", type=Path, nargs="+", help="explicit ensemble members (files)")
    parser.add_argument(
        "--features",
        type=Path,
        default=ProjectPaths.at().features_file("test"),
        help="feature file whose recipe stands in for checkpoints that record none (default: %(default)s)",
    )
    parser.add_argument("--weights", type=Path, help="backbone weights file (torchvision backbones)")
    parser.add_argument(
        "--tta", action="store_true", help="verdict from the ensemble with test-time augmentation"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object per clip, as a JSON list")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument(
        "--allow-private-urls", action="store_true", help="let URLs reach loopback and private addresses"
    )
    parser.add_argument(
        "--max-download-mb", type=positive_int, default=200, help="largest video fetched from a URL"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, the backbone and OpenCV load only when the command runs, never for --help or a flag error.
    from core.commands import classify_run

    return classify_run.run(args)
