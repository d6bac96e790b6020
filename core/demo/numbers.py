"""The demo's numbers as the docs quote them, rendered from a build's manifest.

README.md and docs/demo.md hold the rendered table between two markers; `bench/demo_numbers.py`
builds the demo afresh and rewrites the table and `docs/demo_numbers.json` (the build's recipe and
test scores). A test checks that the quoted tables are that file's rendering and that the file
was made with the current full-scale recipe, so a recipe change fails until the numbers are
regenerated from a new build.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from core.classes import CLASS_NAMES

START_MARKER = "<!-- demo-numbers:start (bench/demo_numbers.py writes this table) -->"
END_MARKER = "<!-- demo-numbers:end -->"
COLLAPSED_NOTE = " (starved of Animation)"


def numbers_from_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What the docs quote from a build: its seed, scale (recipe, model, training) and test scores."""
    return {
        "seed": manifest["seed"],
        "scale": manifest["scale"],
        "videos": manifest["videos"],
        "test_metrics": manifest["test_metrics"],
    }


def read_numbers(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _label(name: str) -> str:
    if name.startswith("best_ensemble_model_"):
        number = name.removeprefix("best_ensemble_model_")
        return f"Model {number}" + (COLLAPSED_NOTE if number == "1" else "")
    return {"ensemble": "Ensemble", "ensemble_tta": "Ensemble + TTA"}.get(name, name)


def _percent(value: float) -> str:
    return f"{value:.1f}%"


def numbers_table(numbers: Mapping[str, Any], class_names: Sequence[str] = CLASS_NAMES) -> str:
    """The markdown table (and the collapse flag it implies) for a build's test scores."""
    metrics = numbers["test_metrics"]
    test_videos = numbers["videos"]["test"]
    lines = [
        f"| predictor ({test_videos} test videos, seed {numbers['seed']}) | accuracy | weighted F1 | "
        + " | ".join(f"F1 {c}" for c in class_names)
        + " |",
        "|---|---|---|" + "---|" * len(class_names),
    ]
    for name, scores in metrics.items():
        cells = [_percent(scores["accuracy"]), _percent(scores["f1_weighted"])]
        cells += [_percent(f1) for f1 in scores["f1_per_class"]]
        lines.append(f"| {_label(name)} | " + " | ".join(cells) + " |")
    members = [name for name in metrics if name.startswith("best_ensemble_model_")]
    if len(members) > 1:
        animation = [metrics[name]["f1_per_class"][0] for name in members]
        others = statistics.median(animation[1:])
        lines += [
            "",
            f"Model 1's Animation F1 is {_percent(animation[0])} against the others' median of "
            f"{_percent(others)}.",
        ]
    return "\n".join(lines)


def quoted_block(text: str) -> str | None:
    """The table between the markers in a document, or None when it has none."""
    if START_MARKER not in text or END_MARKER not in text:
        return None
    return text.split(START_MARKER, 1)[1].split(END_MARKER, 1)[0].strip("\n")


def with_block(text: str, block: str) -> str:
    """`text` with the table between its markers replaced by `block`."""
    if quoted_block(text) is None:
        raise ValueError("the document has no demo-numbers markers")
    before, rest = text.split(START_MARKER, 1)
    after = rest.split(END_MARKER, 1)[1]
    return f"{before}{START_MARKER}\n{block}\n{END_MARKER}{after}"
