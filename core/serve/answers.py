"""The JSON a classification answers with: the verdict, every predictor's class probabilities
(fractions), and where they came from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.features.recipe import FeatureRecipe
from core.model.inference import ENSEMBLE, ENSEMBLE_TTA, predictor_probabilities, tta_predictor_name
from core.serve.engine import modes_for


def by_class(probabilities: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    return {name: float(p) for name, p in zip(class_names, probabilities, strict=True)}


def chosen_members(requested: Sequence[str] | None, member_names: Sequence[str]) -> list[str]:
    """The members a request names (all when it names none); raises ValueError naming the unknown."""
    if requested is None:
        return list(member_names)
    unknown = [name for name in requested if name not in member_names]
    if unknown or not requested or len(set(requested)) != len(requested):
        raise ValueError(
            f"members must be distinct names from {', '.join(member_names)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return list(requested)


def classify_answer(
    probabilities: np.ndarray,
    *,
    member_names: Sequence[str],
    chosen: Sequence[str],
    tta: bool,
    class_names: Sequence[str],
    true_label: int | None,
    recipe: FeatureRecipe | None,
    fingerprint: str,
    timing: dict[str, float],
) -> dict[str, Any]:
    """`probabilities` [members, modes, classes] for `modes_for(tta)`, reduced over the chosen
    members exactly as `python -m core classify` and the Classify page reduce them."""
    modes = modes_for(tta)
    predictors = predictor_probabilities(
        probabilities, member_names, modes, members=chosen, tta=tta, per_mode=True
    )
    source = ENSEMBLE_TTA if tta else ENSEMBLE
    verdict = predictors[source]
    answer: dict[str, Any] = {
        "class": class_names[int(np.argmax(verdict))],
        "confidence": float(np.max(verdict)),
        "verdict_from": source,
        "probabilities": by_class(verdict, class_names),
        "ensemble": by_class(predictors[ENSEMBLE], class_names),
    }
    if tta:
        answer["ensemble_tta"] = by_class(predictors[ENSEMBLE_TTA], class_names)
        answer["tta_modes"] = {m: by_class(predictors[tta_predictor_name(m)], class_names) for m in modes}
    answer["members"] = {name: by_class(predictors[name], class_names) for name in chosen}
    if true_label is not None:
        answer["true_class"] = class_names[true_label]
    answer["recipe"] = None if recipe is None else recipe.to_dict()
    answer["models"] = fingerprint
    answer["timing"] = {key: round(value, 4) for key, value in timing.items()}
    return answer
