"""`python -m core promote`: the work behind the command; `core.commands.promote` only parses its
flags."""

from __future__ import annotations

import argparse

from core.paths import checkpoint_file_name, features_file_name
from core.training.candidate_checks import check_candidate_files, read_provenance
from core.training.member import TrainingError
from core.training.promote import promote_candidate, restore_member
from core.training.promotion_review import check_accepted, review_candidate


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
