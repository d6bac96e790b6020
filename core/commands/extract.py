"""`python -m core extract`: featurise a labelled video folder into a feature file (docs/formats.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tqdm import tqdm

from core.classes import CLASS_NAMES
from core.commands.weights import fetch_weights
from core.features.backbones import BACKBONES, NORMALIZATIONS, backbone_spec
from core.features.extraction import (
    DEFAULT_BATCH_SIZE,
    ExtractionOptions,
    ExtractionProgress,
    ExtractionReport,
    extract_directory,
)
from core.features.recipe import DEFAULT_SCALES, FeatureRecipe
from core.features.writer import is_written_features_file
from core.outputs import PlannedOutput, check_outputs

EXIT_SKIPPED = 1


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
    parser.add_argument("--backbone", choices=sorted(BACKBONES), default="efficientnet_lite0")
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
        "--overwrite", action="store_true", help="replace OUT even when it is not a feature file this tool wrote"
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


def recipe_from_args(args: argparse.Namespace) -> FeatureRecipe:
    spec = backbone_spec(args.backbone)
    return FeatureRecipe(
        backbone=spec.name,
        num_frames=args.frames,
        image_size=args.image_size,
        scales=tuple(args.scales),
        normalization=args.normalization or spec.normalization,
        feature_dim=spec.feature_dim,
    )


def print_report(report: ExtractionReport) -> None:
    if report.already_present:
        print(f"{report.already_present} video(s) were already in {report.out_path} (resumed)")
    print(f"wrote {report.written} video(s) to {report.out_path}")
    if report.skipped:
        print(f"skipped {len(report.skipped)} file(s):", file=sys.stderr)
        for name, reason in report.skipped:
            print(f"  {name}: {reason}", file=sys.stderr)


def ray_engine(args: argparse.Namespace) -> Callable[..., ExtractionReport]:
    """`extract_directory_ray` bound to the cluster flags; Ray is imported only here."""
    try:
        from core.features.ray_engine import DEFAULT_SHARD_VIDEOS, RayOptions, extract_directory_ray
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "ray":
            raise
        raise ValueError("--engine ray needs Ray: pip install -r requirements-ray.txt") from None
    cluster = RayOptions(
        address=args.address,
        actors=args.actors,
        shard_videos=args.shard_videos or DEFAULT_SHARD_VIDEOS,
        shard_dir=args.shards,
    )
    return partial(extract_directory_ray, cluster=cluster)


def check_extraction_output(args: argparse.Namespace) -> bool:
    """Refuse an OUT that is someone else's file; returns whether OUT can be resumed."""
    planned = PlannedOutput(args.out, "feature file", is_written_features_file)
    check_outputs([planned], overwrite=args.overwrite)
    return not args.no_resume and is_written_features_file(args.out)


def run(args: argparse.Namespace) -> int:
    recipe = recipe_from_args(args)
    resume = check_extraction_output(args)
    fetch_weights(recipe.backbone, args.weights)
    with tqdm(total=0, unit="video", desc="extracting", file=sys.stderr) as bar:

        def progress(update: ExtractionProgress) -> None:
            bar.total = update.total
            bar.set_postfix_str(
                f"{update.videos_per_s:.2f} videos/s, ETA {update.eta_s:.0f}s, {update.current}"
            )
            bar.update(update.done - bar.n)

        engine = extract_directory if args.engine == "local" else ray_engine(args)
        options = ExtractionOptions(
            recipe=recipe,
            class_names=args.classes,
            weights=args.weights,
            batch_size=args.batch_size,
            device=args.device,
            resume=resume,
        )
        report = engine(args.videos, args.out, options, progress=progress)
    print_report(report)
    return EXIT_SKIPPED if report.skipped else 0
