"""The one registry of demo scenes: each renderer names its class and subcategory once, with
`@scene(...)`, and clip planning reads the subcategories from here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.classes import CLASS_NAMES

Frames = np.ndarray  # [F, H, W, 3] uint8 RGB
Renderer = Callable[..., Frames]
"""(rng, num_frames, height, width) -> frames, plus `family=` for a scene split by family;
everything random comes from rng."""
FAMILIES = 3
"""Scene families of a subcategory registered with `families=True`: one per split (train, val,
test), each a look of its own (colours, type size, scale), so no split shows another's family."""

# Class order is fixed up front, so it never depends on which scene module is imported first.
SCENES: dict[str, dict[str, Renderer]] = {category: {} for category in CLASS_NAMES}
FAMILY_SCENES: set[tuple[str, str]] = set()


def scene(category: str, subcategory: str, *, families: bool = False) -> Callable[[Renderer], Renderer]:
    """Register a renderer as `category/subcategory`; subcategories keep their definition order,
    which clip seeds and the round-robin plan depend on. `families=True`: the renderer takes
    `family=` (0..FAMILIES-1), for scenes whose clips are alike enough to be near-copies of each
    other in feature space unless the splits draw them from different families."""
    if category not in SCENES:
        raise ValueError(f"unknown class {category!r} for demo scene {subcategory!r}; known: {CLASS_NAMES}")
    taken = {sub: cat for cat, subs in SCENES.items() for sub in subs}
    if subcategory in taken:
        raise ValueError(f"demo scene {subcategory!r} is already registered under {taken[subcategory]}")

    def register(render: Renderer) -> Renderer:
        SCENES[category][subcategory] = render
        if families:
            FAMILY_SCENES.add((category, subcategory))
        return render

    return register


def subcategories() -> dict[str, tuple[str, ...]]:
    """Registered subcategories per class, in class order then definition order."""
    return {category: tuple(subs) for category, subs in SCENES.items()}


def renderer(category: str, subcategory: str) -> Renderer:
    """The scene's renderer, or a ValueError listing every known `class/subcategory`."""
    try:
        return SCENES[category][subcategory]
    except KeyError:
        known = ", ".join(f"{c}/{s}" for c, subs in SCENES.items() for s in subs)
        raise ValueError(f"unknown demo subcategory {category}/{subcategory}; known: {known}") from None


def render_scene(
    category: str, subcategory: str, rng: np.random.Generator, n: int, h: int, w: int, family: int
) -> Frames:
    """The scene's frames; `family` picks the look of a scene split by family and is ignored by
    the others (their clips differ enough from seed to seed)."""
    render = renderer(category, subcategory)
    if (category, subcategory) in FAMILY_SCENES:
        return render(rng, n, h, w, family=family % FAMILIES)
    return render(rng, n, h, w)
