"""The one registry of demo scenes: each renderer names its class and subcategory once, with
`@scene(...)`, and clip planning reads the subcategories from here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.classes import CLASS_NAMES

Frames = np.ndarray  # [F, H, W, 3] uint8 RGB
Renderer = Callable[[np.random.Generator, int, int, int], Frames]
"""(rng, num_frames, height, width) -> frames; everything random comes from rng."""

# Class order is fixed up front, so it never depends on which scene module is imported first.
SCENES: dict[str, dict[str, Renderer]] = {category: {} for category in CLASS_NAMES}


def scene(category: str, subcategory: str) -> Callable[[Renderer], Renderer]:
    """Register a renderer as `category/subcategory`; subcategories keep their definition order,
    which clip seeds and the round-robin plan depend on."""
    if category not in SCENES:
        raise ValueError(f"unknown class {category!r} for demo scene {subcategory!r}; known: {CLASS_NAMES}")
    taken = {sub: cat for cat, subs in SCENES.items() for sub in subs}
    if subcategory in taken:
        raise ValueError(f"demo scene {subcategory!r} is already registered under {taken[subcategory]}")

    def register(render: Renderer) -> Renderer:
        SCENES[category][subcategory] = render
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
