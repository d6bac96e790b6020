"""The four content classes, in the index order the original checkpoints were trained on."""

from __future__ import annotations

CLASS_NAMES: tuple[str, ...] = ("Animation", "Flat_Content", "Gaming", "Natural_Content")


def class_index(name: str, class_names: tuple[str, ...] | list[str] = CLASS_NAMES) -> int:
    """Index of a class name; raises ValueError naming the known classes."""
    try:
        return list(class_names).index(name)
    except ValueError:
        raise ValueError(f"unknown class {name!r}; known classes: {', '.join(class_names)}") from None
