"""`python -m core demo`: build the demo clips, features, ensemble and evaluation run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.demo.scales import SCALES


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="generate demo videos, extract features, train and evaluate a small 4-model ensemble"
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="project root to write into")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same artifacts")
    parser.add_argument("--scale", choices=tuple(SCALES), default="full", help="'ci' is a tiny, fast build")
    parser.add_argument("--overwrite", action="store_true", help="replace artifacts already in the root")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch, OpenCV and the backbone load only when the command runs, never for --help or a flag error.
    from tqdm import tqdm

    from core.demo.bundle import build_demo_bundle

    with tqdm(
        total=1000, desc="demo", unit="‰", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}"
    ) as bar:

        def progress(text: str, fraction: float) -> None:
            bar.set_description_str(text[:100])
            bar.update(round(fraction * 1000) - bar.n)

        report = build_demo_bundle(
            args.root, seed=args.seed, scale=args.scale, overwrite=args.overwrite, device=args.device,
            progress=progress,
        )  # fmt: skip
    stages = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report.stage_seconds.items())
    print(f"demo built in {report.total_seconds:.1f}s ({stages})")
    print(f"videos: {report.videos}")
    for name, metrics in report.test_metrics.items():
        print(
            f"{name:24s} test accuracy {metrics['accuracy']:5.1f}%  "
            f"weighted F1 {metrics['f1_weighted']:5.1f}%"
        )
    for name, reason in report.skipped_videos:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(f"evaluation run: {report.run_path}")
    return 0
