"""Per-class accuracy of a built ensemble on real footage: a folder laid out as <class>/<clip>.

The demo trains on generated clips only; its own test split says little about real video. This
script classifies every clip of a real check set (never used for training or for tuning the
generators; see docs/demo.md for how ours was made) and prints the ensemble's per-class accuracy,
each member's, and every miss.

    python bench/real_check.py /work/realcheck/clips --models /tmp/demo/models_enhanced
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.classes import CLASS_NAMES
from core.commands.classify_run import classify_clip
from core.evaluation.clip_recipe import ensemble_recipe
from core.evaluation.runs import resolve_checkpoint_paths
from core.model.ensemble import load_ensemble

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov"}


def check_set(root: Path) -> list[tuple[str, Path]]:
    return [
        (name, clip)
        for name in CLASS_NAMES
        for clip in sorted((root / name).glob("*"))
        if clip.suffix.lower() in VIDEO_SUFFIXES
    ]


def accuracy_table(hits: dict[str, list[bool]]) -> dict[str, float]:
    table = {name: sum(h) / len(h) for name, h in hits.items() if h}
    table["overall"] = sum(sum(h) for h in hits.values()) / max(1, sum(len(h) for h in hits.values()))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder with one sub-folder of clips per class")
    parser.add_argument("--models", type=Path, default=Path("models_enhanced"), help="checkpoint folder")
    parser.add_argument("--tta", action="store_true", help="verdict from the ensemble with TTA")
    parser.add_argument("--json", type=Path, help="also write every clip's result here")
    args = parser.parse_args()
    args.weights, args.device = None, "cpu"

    clips = check_set(args.root)
    if not clips:
        parser.error(f"no clips under {args.root}/<class>/")
    paths, _ = resolve_checkpoint_paths(args.models, None)
    members = load_ensemble(paths, args.device, strict=True).members
    recipe = ensemble_recipe(members, Path("none"))

    ensemble_hits: dict[str, list[bool]] = defaultdict(list)
    member_hits: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    results = []
    for truth, clip in clips:
        result = classify_clip(clip, members, recipe, args)
        result["true_class"] = truth
        results.append(result)
        ensemble_hits[truth].append(result["predicted_class"] == truth)
        for member, probabilities in result["models"].items():
            member_hits[member][truth].append(max(probabilities, key=probabilities.get) == truth)
        if result["predicted_class"] != truth:
            print(f"miss {truth}/{clip.name}: {result['predicted_class']} {100 * result['confidence']:.0f}%")

    header = f"{'':12s}" + "".join(f"{name[:14]:>16s}" for name in [*CLASS_NAMES, "overall"])
    print(header)
    counts = {name: len(ensemble_hits[name]) for name in CLASS_NAMES}
    print(f"{'clips':12s}" + "".join(f"{counts[name]:>16d}" for name in CLASS_NAMES) + f"{len(clips):>16d}")
    rows = {"ensemble": accuracy_table(ensemble_hits)}
    rows.update({f"member {i}": accuracy_table(hits) for i, hits in enumerate(member_hits.values(), start=1)})
    for label, table in rows.items():
        print(
            f"{label[:12]:12s}"
            + "".join(f"{100 * table.get(n, 0):>15.0f}%" for n in [*CLASS_NAMES, "overall"])
        )
    if args.json:
        args.json.write_text(json.dumps({"accuracy": rows, "clips": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
