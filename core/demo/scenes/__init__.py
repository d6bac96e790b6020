"""Procedural demo scenes, one module per class; importing this package registers them all."""

from core.demo.scenes import animation, flat_content, gaming, natural_content
from core.demo.scenes.registry import (
    FAMILIES,
    FAMILY_SCENES,
    SCENES,
    Frames,
    Renderer,
    render_scene,
    renderer,
    scene,
    subcategories,
)  # fmt: skip

__all__ = [
    "FAMILIES", "FAMILY_SCENES", "SCENES", "Frames", "Renderer", "animation", "flat_content", "gaming",
    "natural_content", "render_scene", "renderer", "scene", "subcategories",
]  # fmt: skip
