"""`python -m core promote`: put a retrained candidate in place of its member, after showing what
it changes on the validation split; `--restore` undoes the latest promotion from its backups."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.paths import checkpoint_file_name, features_file_name
from core.training.candidate_checks import check_candidate_files, read_provenance
from core.training.member import TrainingError
from core.training.promote import promote_candidate, restore_member
from core.training.promotion_review import check_accepted, review_candidate


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


def _restore(args: argparse.Namespace) -> int:
    restoration = restore_member(args.models, args.member)
    record = restoration.record
    print(f"restored member {args.member} of {args.models} as it was before {record.promoted_utc}:")
    for path in restoration.restored:
        print(f"  {path.name} <- {record.backups[path.name]['name']} (the backup is consumed)")
    return 0


def _review(args: argparse.Namespace, member: int) -> None:
    validation = args.features / features_file_name("val")
    if not validation.is_file():
        if not args.accept_worse:
            raise TrainingError(
                f"{validation}: no validation split to judge the candidate on; nothing was changed "
                "(pass --accept-worse to promote it unchecked)"
            )
        print(f"{validation} is missing: promoting unchecked (--accept-worse)")
        return
    checkpoint = args.candidate / checkpoint_file_name(member)
    review = review_candidate(
        args.models, member, checkpoint, validation, class_name=args.class_name, device=args.device
    )
    print("\n".join(review.lines()))
    check_accepted(review, args.accept_worse)
    if review.worse:
        print("promoting although " + "; ".join(review.worse) + " (--accept-worse)")


def run(args: argparse.Namespace) -> int:
    if args.restore:
        return _restore(args)
    if args.candidate is None:
        raise TrainingError("--candidate DIR is required to promote (or pass --restore to undo a promotion)")
    provenance = read_provenance(args.candidate)
    if provenance["member"] != args.member:
        raise TrainingError(
            f"{args.candidate}: the candidate replaces member {provenance['member']}, not {args.member}"
        )
    check_candidate_files(args.candidate, provenance)
    _review(args, args.member)
    promotion = promote_candidate(args.candidate, args.models)
    print(f"promoted {args.candidate} as {promotion.installed}")
    print("kept the replaced files as " + ", ".join(p.name for p in promotion.backups))
    print(f"undo with: python -m core promote --models {args.models} --member {args.member} --restore")
    return 0
