"""Flat_Content: screen recordings of slides, documents and code, spreadsheets, terminals and app windows."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

import core.demo.scenes.drawing as draw
from core.demo.scenes.registry import Frames, scene


def _hold_and_cut(rng: np.random.Generator, n: int, make: Callable[[], np.ndarray]) -> Frames:
    """Static screens that cut to a new one every so often, as screen recordings do."""
    frames, screen, remaining = [], make(), int(rng.integers(6, 14))
    for _ in range(n):
        if remaining == 0:
            screen, remaining = make(), int(rng.integers(6, 14))
        frames.append(screen)
        remaining -= 1
    return np.stack(frames)


@scene("Flat_Content", "slides")
def render_slides(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    background, accent, ink = (
        draw.random_color(rng, 225, 256),
        draw.saturated(rng, 180),
        draw.random_color(rng, 0, 70),
    )
    font = draw.FONTS[int(rng.integers(0, len(draw.FONTS)))]
    with_photos = rng.random() < 0.5

    def slide() -> np.ndarray:
        img = np.full((h, w, 3), background, dtype=np.uint8)
        cv2.rectangle(img, (0, 0), (w, int(h * 0.2)), accent, -1)
        draw.put_text(img, draw.words(rng, 2).title(), (8, int(h * 0.14)), 0.5, (255, 255, 255), font, 1)
        y = int(h * 0.32)
        for _ in range(int(rng.integers(2, 6))):
            cv2.circle(img, (12, y - 3), 2, accent, -1)
            draw.put_text(img, draw.words(rng, int(rng.integers(2, 5))), (20, y), 0.3, ink, font)
            y += int(rng.integers(14, 20))
        if with_photos:
            img[int(h * 0.26) : h - 12, w // 2 : w - 8] = draw.photo_patch(
                rng, h - 12 - int(h * 0.26), w // 2 - 8
            )
        elif rng.random() < 0.5:
            x0 = int(w * 0.62)
            for k, height in enumerate(rng.uniform(0.1, 0.45, size=4)):
                cv2.rectangle(
                    img, (x0 + k * 14, h - 14 - int(h * height)), (x0 + k * 14 + 10, h - 14), accent, -1
                )
        draw.put_text(img, str(int(rng.integers(1, 40))), (w - 16, h - 5), 0.3, ink, font)
        return img

    return _hold_and_cut(rng, n, slide)


# Per family (split): (dark editor background, light page colour, code font scale, line pitch).
_DOCUMENT_LOOKS = (
    ((30, 32, 40), (250, 250, 248), 0.7, (9, 12)),
    ((0, 43, 54), (244, 236, 216), 0.95, (12, 15)),
    ((40, 42, 54), (228, 230, 235), 0.55, (7, 9)),
)


@scene("Flat_Content", "documents_code", families=True)
def render_documents_code(rng: np.random.Generator, n: int, h: int, w: int, *, family: int) -> Frames:
    editor, paper, code_scale, pitch = _DOCUMENT_LOOKS[family]
    dark = rng.random() < 0.5
    page_h = h * 4
    page = np.full((page_h, w, 3), editor if dark else paper, dtype=np.uint8)
    palette = (
        [draw.saturated(rng, 240) for _ in range(4)] if dark else [(20, 20, 20), (40, 40, 120), (120, 30, 30)]
    )
    gutter = 22 if dark else 10
    y, line = 10, 1
    while y < page_h - 4:
        if dark:
            draw.put_text(page, f"{line:3d}", (1, y), code_scale, (110, 110, 120), draw.MONO_FONT)
        x = gutter + (int(rng.integers(0, 4)) * 8 if dark else 0)
        for _ in range(int(rng.integers(1, 6))):
            token = draw.words(rng, 1, 2, 8)
            color = palette[int(rng.integers(0, len(palette)))]
            draw.put_text(
                page, token, (x, y), code_scale if dark else code_scale * 0.43, color,
                draw.MONO_FONT if dark else draw.FONTS[0],
            )  # fmt: skip
            x += int(11 * code_scale * len(token)) + 4
        y += int(rng.integers(*pitch)) + (8 if rng.random() < 0.12 else 0)
        line += 1
    speed = rng.uniform(1.5, 6)
    offsets = np.minimum((np.arange(n) * speed).astype(int), page_h - h)
    return np.stack([page[o : o + h] for o in offsets])


@scene("Flat_Content", "spreadsheets_charts")
def render_spreadsheets_charts(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    header = draw.saturated(rng, 200)

    def sheet() -> np.ndarray:
        img = np.full((h, w, 3), 255, dtype=np.uint8)
        cell_w, cell_h = int(rng.integers(26, 40)), 11
        cv2.rectangle(img, (0, 0), (w, cell_h), header, -1)
        for x in range(0, w, cell_w):
            cv2.line(img, (x, 0), (x, h), (200, 200, 200), 1)
        for y in range(0, h, cell_h):
            cv2.line(img, (0, y), (w, y), (200, 200, 200), 1)
            for x in range(0, w, cell_w):
                if y > 0 and rng.random() < 0.7:
                    draw.put_text(
                        img, f"{rng.uniform(0, 999):.1f}", (x + 2, y + 9), 0.26, (30, 30, 30), draw.FONTS[0]
                    )
        if rng.random() < 0.6:
            x0, y0, cw, ch = w // 2, h // 3, w // 2 - 6, h // 2
            cv2.rectangle(img, (x0, y0), (x0 + cw, y0 + ch), (255, 255, 255), -1)
            cv2.rectangle(img, (x0, y0), (x0 + cw, y0 + ch), (120, 120, 120), 1)
            values = rng.uniform(0.1, 0.9, size=6)
            if rng.random() < 0.5:
                for k, v in enumerate(values):
                    bx = x0 + 4 + k * (cw - 8) // 6
                    cv2.rectangle(img, (bx, y0 + ch - int(v * ch)), (bx + 8, y0 + ch - 2), header, -1)
            else:
                pts = np.stack([x0 + 4 + np.arange(6) * (cw - 8) / 5, y0 + ch - values * ch], 1).astype(
                    np.int32
                )
                cv2.polylines(img, [pts], False, header, 2, cv2.LINE_AA)
        return img

    return _hold_and_cut(rng, n, sheet)


def _terminal_colors(rng: np.random.Generator, family: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(background, ink) of a terminal theme: dark consoles, blue shells, light terminals."""
    if family == 0:
        ink = (
            (int(rng.integers(150, 256)), 255, int(rng.integers(150, 256)))
            if rng.random() < 0.5
            else (220,) * 3
        )
        return (int(rng.integers(0, 30)),) * 3, ink
    if family == 1:
        return (int(rng.integers(0, 30)), int(rng.integers(30, 60)), int(rng.integers(80, 120))), (
            240,
            240,
            200,
        )
    return (int(rng.integers(235, 256)),) * 3, (int(rng.integers(0, 60)),) * 3


# Per family (split): font scale and line pitch of the terminal's text.
_TERMINAL_TYPE = ((0.75, 11), (1.0, 14), (0.6, 9))


@scene("Flat_Content", "terminal", families=True)
def render_terminal(rng: np.random.Generator, n: int, h: int, w: int, *, family: int) -> Frames:
    background, ink = _terminal_colors(rng, family)
    scale, pitch = _TERMINAL_TYPE[family]
    lines: list[str] = []
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    rows = h // pitch
    for i in range(n):
        for _ in range(int(rng.poisson(0.8))):
            prefix = "$ " if rng.random() < 0.3 else ""
            lines.append(prefix + draw.words(rng, int(rng.integers(1, 5)), 2, 7))
        img = np.full((h, w, 3), background, dtype=np.uint8)
        shown = lines[-rows:]
        for row, text in enumerate(shown):
            draw.put_text(img, text, (3, pitch - 1 + row * pitch), scale, ink, draw.MONO_FONT)
        if i % 4 < 2:
            y = 2 + len(shown) * pitch
            cv2.rectangle(
                img, (3, min(y, h - 10)), (3 + int(6 * scale / 0.75), min(y + pitch - 3, h - 2)), ink, -1
            )
        frames[i] = img
    return frames


@scene("Flat_Content", "app_windows")
def render_app_windows(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    desktop = draw.gradient(h, w, draw.saturated(rng, 200), draw.saturated(rng, 120))
    chrome, panel = draw.random_color(rng, 200, 240), draw.random_color(rng, 230, 256)
    image_viewer = rng.random() < 0.5

    def window() -> np.ndarray:
        img = desktop.copy()
        x0, y0 = int(rng.integers(0, 20)), int(rng.integers(0, 16))
        x1, y1 = w - int(rng.integers(0, 20)), h - int(rng.integers(0, 16))
        cv2.rectangle(img, (x0, y0), (x1, y1), panel, -1)
        cv2.rectangle(img, (x0, y0), (x1, y0 + 12), chrome, -1)
        for k, c in enumerate(((230, 80, 70), (240, 190, 60), (90, 190, 90))):
            cv2.circle(img, (x0 + 7 + k * 9, y0 + 6), 3, c, -1, cv2.LINE_AA)
        side = x0 + int(rng.integers(30, 55))
        cv2.rectangle(img, (x0, y0 + 12), (side, y1), chrome, -1)
        for k in range((y1 - y0 - 16) // 12):
            draw.put_text(
                img, draw.words(rng, 1, 3, 7), (x0 + 4, y0 + 24 + k * 12), 0.27, (60, 60, 60), draw.FONTS[0]
            )
        for k in range(int(rng.integers(2, 5))):
            bx = side + 8 + k * 34
            if bx + 30 < x1:
                cv2.rectangle(img, (bx, y1 - 18), (bx + 30, y1 - 6), draw.saturated(rng, 200), -1)
        if image_viewer and x1 - side > 40:
            img[y0 + 16 : y1 - 22, side + 4 : x1 - 4] = draw.photo_patch(rng, y1 - 38 - y0, x1 - side - 8)
        else:
            for k in range(int(rng.integers(3, 7))):
                draw.put_text(
                    img, draw.words(rng, 3), (side + 6, y0 + 26 + k * 12), 0.28, (30, 30, 30), draw.FONTS[0]
                )
        return img

    screens = _hold_and_cut(rng, n, window)
    frames = screens.copy()
    cursor = np.array([rng.uniform(0, w), rng.uniform(0, h)])
    for i in range(n):
        cursor = np.clip(cursor + rng.normal(0, 4, size=2), 0, [w - 6, h - 8])
        tip = cursor.astype(int)
        arrow = (tip + np.array([[0, 0], [0, 9], [2, 7], [6, 7]])).astype(np.int32)
        cv2.fillPoly(frames[i], [arrow], (255, 255, 255))
        cv2.polylines(frames[i], [arrow], True, (0, 0, 0), 1)
    return frames
