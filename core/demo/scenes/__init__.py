"""Procedural demo scenes, one module per class; importing this package registers them all."""

from core.demo.scenes import animation, flat_content, gaming, natural_content
from core.demo.scenes.registry import SCENES, Frames, Renderer, renderer, scene, subcategories

__all__ = [
    "SCENES", "Frames", "Renderer", "animation", "flat_content", "gaming", "natural_content", "renderer",
    "scene", "subcategories",
]  # fmt: skip
