"""`python -m core extract`: featurise a labelled video folder into a feature file (docs/formats.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.classes import CLASS_NAMES
from core.features.choices import BACKBONE_NAMES, DEFAULT_BATCH_SIZE, NORMALIZATIONS
from core.features.recipe import DEFAULT_SCALES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="turn {category}/{subcategory}/*.mp4 videos into a multi-scale feature file",
        description="Walks VIDEOS/{category}/{subcategory}/*.{mp4,avi,mov,mkv,webm}, labels each video "
        "by its category folder and appends its multi-scale feature sequence to OUT. Re-running resumes: "
        "videos already in OUT are not redone. Exit code 1 when any file was skipped.",
    )
    parser.add_argument("--videos", type=Path, required=True, help="folder of category folders")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="feature file to write, e.g. features_enhanced/test_features_multiscale.h5",
    )
    parser.add_argument(
        "--classes",
        nargs="+",
        default=list(CLASS_NAMES),
        help="class names in label order (default: %(default)s)",
    )
    parser.add_argument("--backbone", choices=sorted(BACKBONE_NAMES), default="efficientnet_lite0")
    parser.add_argument("--weights", type=Path, help="backbone weights file (torchvision backbones)")
    parser.add_argument("--frames", type=int, default=64, help="frames sampled per video (default 64)")
    parser.add_argument("--image-size", type=int, default=256, help="frame size in pixels (default 256)")
    parser.add_argument("--scales", type=float, nargs="+", default=list(DEFAULT_SCALES))
    parser.add_argument(
        "--normalization", choices=NORMALIZATIONS, help="pixel normalisation (default: the backbone's own)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="frames per backbone batch"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.add_argument("--no-resume", action="store_true", help="start OUT afresh instead of resuming it")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUT even when it is not a feature file this tool wrote",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process; ray: a Ray Data pipeline on a cluster "
        "(needs pip install -r requirements-ray.txt)",
    )
    cluster = parser.add_argument_group("--engine ray")
    cluster.add_argument("--address", help="Ray cluster to join, e.g. auto (default: start a local one)")
    cluster.add_argument(
        "--actors", type=int, help="backbone actors (default: one per GPU, else 7/8 of the CPUs)"
    )
    cluster.add_argument(
        "--shards", type=Path, help="shard folder every node can write (default: OUT.shards beside OUT)"
    )
    cluster.add_argument("--shard-videos", type=int, help="videos per shard file (default 64)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, the backbone and OpenCV load only when the command runs, never for --help or a flag error.
    from core.commands import extract_run

    return extract_run.run(args)
