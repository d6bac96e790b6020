"""`python -m core explain`: which stored time steps drove a member's or the ensemble's vote on one
clip, how faithful that ranking is, and (with --saliency) which regions of the frames."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.explain.methods import METHODS, OCCLUSION


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="which frames (and regions) drove a member's or the ensemble's vote on one clip",
        description="Scores every stored time step of one clip towards a class, writes them with the "
        "deletion curve of that ranking and of random orders as JSON, and with --saliency writes "
        "Grad-CAM overlays of the frames.",
    )
    source = parser.add_argument_group("the clip: a stored video (--features and --video) or --clip")
    source.add_argument("--features", type=Path, help="features file holding the video")
    source.add_argument("--video", help="the video's name in the features file")
    source.add_argument("--clip", type=Path, help="a video file, featurised with the ensemble's recipe")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--member", metavar="K", help="explain member K (its number or name)")
    who.add_argument("--ensemble", action="store_true", help="explain the ensemble's vote (the default)")
    parser.add_argument("--target", metavar="CLASS", help="class to explain (default: the predicted one)")
    parser.add_argument("--method", choices=METHODS, default=OCCLUSION, help="default: %(default)s")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--saliency", type=Path, metavar="DIR", help="also write Grad-CAM PNGs per frame")
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--checkpoints", type=Path, nargs="+", help="explicit ensemble members (files)")
    parser.add_argument("--weights", type=Path, help="backbone weights file (torchvision backbones)")
    parser.add_argument("--overwrite", action="store_true", help="replace outputs this command did not write")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, captum and the backbone load only when the command runs, never for --help or a flag error.
    from core.commands import explain_run

    return explain_run.run(args)
