"""Procedural demo clips for the four classes, written as real mp4 files.

Every clip is drawn from numpy/OpenCV primitives (and, for Natural_Content, the photographs
that ship with scikit-image), seeded per clip, so the same seed always gives the same frames.
Each class has several subcategories with randomised palettes, layouts and motion, so that
telling the classes apart is learnable but not trivial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from core.classes import CLASS_NAMES

Frames = np.ndarray  # [F, H, W, 3] uint8 RGB
Renderer = Callable[[np.random.Generator, int, int, int], Frames]

SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "Animation": ("cel_scenes", "outlined_characters", "shaded_primitives"),
    "Flat_Content": ("slides", "documents_code", "spreadsheets_charts", "terminal", "app_windows"),
    "Gaming": ("platformer", "top_down", "corridor_3d", "racing"),
    "Natural_Content": ("photographs", "clouds", "foliage", "water", "terrain"),
}
PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "camera", "coins", "moon", "grass",
    "gravel", "brick",
)  # fmt: skip
FONTS: tuple[int, ...] = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX)
MONO_FONT = cv2.FONT_HERSHEY_PLAIN
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@dataclass(frozen=True)
class ClipSpec:
    category: str
    subcategory: str
    seed: int
    num_frames: int = 24
    width: int = 192
    height: int = 144
    fps: int = 12


# ---------------------------------------------------------------- shared drawing helpers


def _color(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, size=3))  # type: ignore[return-value]


def _saturated(rng: np.random.Generator, value: int = 230) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(150, 256), value]]])
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])  # type: ignore[return-value]


def _gradient(h: int, w: int, top: tuple[int, ...], bottom: tuple[int, ...]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    column = (1 - t) * np.float32(top) + t * np.float32(bottom)
    return np.broadcast_to(column, (h, w, 3)).astype(np.uint8)


def _fbm(rng: np.random.Generator, h: int, w: int, *, base: int = 4, octaves: int = 5) -> np.ndarray:
    """Fractal noise in [0, 1]: random grids of doubling resolution, upsampled and summed."""
    total = np.zeros((h, w), dtype=np.float32)
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.random((cells, cells)).astype(np.float32)
        total += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) * 0.5**octave
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def _words(rng: np.random.Generator, count: int, lo: int = 2, hi: int = 9) -> str:
    return " ".join("".join(rng.choice(LETTERS, size=int(rng.integers(lo, hi)))) for _ in range(count))


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, font: int, thick: int = 1):
    cv2.putText(img, text, org, font, scale, color, thick, cv2.LINE_AA)


def _camera_warp(
    source: np.ndarray, rng: np.random.Generator, num_frames: int, h: int, w: int, *, shake: float
) -> Frames:
    """Film `source` with a hand-held camera: smooth pan and zoom plus per-frame shake."""
    sh, sw = source.shape[:2]
    base_zoom = max(w / sw, h / sh) * rng.uniform(1.5, 2.2)
    zoom_rate = rng.uniform(-0.012, 0.012)
    start = np.array([rng.uniform(0.35, 0.65) * sw, rng.uniform(0.35, 0.65) * sh])
    velocity = rng.normal(0, 0.004, size=2) * np.array([sw, sh])
    frames = np.empty((num_frames, h, w, 3), dtype=np.uint8)
    for i in range(num_frames):
        zoom = base_zoom * (1 + zoom_rate * i)
        centre = start + velocity * i + rng.normal(0, shake, size=2) / zoom
        matrix = np.float32([[zoom, 0, w / 2 - zoom * centre[0]], [0, zoom, h / 2 - zoom * centre[1]]])
        frames[i] = cv2.warpAffine(
            source, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return frames


def _sensor(frames: Frames, rng: np.random.Generator, *, noise: float, light_drift: float) -> Frames:
    """Changing exposure, a little lens blur and per-pixel sensor noise."""
    n = frames.shape[0]
    gains = 1 + light_drift * np.sin(np.linspace(0, rng.uniform(1, 3) * np.pi, n) + rng.uniform(0, 6))
    out = np.empty_like(frames)
    for i in range(n):
        soft = cv2.GaussianBlur(frames[i], (3, 3), 0.6).astype(np.float32) * gains[i]
        out[i] = np.clip(soft + rng.normal(0, noise, size=soft.shape), 0, 255).astype(np.uint8)
    return out


def _photo(rng: np.random.Generator) -> np.ndarray:
    image = getattr(skimage.data, PHOTOS[int(rng.integers(0, len(PHOTOS)))])()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def _photo_patch(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random crop of a scikit-image photograph resized to h x w (photos inside screens)."""
    photo = _photo(rng)
    ph, pw = photo.shape[:2]
    ch, cw = int(ph * rng.uniform(0.5, 1.0)), int(pw * rng.uniform(0.5, 1.0))
    y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    return cv2.resize(photo[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)


def _posterized_landscape(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A painted-looking background: fractal terrain quantised to a few flat colour bands."""
    bands = int(rng.integers(3, 6))
    levels = np.minimum((_fbm(rng, h, w, base=3, octaves=4) * bands).astype(int), bands - 1)
    palette = np.array([_saturated(rng, int(v)) for v in np.linspace(120, 250, bands)], dtype=np.uint8)
    return palette[levels]


# ---------------------------------------------------------------- Animation


def _star(cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    k = np.arange(10)
    radius = np.where(k % 2 == 0, r, r * 0.45)
    theta = angle + k * np.pi / 5
    return np.stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)], 1).astype(np.int32)


def _cel_shape(img: np.ndarray, kind: int, x: float, y: float, r: float, color, angle: float) -> None:
    outline = (20, 20, 20)
    if kind == 0:
        cv2.circle(img, (int(x), int(y)), int(r), color, -1, cv2.LINE_AA)
        cv2.circle(img, (int(x), int(y)), int(r), outline, 2, cv2.LINE_AA)
    elif kind == 1:
        box = cv2.boxPoints(((x, y), (2 * r, 1.4 * r), np.degrees(angle))).astype(np.int32)
        cv2.fillPoly(img, [box], color, cv2.LINE_AA)
        cv2.polylines(img, [box], True, outline, 2, cv2.LINE_AA)
    else:
        star = _star(x, y, r, angle)
        cv2.fillPoly(img, [star], color, cv2.LINE_AA)
        cv2.polylines(img, [star], True, outline, 2, cv2.LINE_AA)


def render_cel_scenes(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.5:
        sky = _posterized_landscape(rng, h, w)
    else:
        sky = _gradient(h, w, _saturated(rng, 255), _saturated(rng, 200))
    ground_color, hill_color = _saturated(rng, 170), _saturated(rng, 210)
    horizon = int(h * rng.uniform(0.55, 0.75))
    sun = (int(rng.integers(20, w - 20)), int(rng.integers(12, horizon // 2 + 13)))
    clouds = [(rng.uniform(0, w), rng.uniform(8, horizon * 0.5), rng.uniform(10, 22)) for _ in range(3)]
    actors = [
        (int(rng.integers(0, 3)), rng.uniform(0, w), rng.uniform(horizon - 30, h - 12), rng.uniform(8, 18),
         rng.uniform(-5, 5), _saturated(rng), rng.uniform(-0.3, 0.3))
        for _ in range(int(rng.integers(2, 5)))
    ]  # fmt: skip
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        img = sky.copy()
        cv2.circle(img, sun, 12, (255, 230, 90), -1, cv2.LINE_AA)
        for cx, cy, r in clouds:
            x = int((cx + i * 0.8) % (w + 40)) - 20
            cv2.ellipse(img, (x, int(cy)), (int(r * 1.6), int(r * 0.7)), 0, 0, 360, (250, 250, 250), -1)
            cv2.ellipse(img, (x, int(cy)), (int(r * 1.6), int(r * 0.7)), 0, 0, 360, (60, 60, 60), 1)
        cv2.ellipse(img, (w // 3, horizon + 10), (w // 2, 40), 0, 180, 360, hill_color, -1, cv2.LINE_AA)
        cv2.rectangle(img, (0, horizon), (w, h), ground_color, -1)
        cv2.line(img, (0, horizon), (w, horizon), (30, 30, 30), 2)
        for kind, x0, y0, r, vx, color, spin in actors:
            x = (x0 + vx * i) % (w + 2 * r) - r
            y = y0 - abs(np.sin(i * 0.5 + x0)) * 10
            _cel_shape(img, kind, x, y, r, color, spin * i)
        frames[i] = img
    return frames


def _character(img: np.ndarray, x: float, y: float, size: float, body, squash: float) -> None:
    outline = (15, 15, 15)
    bw, bh = int(size * (1 + squash)), int(size * 1.3 * (1 - squash))
    cv2.ellipse(img, (int(x), int(y)), (bw, bh), 0, 0, 360, body, -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(x), int(y)), (bw, bh), 0, 0, 360, outline, 2, cv2.LINE_AA)
    head = (int(x), int(y - bh - size * 0.7))
    cv2.circle(img, head, int(size * 0.8), (255, 224, 189), -1, cv2.LINE_AA)
    cv2.circle(img, head, int(size * 0.8), outline, 2, cv2.LINE_AA)
    for dx in (-0.3, 0.3):
        eye = (int(head[0] + dx * size), int(head[1] - size * 0.1))
        cv2.circle(img, eye, max(2, int(size * 0.2)), (255, 255, 255), -1)
        cv2.circle(img, eye, max(1, int(size * 0.1)), (0, 0, 0), -1)
    cv2.ellipse(img, (head[0], head[1] + int(size * 0.3)), (int(size * 0.3), int(size * 0.15)), 0, 0, 180,
                outline, 1, cv2.LINE_AA)  # fmt: skip


def render_outlined_characters(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.3:  # cartoon characters in front of a photographed set
        background = _photo_patch(rng, h, w)
    else:
        background = np.full((h, w, 3), _saturated(rng, 240), dtype=np.uint8)
        stripe, period = _saturated(rng, 210), int(rng.integers(12, 30))
        for x in range(0, w + h, period):
            cv2.line(background, (x, 0), (x - h, h), stripe, period // 3)
    floor = int(h * 0.8)
    cv2.rectangle(background, (0, floor), (w, h), _saturated(rng, 160), -1)
    cv2.line(background, (0, floor), (w, floor), (20, 20, 20), 2)
    cast = [
        (
            rng.uniform(20, w - 20),
            rng.uniform(8, 14),
            _saturated(rng),
            rng.uniform(-3, 3),
            rng.uniform(0.4, 0.9),
        )
        for _ in range(int(rng.integers(1, 4)))
    ]
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        img = background.copy()
        for x0, size, body, vx, freq in cast:
            bounce = abs(np.sin(i * freq))
            x = (x0 + vx * i) % w
            y = floor - size * 1.3 - bounce * 25
            _character(img, x, y, size, body, 0.25 * (1 - bounce) - 0.1)
        frames[i] = img
    return frames


def _shaded_sphere(img: np.ndarray, cx: float, cy: float, r: float, color, light: np.ndarray) -> None:
    y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, img.shape[0])
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, img.shape[1])
    if y0 >= y1 or x0 >= x1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    nx, ny = (xx - cx) / r, (yy - cy) / r
    inside = nx**2 + ny**2 <= 1
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    lambert = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    toon = np.floor(lambert * 3) / 3 * 0.7 + 0.3  # three flat shading bands, cartoon style
    patch = img[y0:y1, x0:x1]
    patch[inside] = (np.float32(color) * toon[inside, None]).astype(np.uint8)


def _shaded_cube(img: np.ndarray, cx: float, cy: float, s: float, angle: float, color) -> None:
    c, d = np.cos(angle), np.sin(angle)
    top = np.array([[cx - s * c, cy - s * 0.5 - s * d * 0.4], [cx + s * d, cy - s * 0.9],
                    [cx + s * c, cy - s * 0.5 + s * d * 0.4], [cx - s * d, cy - s * 0.1]])  # fmt: skip
    down = np.array([0, s])
    faces = [(top, 1.0), (np.array([top[0], top[3], top[3] + down, top[0] + down]), 0.7),
             (np.array([top[3], top[2], top[2] + down, top[3] + down]), 0.45)]  # fmt: skip
    for face, shade in faces:
        pts = face.astype(np.int32)
        cv2.fillPoly(img, [pts], tuple(int(v * shade) for v in color), cv2.LINE_AA)
        cv2.polylines(img, [pts], True, (25, 25, 25), 1, cv2.LINE_AA)


def render_shaded_primitives(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.35:  # CG objects composited over live-action footage
        backdrop = cv2.GaussianBlur(_photo_patch(rng, h, w), (5, 5), 1.5)
    else:
        backdrop = _gradient(h, w, _saturated(rng, 250), _saturated(rng, 150))
    floor = int(h * rng.uniform(0.6, 0.75))
    backdrop[floor:] = np.uint8(_saturated(rng, 120))
    light = np.array([rng.uniform(-0.6, 0.6), -0.6, 0.6])
    light /= np.linalg.norm(light)
    objects = [
        (int(rng.integers(0, 2)), rng.uniform(20, w - 20), rng.uniform(10, 20), _saturated(rng),
         rng.uniform(-2.5, 2.5), rng.uniform(0.05, 0.2))
        for _ in range(int(rng.integers(2, 5)))
    ]  # fmt: skip
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        img = backdrop.copy()
        for kind, x0, size, color, vx, spin in objects:
            x = (x0 + vx * i) % w
            y = floor - size + 4
            cv2.ellipse(
                img, (int(x), int(floor + 4)), (int(size), int(size * 0.3)), 0, 0, 360, (40, 40, 40), -1
            )
            if kind == 0:
                _shaded_sphere(img, x, y, size, color, light)
            else:
                _shaded_cube(img, x, y, size, spin * i, color)
        frames[i] = img
    return frames


# ---------------------------------------------------------------- Flat_Content


def _hold_and_cut(rng: np.random.Generator, n: int, make: Callable[[], np.ndarray]) -> Frames:
    """Static screens that cut to a new one every so often, as screen recordings do."""
    frames, screen, remaining = [], make(), int(rng.integers(6, 14))
    for _ in range(n):
        if remaining == 0:
            screen, remaining = make(), int(rng.integers(6, 14))
        frames.append(screen)
        remaining -= 1
    return np.stack(frames)


def render_slides(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    background, accent, ink = _color(rng, 225, 256), _saturated(rng, 180), _color(rng, 0, 70)
    font = FONTS[int(rng.integers(0, len(FONTS)))]
    with_photos = rng.random() < 0.5

    def slide() -> np.ndarray:
        img = np.full((h, w, 3), background, dtype=np.uint8)
        cv2.rectangle(img, (0, 0), (w, int(h * 0.2)), accent, -1)
        _text(img, _words(rng, 2).title(), (8, int(h * 0.14)), 0.5, (255, 255, 255), font, 1)
        y = int(h * 0.32)
        for _ in range(int(rng.integers(2, 6))):
            cv2.circle(img, (12, y - 3), 2, accent, -1)
            _text(img, _words(rng, int(rng.integers(2, 5))), (20, y), 0.3, ink, font)
            y += int(rng.integers(14, 20))
        if with_photos:
            img[int(h * 0.26) : h - 12, w // 2 : w - 8] = _photo_patch(
                rng, h - 12 - int(h * 0.26), w // 2 - 8
            )
        elif rng.random() < 0.5:
            x0 = int(w * 0.62)
            for k, height in enumerate(rng.uniform(0.1, 0.45, size=4)):
                cv2.rectangle(
                    img, (x0 + k * 14, h - 14 - int(h * height)), (x0 + k * 14 + 10, h - 14), accent, -1
                )
        _text(img, str(int(rng.integers(1, 40))), (w - 16, h - 5), 0.3, ink, font)
        return img

    return _hold_and_cut(rng, n, slide)


def render_documents_code(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    dark = rng.random() < 0.5
    page_h = h * 4
    page = np.full((page_h, w, 3), (30, 32, 40) if dark else (250, 250, 248), dtype=np.uint8)
    palette = (
        [_saturated(rng, 240) for _ in range(4)] if dark else [(20, 20, 20), (40, 40, 120), (120, 30, 30)]
    )
    gutter = 22 if dark else 10
    y, line = 10, 1
    while y < page_h - 4:
        if dark:
            _text(page, f"{line:3d}", (1, y), 0.7, (110, 110, 120), MONO_FONT)
        x = gutter + (int(rng.integers(0, 4)) * 8 if dark else 0)
        for _ in range(int(rng.integers(1, 6))):
            token = _words(rng, 1, 2, 8)
            color = palette[int(rng.integers(0, len(palette)))]
            _text(page, token, (x, y), 0.7 if dark else 0.3, color, MONO_FONT if dark else FONTS[0])
            x += 8 * len(token) + 4
        y += int(rng.integers(9, 12)) + (8 if rng.random() < 0.12 else 0)
        line += 1
    speed = rng.uniform(1.5, 6)
    offsets = np.minimum((np.arange(n) * speed).astype(int), page_h - h)
    return np.stack([page[o : o + h] for o in offsets])


def render_spreadsheets_charts(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    header = _saturated(rng, 200)

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
                    _text(img, f"{rng.uniform(0, 999):.1f}", (x + 2, y + 9), 0.26, (30, 30, 30), FONTS[0])
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


def render_terminal(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    background = (int(rng.integers(0, 30)),) * 3
    ink = (
        (int(rng.integers(150, 256)), 255, int(rng.integers(150, 256))) if rng.random() < 0.5 else (220,) * 3
    )
    lines: list[str] = []
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    rows = h // 11
    for i in range(n):
        for _ in range(int(rng.poisson(0.8))):
            prefix = "$ " if rng.random() < 0.3 else ""
            lines.append(prefix + _words(rng, int(rng.integers(1, 5)), 2, 7))
        img = np.full((h, w, 3), background, dtype=np.uint8)
        shown = lines[-rows:]
        for row, text in enumerate(shown):
            _text(img, text, (3, 10 + row * 11), 0.75, ink, MONO_FONT)
        if i % 4 < 2:
            y = 2 + len(shown) * 11
            cv2.rectangle(img, (3, min(y, h - 10)), (9, min(y + 8, h - 2)), ink, -1)
        frames[i] = img
    return frames


def render_app_windows(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    desktop = _gradient(h, w, _saturated(rng, 200), _saturated(rng, 120))
    chrome, panel = _color(rng, 200, 240), _color(rng, 230, 256)
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
            _text(img, _words(rng, 1, 3, 7), (x0 + 4, y0 + 24 + k * 12), 0.27, (60, 60, 60), FONTS[0])
        for k in range(int(rng.integers(2, 5))):
            bx = side + 8 + k * 34
            if bx + 30 < x1:
                cv2.rectangle(img, (bx, y1 - 18), (bx + 30, y1 - 6), _saturated(rng, 200), -1)
        if image_viewer and x1 - side > 40:
            img[y0 + 16 : y1 - 22, side + 4 : x1 - 4] = _photo_patch(rng, y1 - 38 - y0, x1 - side - 8)
        else:
            for k in range(int(rng.integers(3, 7))):
                _text(img, _words(rng, 3), (side + 6, y0 + 26 + k * 12), 0.28, (30, 30, 30), FONTS[0])
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


# ---------------------------------------------------------------- Gaming


def _hud(img: np.ndarray, rng_state: tuple[float, int], *, minimap: np.ndarray | None = None) -> None:
    health, score = rng_state
    h, w = img.shape[:2]
    cv2.rectangle(img, (4, 4), (54, 10), (60, 0, 0), -1)
    cv2.rectangle(img, (4, 4), (4 + int(50 * health), 10), (230, 40, 40), -1)
    cv2.rectangle(img, (4, 4), (54, 10), (255, 255, 255), 1)
    _text(img, f"SCORE {score:06d}", (w - 92, 11), 0.8, (255, 255, 80), MONO_FONT)
    if minimap is not None:
        mh, mw = minimap.shape[:2]
        img[h - mh - 4 : h - 4, w - mw - 4 : w - 4] = minimap
        cv2.rectangle(img, (w - mw - 5, h - mh - 5), (w - 4, h - 4), (255, 255, 255), 1)


def _tile(size: int, color, rng: np.random.Generator, pattern: str) -> np.ndarray:
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


def render_platformer(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    tile = 12
    cols = w // tile + 2 + int(n * 8 / tile)
    rows = h // tile + 1
    ground_tile = _tile(tile, _saturated(rng, 200), rng, "brick")
    block_tile = _tile(tile, _saturated(rng, 230), rng, "speckle")
    heights = np.clip(np.cumsum(rng.integers(-1, 2, size=cols)) // 2 + 3, 2, 5)
    level = np.full((rows * tile, cols * tile, 3), 0, dtype=np.uint8)
    level[:] = _gradient(rows * tile, 1, _saturated(rng, 255), _saturated(rng, 220))
    hills = _saturated(rng, 170)
    for x in range(0, cols * tile, 60):
        cv2.circle(level, (x, rows * tile - 30), int(rng.integers(25, 45)), hills, -1)
    for c in range(cols):
        for r in range(rows - heights[c], rows):
            level[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = ground_tile
        if rng.random() < 0.15:
            r = rows - heights[c] - int(rng.integers(3, 5))
            level[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = block_tile
        elif rng.random() < 0.2:
            cv2.circle(level, (c * tile + 6, (rows - heights[c] - 2) * tile), 3, (255, 215, 0), -1)
    speed = rng.uniform(4, 8)
    player = _saturated(rng, 255)
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    health, score = rng.uniform(0.3, 1), int(rng.integers(0, 5000))
    for i in range(n):
        x = int(i * speed)
        img = np.ascontiguousarray(level[-h:, x : x + w])
        column = (x + w // 3) // tile
        ground_y = h - heights[min(column, cols - 1)] * tile
        jump = abs(np.sin(i * 0.35)) * 24
        py = int(ground_y - 14 - jump)
        cv2.rectangle(img, (w // 3, py), (w // 3 + 9, py + 14), player, -1)
        cv2.rectangle(img, (w // 3 + 5, py + 3), (w // 3 + 7, py + 5), (0, 0, 0), -1)
        enemy_x = int(w - (i * speed * 1.5) % w)
        enemy_y = h - heights[min((x + enemy_x) // tile, cols - 1)] * tile - 8
        cv2.ellipse(img, (enemy_x, enemy_y + 4), (6, 4), 0, 0, 360, (120, 60, 20), -1)
        score += int(rng.integers(0, 30))
        _hud(img, (health, score))
        frames[i] = img
    return frames


def render_top_down(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    tile = 16
    size = 48
    kinds = [
        _tile(tile, _saturated(rng, 170), rng, "speckle"),  # grass
        _tile(tile, (60, 110, 220), rng, "plain"),  # water
        _tile(tile, _color(rng, 150, 200), rng, "speckle"),  # path
        _tile(tile, (110, 110, 120), rng, "brick"),  # wall
    ]
    terrain = _fbm(rng, size, size, base=3, octaves=3)
    grid = np.digitize(terrain, [0.3, 0.45, 0.75])
    world = np.concatenate([np.concatenate([kinds[k] for k in row], 1) for row in grid], 0)
    minimap_colors = np.array([kinds[k][tile // 2, tile // 2] for k in range(4)])
    minimap = cv2.resize(minimap_colors[grid].astype(np.uint8), (32, 32), interpolation=cv2.INTER_NEAREST)
    direction = rng.normal(0, 1, size=2)
    direction = direction / np.linalg.norm(direction) * rng.uniform(3, 7)
    start = np.array([size * tile / 2 - w / 2, size * tile / 2 - h / 2])
    npcs = [
        (rng.uniform(0, w), rng.uniform(0, h), _saturated(rng, 250)) for _ in range(int(rng.integers(2, 6)))
    ]
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    health, score = rng.uniform(0.3, 1), int(rng.integers(0, 9000))
    for i in range(n):
        ox, oy = (start + direction * i).astype(int)
        ox, oy = int(np.clip(ox, 0, size * tile - w)), int(np.clip(oy, 0, size * tile - h))
        img = np.ascontiguousarray(world[oy : oy + h, ox : ox + w])
        for nx, ny, color in npcs:
            px, py = int(nx + 8 * np.sin(i * 0.4 + nx)), int(ny + 8 * np.cos(i * 0.3 + ny))
            cv2.rectangle(img, (px - 4, py - 4), (px + 4, py + 4), color, -1)
            cv2.rectangle(img, (px - 4, py - 4), (px + 4, py + 4), (0, 0, 0), 1)
        cv2.circle(img, (w // 2, h // 2), 6, (250, 250, 250), -1)
        cv2.circle(img, (w // 2, h // 2), 6, (0, 0, 0), 1)
        mini = minimap.copy()
        cv2.circle(
            mini,
            (int((ox + w / 2) / tile * 32 / size), int((oy + h / 2) / tile * 32 / size)),
            2,
            (255, 0, 0),
            -1,
        )
        _hud(img, (health, score + i * 10), minimap=mini)
        frames[i] = img
    return frames


def render_corridor_3d(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A raycast maze seen in first person, with crosshair, weapon and HUD."""
    size = 16
    maze = (rng.random((size, size)) < 0.28).astype(np.int8)
    maze[0, :] = maze[-1, :] = maze[:, 0] = maze[:, -1] = 1
    maze[6:10, 6:10] = 0
    wall_colors = np.array([_saturated(rng, 220) for _ in range(3)], dtype=np.float32)
    wall_kind = rng.integers(0, 3, size=(size, size))
    ceiling = _gradient(h // 2, w, _color(rng, 20, 60), _color(rng, 60, 120))
    floor = _gradient(h - h // 2, w, _color(rng, 40, 80), _color(rng, 90, 150))
    fov = np.deg2rad(66)
    steps = np.linspace(0.05, 12, 240, dtype=np.float32)
    position = np.array([8.0, 8.0])
    heading, turn = rng.uniform(0, 2 * np.pi), rng.uniform(-0.12, 0.12)
    gun = _color(rng, 60, 140)
    # Half the mazes get photographic wall textures (stone, gravel, grass...), as modern shooters do.
    photo_walls = _photo_patch(rng, 64, 64).astype(np.float32) if rng.random() < 0.5 else None
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    health, score = rng.uniform(0.3, 1), int(rng.integers(0, 900))
    for i in range(n):
        heading += turn
        forward = np.array([np.cos(heading), np.sin(heading)])
        ahead = position + forward * 0.3
        if maze[int(ahead[1]) % size, int(ahead[0]) % size] == 0:
            position = ahead
        angles = heading + np.linspace(-fov / 2, fov / 2, w, dtype=np.float32)
        xs = position[0] + np.cos(angles)[None, :] * steps[:, None]
        ys = position[1] + np.sin(angles)[None, :] * steps[:, None]
        cells_x, cells_y = np.clip(xs.astype(int), 0, size - 1), np.clip(ys.astype(int), 0, size - 1)
        hits = maze[cells_y, cells_x] == 1
        first = np.where(hits.any(0), hits.argmax(0), len(steps) - 1)
        distance = steps[first] * np.cos(angles - heading)
        column_kind = wall_kind[cells_y[first, np.arange(w)], cells_x[first, np.arange(w)]]
        shade = np.clip(1.4 / (1 + 0.35 * distance), 0.15, 1)
        u = (xs[first, np.arange(w)] + ys[first, np.arange(w)]) % 1
        img = np.concatenate([ceiling, floor], 0).copy()
        wall_h = np.clip((h / np.maximum(distance, 1e-3)).astype(int), 1, h)
        rows = np.arange(h)[:, None]
        wall_mask = np.abs(rows - h / 2) < wall_h[None, :] / 2
        if photo_walls is None:
            texture = 0.85 + 0.15 * (u * 4 % 1 > 0.5)
            colors = np.broadcast_to((wall_colors[column_kind] * (shade * texture)[:, None])[None], (h, w, 3))
        else:
            v = np.clip((rows - (h - wall_h[None, :]) / 2) / wall_h[None, :], 0, 0.999)
            texels = photo_walls[(v * 64).astype(int), (u * 64).astype(int)[None, :]]
            colors = texels * shade[None, :, None]
        img[wall_mask] = colors[wall_mask].astype(np.uint8)
        bob = int(3 * np.sin(i * 0.8))
        cv2.rectangle(img, (w // 2 - 10, h - 30 + bob), (w // 2 + 10, h), gun, -1)
        cv2.rectangle(img, (w // 2 - 3, h - 40 + bob), (w // 2 + 3, h - 30 + bob), gun, -1)
        cv2.line(img, (w // 2 - 6, h // 2), (w // 2 + 6, h // 2), (0, 255, 0), 1)
        cv2.line(img, (w // 2, h // 2 - 6), (w // 2, h // 2 + 6), (0, 255, 0), 1)
        _hud(img, (health, score + i))
        frames[i] = img
    return frames


def render_racing(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A pseudo-3D road in front of a photographic backdrop, with speedometer and lap HUD."""
    horizon = h // 2 - int(rng.integers(0, 12))
    backdrop = _photo_patch(rng, horizon, w * 2)
    grass = np.float32(_saturated(rng, 150)) if rng.random() < 0.5 else np.float32((70, 120, 50))
    road, rumble = np.float32((90, 90, 95)), np.float32(_saturated(rng, 230))
    curve, speed = rng.uniform(-1, 1), rng.uniform(0.6, 1.4)
    car = _saturated(rng, 230)
    rows = np.arange(horizon, h, dtype=np.float32)
    depth = (rows - horizon + 1) / (h - horizon)  # 0 at the horizon, 1 at the bottom
    xs = np.arange(w, dtype=np.float32)[None, :]
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        bend = curve * np.sin(i * 0.1)
        img = np.empty((h, w, 3), dtype=np.uint8)
        offset = int((w / 2) * (1 + 0.8 * bend))
        img[:horizon] = backdrop[:, offset : offset + w]
        centre = (w / 2 + bend * (1 - depth) ** 2 * w * 0.5)[:, None]
        half = (0.06 * w + depth * 0.55 * w)[:, None]
        stripes = ((1 / depth + i * speed) % 2 < 1)[:, None]
        distance = np.abs(xs - centre)
        ground = np.where(distance < half, 1, np.where(distance < half * 1.12, 2, 0))
        colors = np.stack([grass, road, rumble])[ground]
        colors[(ground == 2) & ~stripes] = 255
        lane = (distance < half * 0.03) & stripes
        colors[lane] = 240
        img[horizon:] = colors.astype(np.uint8)
        cx = int(w / 2 + 6 * np.sin(i * 0.3))
        cv2.rectangle(img, (cx - 14, h - 22), (cx + 14, h - 8), car, -1)
        cv2.rectangle(img, (cx - 10, h - 28), (cx + 10, h - 21), (40, 40, 60), -1)
        _text(img, f"{int(180 + 40 * speed + i)} KM/H", (4, h - 4), 0.8, (255, 255, 255), MONO_FONT)
        _text(img, "LAP 2/3", (w - 52, h - 4), 0.8, (255, 255, 80), MONO_FONT)
        frames[i] = img
    return frames


# ---------------------------------------------------------------- Natural_Content


def _osd(frames: Frames, rng: np.random.Generator) -> Frames:
    """A camera's on-screen display (timestamp, recording dot) burnt into real footage."""
    day = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    for i, frame in enumerate(frames):
        _text(
            frame,
            f"{day} 12:{i // 60:02d}:{i % 60:02d}",
            (4, frame.shape[0] - 5),
            0.8,
            (255, 255, 255),
            MONO_FONT,
        )
        cv2.circle(frame, (frame.shape[1] - 10, 10), 4, (255, 40, 40), -1)
    return frames


def _lower_third(frames: Frames, rng: np.random.Generator) -> Frames:
    """A broadcast caption bar and channel logo over camera footage."""
    h, w = frames.shape[1:3]
    bar, caption = _saturated(rng, 150), _words(rng, 3).upper()
    for frame in frames:
        cv2.rectangle(frame, (0, h - 24), (w, h - 8), bar, -1)
        _text(frame, caption, (6, h - 12), 0.35, (255, 255, 255), FONTS[0])
        _text(frame, "TV", (w - 22, 14), 0.4, (255, 255, 255), FONTS[2])
    return frames


def render_photographs(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    frames = _camera_warp(_photo(rng), rng, n, h, w, shake=rng.uniform(1, 5))
    frames = _sensor(frames, rng, noise=rng.uniform(2, 8), light_drift=rng.uniform(0.03, 0.2))
    return _lower_third(frames, rng) if rng.random() < 0.4 else frames


def _colorize(values: np.ndarray, low: tuple[int, ...], high: tuple[int, ...]) -> np.ndarray:
    v = values[..., None]
    return ((1 - v) * np.float32(low) + v * np.float32(high)).astype(np.uint8)


def render_clouds(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    big_h, big_w = h * 2, w * 2
    density = np.clip((_fbm(rng, big_h, big_w, base=3, octaves=6) - rng.uniform(0.3, 0.5)) * 2.5, 0, 1)
    sky = _gradient(big_h, big_w, (40, 90, int(rng.integers(170, 230))), (150, 190, 240)).astype(np.float32)
    cloud = _colorize(density, (200, 200, 210), (255, 255, 255)).astype(np.float32)
    scene = (sky * (1 - density[..., None]) + cloud * density[..., None]).astype(np.uint8)
    if rng.random() < 0.5:
        ridge = (big_h * (0.85 - 0.1 * _fbm(rng, 1, big_w, base=4, octaves=3)[0])).astype(int)
        for x, top in enumerate(ridge):
            scene[top:, x] = (25, 40, 25)
    frames = _camera_warp(scene, rng, n, h, w, shake=rng.uniform(0.5, 2))
    frames = _sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.02, 0.1))
    return _osd(frames, rng) if rng.random() < 0.3 else frames


def render_foliage(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    big_h, big_w = h * 2, w * 2
    leaves = _fbm(rng, big_h, big_w, base=16, octaves=4)
    shade = _fbm(rng, big_h, big_w, base=3, octaves=3)
    dark, bright = (
        (int(rng.integers(10, 40)), int(rng.integers(50, 90)), 20),
        (150, 210, int(rng.integers(60, 120))),
    )
    scene = _colorize(np.clip(leaves * 0.7 + shade * 0.5 - 0.1, 0, 1), dark, bright)
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 4))):
            x = int(rng.integers(0, big_w))
            cv2.line(
                scene, (x, 0), (x + int(rng.integers(-30, 30)), big_h), (60, 45, 30), int(rng.integers(4, 12))
            )
    frames = _camera_warp(scene, rng, n, h, w, shake=rng.uniform(2, 5))
    sway = np.empty_like(frames)
    for i in range(n):  # wind: the picture sways a little, not rigidly
        dx = (np.sin(np.arange(h) * 0.2 + i * 0.7) * 1.5).astype(np.float32)
        map_x = np.arange(w, dtype=np.float32)[None, :] + dx[:, None]
        map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, 1)
        sway[i] = cv2.remap(frames[i], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return _sensor(sway, rng, noise=rng.uniform(3, 8), light_drift=rng.uniform(0.05, 0.2))


def render_water(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    deep = (int(rng.integers(0, 40)), int(rng.integers(50, 100)), int(rng.integers(90, 160)))
    light = (int(rng.integers(120, 200)), int(rng.integers(180, 230)), 240)
    ripples = _fbm(rng, h * 2, w * 2, base=6, octaves=4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    k1, k2 = rng.uniform(0.1, 0.3, size=2)
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        waves = np.sin(xx * k1 + yy * 0.05 + i * 0.6) * np.sin(yy * k2 - i * 0.4)
        shift = int(i * 2) % h
        texture = ripples[shift : shift + h, :w]
        value = np.clip(0.45 + 0.25 * waves + 0.4 * (texture - 0.5), 0, 1)
        img = _colorize(value, deep, light)
        glints = value > 0.85
        img[glints] = 255
        frames[i] = img
    return _sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.05, 0.15))


def render_terrain(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    size = max(h, w) * 2
    height = _fbm(rng, size, size, base=4, octaves=6)
    gy, gx = np.gradient(height * 40)
    hillshade = np.clip(0.6 + 0.8 * (gx * 0.7 - gy * 0.7) / np.sqrt(1 + gx**2 + gy**2), 0, 1)
    stops = np.array([0.0, 0.35, 0.6, 0.8, 1.0])
    palette = np.array(
        [[60, 90, 140], [70, 130, 60], [120, 110, 70], [150, 140, 130], [245, 245, 250]], np.float32
    )
    palette[:, 1] *= rng.uniform(0.85, 1.15)
    color = np.stack([np.interp(height, stops, palette[:, c]) for c in range(3)], -1)
    haze = rng.uniform(0, 0.3)
    scene = np.clip(color * hillshade[..., None] * (1 - haze) + 200 * haze, 0, 255).astype(np.uint8)
    frames = _camera_warp(scene, rng, n, h, w, shake=rng.uniform(0.5, 3))
    frames = _sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.05, 0.2))
    return _osd(frames, rng) if rng.random() < 0.3 else frames


RENDERERS: dict[str, Renderer] = {
    "cel_scenes": render_cel_scenes,
    "outlined_characters": render_outlined_characters,
    "shaded_primitives": render_shaded_primitives,
    "slides": render_slides,
    "documents_code": render_documents_code,
    "spreadsheets_charts": render_spreadsheets_charts,
    "terminal": render_terminal,
    "app_windows": render_app_windows,
    "platformer": render_platformer,
    "top_down": render_top_down,
    "corridor_3d": render_corridor_3d,
    "racing": render_racing,
    "photographs": render_photographs,
    "clouds": render_clouds,
    "foliage": render_foliage,
    "water": render_water,
    "terrain": render_terrain,
}


# ---------------------------------------------------------------- clips and folders


def _delivery_artifacts(frames: Frames, rng: np.random.Generator) -> Frames:
    """What happens to any video on its way to a dataset, whatever its class: low-resolution
    sources, exposure and contrast changes, letterboxing. Applied to every class alike, they
    take away easy cues (crispness, exact colours) without changing what the content is."""
    h, w = frames.shape[1:3]
    out = frames
    if rng.random() < 0.5:
        factor = rng.uniform(2.0, 4.0)
        small = (max(int(w / factor), 8), max(int(h / factor), 8))
        out = np.stack([cv2.resize(cv2.resize(f, small, interpolation=cv2.INTER_AREA), (w, h)) for f in out])
    if rng.random() < 0.5:
        gain, bias = rng.uniform(0.6, 1.2), rng.uniform(-40, 40)
        out = np.clip(out.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = out.copy()
        bar = int(h * rng.uniform(0.08, 0.15))
        out[:, :bar] = 0
        out[:, h - bar :] = 0
    return out


def render_clip(spec: ClipSpec) -> Frames:
    """The clip's frames, [num_frames, height, width, 3] uint8 RGB; same spec, same frames."""
    if spec.subcategory not in SUBCATEGORIES.get(spec.category, ()):
        known = ", ".join(f"{c}/{s}" for c, subs in SUBCATEGORIES.items() for s in subs)
        raise ValueError(f"unknown demo subcategory {spec.category}/{spec.subcategory}; known: {known}")
    rng = np.random.default_rng(spec.seed)
    frames = RENDERERS[spec.subcategory](rng, spec.num_frames, spec.height, spec.width)
    return _delivery_artifacts(frames, rng)


def write_clip(path: Path, frames: Frames, fps: int) -> Path:
    """Encode RGB frames as an mp4 (MPEG-4 part 2, 'mp4v', which every OpenCV build can write)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"{path}: OpenCV could not open an mp4v video writer; check the folder is writable")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def clip_seed(seed: int, category: str, subcategory: str, index: int) -> int:
    """A per-clip seed: clips of different splits (different `seed`) never share a stream."""
    keys = [seed, CLASS_NAMES.index(category), SUBCATEGORIES[category].index(subcategory), index]
    sequence = np.random.SeedSequence(keys)
    return int(sequence.generate_state(1)[0])


def plan_clips(
    seed: int,
    clips_per_class: int,
    *,
    num_frames: int = 24,
    width: int = 192,
    height: int = 144,
    fps: int = 12,
) -> list[ClipSpec]:
    """`clips_per_class` clips per class, dealt round-robin over its subcategories."""
    specs = []
    for category in CLASS_NAMES:
        subcategories = SUBCATEGORIES[category]
        for index in range(clips_per_class):
            sub = subcategories[index % len(subcategories)]
            specs.append(
                ClipSpec(category, sub, clip_seed(seed, category, sub, index), num_frames, width, height, fps)
            )
    return specs


def clip_path(root: Path, spec: ClipSpec) -> Path:
    return root / spec.category / spec.subcategory / f"{spec.subcategory}_{spec.seed:010d}.mp4"


def generate_demo_videos(
    out_dir: str | Path,
    specs: list[ClipSpec],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Render and write every planned clip under out_dir/{category}/{subcategory}/."""
    out_dir = Path(out_dir)
    paths = []
    for done, spec in enumerate(specs, start=1):
        paths.append(write_clip(clip_path(out_dir, spec), render_clip(spec), spec.fps))
        if progress is not None:
            progress(done, len(specs))
    return paths
