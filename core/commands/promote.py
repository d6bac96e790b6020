"""`python -m core promote`: put a retrained candidate in place of its member, after showing what
it changes on the validation split; `--restore` undoes the latest promotion from its backups."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "promote",
        help="replace member K with a retrained candidate (checked on validation), or --restore it",
        description=(
            "Promote: the candidate's files are checked against the hashes it recorded, the ensemble "
            "with it is compared with the ensemble as it is on the validation split, and a candidate "
            "that makes accuracy or the member's weakest class's F1 fall is refused unless "
            "--accept-worse. The replaced files are kept as backups. Restore: puts the backups of the "
            "latest promotion back, refusing if any file changed since."
        ),
    )
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="the ensemble's folder")
    parser.add_argument("--member", type=int, required=True, help="the member K to replace or restore")
    parser.add_argument("--candidate", type=Path, help="the candidate's folder (the --out of retrain)")
    parser.add_argument(
        "--features",
        type=Path,
        default=Path("features_enhanced"),
        help="folder with val_features_multiscale.h5, the split the candidate is judged on",
    )
    parser.add_argument("--class", dest="class_name", help="the class whose F1 is reviewed (default: the "
                        "member's weakest on validation)")  # fmt: skip
    parser.add_argument(
        "--accept-worse",
        action="store_true",
        help="promote even when the candidate is worse on validation (or there is no validation split)",
    )
    parser.add_argument("--restore", action="store_true", help="undo the latest promotion of --member")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # torch and h5py load only when the command runs, never for --help or a flag error.
    from core.commands import promote_run

    return promote_run.run(args)
