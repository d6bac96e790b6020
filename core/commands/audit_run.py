"""`python -m core audit`: near-duplicates (leaks), likely wrong labels and per-slice scores of the
feature files, written as one JSON document (docs/formats.md).

The work behind the command; `core.commands.audit` only parses its flags."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from core.audit.document import (
    AuditSources,
    audit_document,
    default_audit_path,
    planned_audit_output,
    write_audit,
)
from core.audit.predictions import UNAUGMENTED, split_probabilities
from core.audit.run import SplitProbabilities, run_audit
from core.audit.splits import AuditSplit, read_splits
from core.evaluation.runs import resolve_checkpoint_paths, usable_ensemble
from core.features.inventory import feature_files
from core.model.tta import TTA_MODES
from core.outputs import check_outputs
from core.paths import ProjectPaths, features_file_name


def chosen_feature_files(folder: Path, splits: str | None) -> list[Path]:
    """The files named by `splits`, or every features file in the folder."""
    if not splits:
        found = feature_files(folder)
        if not found:
            raise ValueError(f"{folder}: no features files; create them with `python -m core extract`")
        return found
    paths = [folder / features_file_name(name.strip()) for name in splits.split(",") if name.strip()]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise ValueError(f"{', '.join(missing)}: not found; drop the split from --splits or extract it")
    return paths


def check_threshold(threshold: float) -> None:
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"--threshold must be a cosine similarity in (0, 1], got {threshold}")


def run(args: argparse.Namespace) -> int:
    check_threshold(args.threshold)
    paths = chosen_feature_files(args.features, args.splits)
    checkpoints, warnings = resolve_checkpoint_paths(args.models, None)
    out = args.out or default_audit_path(ProjectPaths.at().runs_dir)
    check_outputs([planned_audit_output(out)], overwrite=args.overwrite, inputs=[*paths, *checkpoints])
    ensemble = usable_ensemble(checkpoints, args.device)
    warnings += ensemble.errors
    # The project is the features folder's parent as given: a link never makes another one ours.
    cache_dir = ProjectPaths(Path(os.path.abspath(args.features)).parent).cache_dir
    modes = TTA_MODES if args.tta else UNAUGMENTED
    with tqdm(total=len(paths), unit="file", desc="reading features", file=sys.stderr) as bar:
        reading = read_splits(
            paths, progress=lambda done, total: bar.set_postfix_str(f"{done}/{total} videos")
        )
        bar.update(len(paths))

    def probabilities_of(split: AuditSplit) -> SplitProbabilities:
        with tqdm(
            total=0, unit="seq", desc=f"predicting {split.split}", file=sys.stderr, position=1, leave=False
        ) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            return split_probabilities(ensemble.members, split, cache_dir, modes, args.batch_size, progress)

    with tqdm(total=100, unit="%", desc="auditing", file=sys.stderr) as bar:

        def stage(name: str, fraction: float) -> None:
            bar.set_description(name)
            bar.update(round(100 * fraction) - bar.n)

        findings = run_audit(reading, ensemble.names, probabilities_of, args.threshold, stage)
    sources = AuditSources(
        {split.split: split.path for split in reading.splits}, ensemble.paths, ensemble.names, args.threshold
    )
    write_audit(audit_document(findings, sources), out)
    for line in [*warnings, *findings.problems]:
        print(f"warning: {line}", file=sys.stderr)
    leaks = sum(not pair["within_split"] for pair in findings.near_duplicates)
    print(f"near-duplicates: {len(findings.near_duplicates)} pair(s), {leaks} across splits")
    print(f"likely wrong labels (test/val): {len(findings.label_issues)}")
    print(f"slices: {len(findings.slices)} (split x class x subcategory x predictor)")
    print(f"wrote {out}")
    return 0
