"""The sentences of the explanation panel, each saying only what the numbers beside it support:
faithfulness against every random order, attention against uniform, methods that rank alike,
how the deletion curves of a long clip were measured, and how to read Grad-CAM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from core.explain.deletion import RANDOM_ORDERS
from core.explain.explanation import Explanation, curve_note, faithful_methods
from core.explain.reading import (
    ABOVE_UNIFORM,
    RANKS_ALIKE,
    Agreement,
    FavouredFrame,
)
from core.explain.saliency import COLORMAP_NAME, FLAT_SHARE, SaliencyMaps
from core.explain.temporal import ATTENTION, INTEGRATED_GRADIENTS, OCCLUSION

METHOD_NAMES: dict[str, str] = {
    OCCLUSION: "occlusion",
    INTEGRATED_GRADIENTS: "integrated gradients",
    ATTENTION: "attention",
}
NOTHING_STANDS_OUT = "no time step matters much on its own for this clip"
FAITHFUL_RULE = (
    f"The rule: a method counts as faithful on this clip only when its area is below the area of every "
    f"one of the {RANDOM_ORDERS} random orders (a ranking no better than chance passes about once in "
    f"{RANDOM_ORDERS + 1} clips)."
)
LINEAR_REASON = (
    "for a model this close to linear in each step, occlusion against the mean of the other steps and "
    "integrated gradients from it agree"
)


# Four decimals: areas a faithful method beats by less than 0.001 must not print as equal.
def random_spread(explanation: Explanation) -> str:
    areas = explanation.random_deletion_areas
    return f"{areas.min():.4f}–{areas.max():.4f}"


def faithfulness_sentence(
    explained: Mapping[str, Explanation], agreements: Sequence[Agreement], who: str, class_name: str
) -> str:
    """Names a most faithful method only among the faithful ones; says that no step matters much
    on its own when none is."""
    faithful = faithful_methods(list(explained.values()))
    spread = random_spread(next(iter(explained.values())))
    if not faithful:
        return (
            f"No method's area is below every random order's ({spread}) for {who} on this video, so "
            f"{NOTHING_STANDS_OUT}: removing the steps any method ranks highest lowers p({class_name}) no "
            "faster than removing steps at random. Read the bars above as small effects, not as the frames "
            "the verdict rests on."
        )
    best = faithful[0]
    alike = {a.first for a in agreements if a.second == best.method} | {
        a.second for a in agreements if a.first == best.method
    }
    tied = [e for e in faithful[1:] if e.method in alike]
    names = " and ".join(METHOD_NAMES[e.method] for e in [best, *tied])
    areas = " and ".join(f"{e.deletion_area:.4f}" for e in [best, *tied])
    sentence = (
        f"Most faithful for {who} on this video: **{names}**"
        f"{' (they rank the steps alike)' if tied else ''}. Removing the steps ranked highest lowers "
        f"p({class_name}) sooner than any random order: area {areas} against {spread}."
    )
    others = [e for e in faithful[1:] if e not in tied]
    if others:
        listed = ", ".join(f"{METHOD_NAMES[e.method]} ({e.deletion_area:.4f})" for e in others)
        sentence += f" Faithful too: {listed}."
    return sentence


def agreement_sentence(agreement: Agreement) -> str:
    first, second = METHOD_NAMES[agreement.first], METHOD_NAMES[agreement.second]
    said = (
        f"{first.capitalize()} and {second} rank the steps alike on this clip (Spearman "
        f"{agreement.spearman:.3f}, at least {RANKS_ALIKE})"
    )
    if {agreement.first, agreement.second} == {OCCLUSION, INTEGRATED_GRADIENTS}:
        return f"{said}: {LINEAR_REASON}, so the deletion chart draws them as one line."
    return f"{said}."


def attention_sentence(favoured: Sequence[FavouredFrame], steps: int, unit: str) -> str:
    """Attention read against uniform: names only frames above it, with how far above."""
    uniform = f"every step 1/{steps} = {100 / steps:.1f}%"
    if not favoured:
        return (
            f"Attention against uniform ({uniform}): no {unit} gets {ABOVE_UNIFORM}x its uniform share or "
            f"more, so the pooling singles out no {unit} on this clip."
        )
    listed = ", ".join(f"{unit} {f.index} ({f.times_uniform:.1f}x uniform)" for f in favoured)
    return f"Attention against uniform ({uniform}): the pooling weighted above it {listed}."


def curve_sentence(explanation: Explanation) -> str:
    note = curve_note(explanation)
    return f"Bounded cost: {note}." if note else ""


def grad_cam_reading(maps: SaliencyMaps, class_name: str, who: str) -> str:
    flat = int(np.count_nonzero(maps.flat))
    sentence = (
        f"Grad-CAM on the backbone's last convolution, towards {class_name} for {who}. One {COLORMAP_NAME} "
        f"scale for every frame of this clip, from 0 (black) to {maps.peak:.3g} (pale yellow), the largest "
        f"value on any shown frame: brighter regions raised p({class_name}) more, and brightness compares "
        "across frames, so a frame that stays dark contributed little."
    )
    if flat:
        sentence += (
            f" {flat} frame{'s are' if flat > 1 else ' is'} marked flat: no region stands out (the map spans "
            f"under {FLAT_SHARE:.0%} of the scale), so its even tint is its level, not a hot spot."
        )
    return sentence
