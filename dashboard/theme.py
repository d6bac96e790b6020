"""One colour per class and per predictor, and number formats, identical on every page."""

from __future__ import annotations

from collections.abc import Sequence

from plotly.colors import qualitative

CLASS_COLORS: dict[str, str] = {
    "Animation": "#E45756",
    "Flat_Content": "#4C78A8",
    "Gaming": "#B279A2",
    "Natural_Content": "#54A24B",
}
_FALLBACK = ("#F58518", "#72B7B2", "#EECA3B", "#9D755D", "#BAB0AC")
PREDICTOR_COLORS: dict[str, str] = {"ensemble": "#1F1F1F", "ensemble_tta": "#F58518"}
# Members get clearly different hues (a colour-blind-safe qualitative palette), dark enough to
# show on white: four shades of one blue could not be told apart in a legend.
_MEMBER_COLORS = tuple(qualitative.Safe[i] for i in (4, 3, 1, 6, 5, 7, 8, 9))
# A collapsed member's line sits near zero, on the axis line: drawn thicker and dashed so it shows.
COLLAPSED_LINE = {"width": 4, "dash": "dash"}


def class_color(name: str, index: int = 0) -> str:
    return CLASS_COLORS.get(name, _FALLBACK[index % len(_FALLBACK)])


def class_color_map(class_names: Sequence[str]) -> dict[str, str]:
    return {name: class_color(name, i) for i, name in enumerate(class_names)}


def predictor_color_map(predictors: Sequence[str]) -> dict[str, str]:
    members = [p for p in predictors if p not in PREDICTOR_COLORS]
    colors = {p: _MEMBER_COLORS[i % len(_MEMBER_COLORS)] for i, p in enumerate(members)}
    colors.update({p: PREDICTOR_COLORS[p] for p in predictors if p in PREDICTOR_COLORS})
    return colors


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def pct_interval(low: float, high: float) -> str:
    return f"{low:.1f}–{high:.1f}%"


def short_name(predictor: str) -> str:
    """`best_ensemble_model_3` -> `Model 3`; ensemble names stay readable."""
    if predictor.startswith("best_ensemble_model_"):
        return "Model " + predictor.removeprefix("best_ensemble_model_")
    if predictor.startswith("candidate_") and "_seed" in predictor:
        member, seed = predictor.removeprefix("candidate_").split("_seed", 1)
        return f"Candidate {member} (seed {seed})"
    return {"ensemble": "Ensemble", "ensemble_tta": "Ensemble + TTA"}.get(predictor, predictor)


PERCENT_FORMAT = "%.1f%%"

# Entries a video select box lists at most; search or tables reach the rest of a large split.
MAX_PICKER_OPTIONS = 1000
