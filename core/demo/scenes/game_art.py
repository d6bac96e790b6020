"""Game art shared by the Gaming scenes: HUDs, tiles, wall textures, painted backdrops, pixel-art
sprites and glossy puzzle pieces, all drawn procedurally."""

from __future__ import annotations

import cv2
import numpy as np

import core.demo.scenes.drawing as draw

HUD_SHARE = 0.7
"""Share of gameplay clips drawn with their HUD: many games show little or none, so on-screen
scores must not be the only thing that tells a game from a cartoon."""


def shows_hud(rng: np.random.Generator) -> bool:
    return bool(rng.random() < HUD_SHARE)


def hud(img: np.ndarray, rng_state: tuple[float, int], *, minimap: np.ndarray | None = None) -> None:
    health, score = rng_state
    h, w = img.shape[:2]
    cv2.rectangle(img, (4, 4), (54, 10), (60, 0, 0), -1)
    cv2.rectangle(img, (4, 4), (4 + int(50 * health), 10), (230, 40, 40), -1)
    cv2.rectangle(img, (4, 4), (54, 10), (255, 255, 255), 1)
    draw.put_text(img, f"SCORE {score:06d}", (w - 92, 11), 0.8, (255, 255, 80), draw.MONO_FONT)
    if minimap is not None:
        mh, mw = minimap.shape[:2]
        img[h - mh - 4 : h - 4, w - mw - 4 : w - 4] = minimap
        cv2.rectangle(img, (w - mw - 5, h - mh - 5), (w - 4, h - 4), (255, 255, 255), 1)


def tile(size: int, color, rng: np.random.Generator, pattern: str) -> np.ndarray:
    tile = np.full((size, size, 3), color, dtype=np.uint8)
    darker = tuple(int(c * 0.6) for c in color)
    if pattern == "brick":
        for y in range(0, size, size // 2):
            cv2.line(tile, (0, y), (size, y), darker, 1)
            offset = size // 2 if (y // (size // 2)) % 2 else 0
            cv2.line(tile, (offset, y), (offset, y + size // 2), darker, 1)
    elif pattern == "speckle":
        dots = rng.integers(0, size, size=(size, 2))
        tile[dots[:, 0], dots[:, 1]] = darker
    cv2.rectangle(tile, (0, 0), (size - 1, size - 1), darker, 1)
    return tile


def wall_texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A game wall texture: stone blocks with mortar and grain, or riveted metal panels."""
    base = np.float32(draw.random_color(rng, 70, 200))
    grain = 0.75 + 0.5 * draw.fbm(rng, size, size, base=8, octaves=3)[..., None]
    img = np.clip(base * grain, 0, 255).astype(np.uint8)
    dark = tuple(int(c * 0.45) for c in base)
    step = size // int(rng.integers(2, 5))
    if rng.random() < 0.5:
        for y in range(0, size, step):
            cv2.line(img, (0, y), (size, y), dark, 2)
            offset = step // 2 if (y // step) % 2 else 0
            for x in range(offset, size, step):
                cv2.line(img, (x, y), (x, y + step), dark, 2)
    else:
        for y in range(0, size, step):
            for x in range(0, size, step):
                cv2.rectangle(img, (x + 1, y + 1), (x + step - 2, y + step - 2), dark, 1)
                cv2.circle(img, (x + 3, y + 3), 1, (230, 230, 230), -1)
    return img


def mountain_backdrop(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A painted game sky: a gradient, flat clouds and two or three flat-coloured mountain ranges."""
    img = draw.gradient(h, w, draw.saturated(rng, 230), draw.saturated(rng, 250)).copy()
    for _ in range(int(rng.integers(2, 6))):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(4, max(h // 2, 5))), int(rng.integers(6, 14))
        cv2.ellipse(img, (x, y), (r * 2, r // 2 + 2), 0, 0, 360, (250, 250, 250), -1, cv2.LINE_AA)
    for layer in range(int(rng.integers(2, 4))):
        ridge = draw.fbm(rng, 1, w, base=int(rng.integers(3, 8)), octaves=3)[0]
        tops = (h * (0.35 + 0.15 * layer) + ridge * h * 0.4).astype(int)
        color = tuple(int(c * (0.9 - 0.2 * layer)) for c in draw.saturated(rng, 200))
        for x, top in enumerate(tops):
            img[min(top, h - 1) :, x] = color
    return img


def pixel_sprite(rng: np.random.Generator, cells: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A random mirror-symmetric pixel-art sprite (cells x cells), outlined, as (colours, mask)."""
    half = rng.random((cells, (cells + 1) // 2)) < 0.5
    mask = np.concatenate([half, half[:, ::-1][:, cells % 2 :]], 1)
    palette = np.array([draw.saturated(rng, 240), draw.saturated(rng, 170), (255, 255, 255)], np.uint8)
    colors = palette[rng.integers(0, 3, size=mask.shape) * (rng.random(mask.shape) < 0.3)]
    padded = np.pad(mask, 1)
    outline = cv2.dilate(padded.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~padded
    out = np.zeros((*padded.shape, 3), np.uint8)
    out[1:-1, 1:-1] = colors
    return out, padded | outline


def blit_sprite(img: np.ndarray, sprite: tuple[np.ndarray, np.ndarray], x: int, y: int, scale: int) -> None:
    """Draw a pixel sprite with its top-left corner at (x, y), each cell `scale` pixels wide."""
    colors = np.repeat(np.repeat(sprite[0], scale, 0), scale, 1)
    mask = np.repeat(np.repeat(sprite[1], scale, 0), scale, 1)
    h, w = img.shape[:2]
    y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + mask.shape[0], h), min(x + mask.shape[1], w)
    if y1 <= y0 or x1 <= x0:
        return
    region, cut = img[y0:y1, x0:x1], mask[y0 - y : y1 - y, x0 - x : x1 - x]
    region[cut] = colors[y0 - y : y1 - y, x0 - x : x1 - x][cut]


def glossy_ball(img: np.ndarray, x: float, y: float, r: float, color) -> None:
    """A shiny game ball or gem: a filled disc, a darker rim and a white highlight."""
    centre = (int(x), int(y))
    cv2.circle(img, centre, int(r), tuple(int(c * 0.55) for c in color), -1, cv2.LINE_AA)
    cv2.circle(img, centre, max(int(r * 0.8), 1), color, -1, cv2.LINE_AA)
    cv2.circle(
        img, (int(x - r * 0.3), int(y - r * 0.3)), max(int(r * 0.25), 1), (255, 255, 255), -1, cv2.LINE_AA
    )


CURSOR = (
    np.full((7, 7, 3), 255, np.uint8),
    np.tri(7, 7, 0, bool) & np.tri(7, 7, 0, bool)[::-1],
)
