"""Build the demo afresh and quote its numbers: writes docs/demo_numbers.json (the build's recipe
and test scores) and the table between the demo-numbers markers in README.md and docs/demo.md.

    python bench/demo_numbers.py              # full build in a temporary folder
    python bench/demo_numbers.py --check      # the same build; exit 1 if the docs quote other numbers
    python bench/demo_numbers.py --root DIR   # quote a build already made with `python -m core demo`

Two builds with the same seed on the same machine are identical (same clips, features, checkpoints
and probabilities; torch runs on one thread during the build), so a fresh build reproduces the
quoted numbers exactly on the machine that made them; tests/test_readme.py checks, without building, that the
quoted tables are this file's rendering and that it was made with the current full-scale recipe.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.demo.bundle import MANIFEST_NAME, build_demo_bundle
from core.demo.numbers import numbers_from_manifest, numbers_table, quoted_block, with_block
from core.paths import ProjectPaths

REPO = Path(__file__).resolve().parent.parent
NUMBERS = REPO / "docs" / "demo_numbers.json"
QUOTING = (REPO / "README.md", REPO / "docs" / "demo.md")


def built_numbers(root: Path | None, seed: int) -> dict:
    if root is None:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            build_demo_bundle(folder, seed=seed)
            print(f"fresh full build in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            return built_numbers(Path(folder), seed)
    manifest = json.loads((ProjectPaths.at(root).demo_videos_dir / MANIFEST_NAME).read_text())
    return numbers_from_manifest(manifest)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, help="a finished demo build to quote (default: build one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="compare with the docs; write nothing")
    args = parser.parse_args()
    numbers = built_numbers(args.root, args.seed)
    table = numbers_table(numbers)
    print(table)
    if args.check:
        stale = [p.name for p in QUOTING if quoted_block(p.read_text()) != table]
        if json.loads(NUMBERS.read_text())["test_metrics"] != numbers["test_metrics"]:
            stale.append(NUMBERS.name)
        if stale:
            print(f"the build's numbers differ from those quoted in {', '.join(stale)}", file=sys.stderr)
            return 1
        return 0
    NUMBERS.write_text(json.dumps(numbers, indent=2) + "\n")
    for path in QUOTING:
        path.write_text(with_block(path.read_text(), table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
