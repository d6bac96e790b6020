"""Animation: flat cel-shaded scenes, outlined cartoon characters, toon-shaded 3D primitives,
painted and CG-look shots of photographs, and ray-traced CG-film shots."""

from __future__ import annotations

import cv2
import numpy as np

import core.demo.scenes.drawing as draw
import core.demo.scenes.raytrace as rt
from core.demo.scenes.registry import Frames, scene


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


@scene("Animation", "cel_scenes")
def render_cel_scenes(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.5:
        sky = draw.posterized_landscape(rng, h, w)
    else:
        sky = draw.gradient(h, w, draw.saturated(rng, 255), draw.saturated(rng, 200))
    ground_color, hill_color = draw.saturated(rng, 170), draw.saturated(rng, 210)
    horizon = int(h * rng.uniform(0.55, 0.75))
    sun = (int(rng.integers(20, w - 20)), int(rng.integers(12, horizon // 2 + 13)))
    clouds = [(rng.uniform(0, w), rng.uniform(8, horizon * 0.5), rng.uniform(10, 22)) for _ in range(3)]
    actors = [
        (int(rng.integers(0, 3)), rng.uniform(0, w), rng.uniform(horizon - 30, h - 12), rng.uniform(8, 18),
         rng.uniform(-5, 5), draw.saturated(rng), rng.uniform(-0.3, 0.3))
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


@scene("Animation", "outlined_characters")
def render_outlined_characters(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.3:  # cartoon characters in front of a photographed set
        background = draw.photo_patch(rng, h, w)
    else:
        background = np.full((h, w, 3), draw.saturated(rng, 240), dtype=np.uint8)
        stripe, period = draw.saturated(rng, 210), int(rng.integers(12, 30))
        for x in range(0, w + h, period):
            cv2.line(background, (x, 0), (x - h, h), stripe, period // 3)
    floor = int(h * 0.8)
    cv2.rectangle(background, (0, floor), (w, h), draw.saturated(rng, 160), -1)
    cv2.line(background, (0, floor), (w, floor), (20, 20, 20), 2)
    cast = [
        (
            rng.uniform(20, w - 20),
            rng.uniform(8, 14),
            draw.saturated(rng),
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
            draw.cartoon_character(img, x, y, size, body, 0.25 * (1 - bounce) - 0.1)
        frames[i] = img
    return frames


def _sphere_surface(
    img: np.ndarray, cx: float, cy: float, r: float, light: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The image patch a sphere covers, its disc mask, the surface normal's z and the diffuse
    light on it; None when the sphere is off the image."""
    y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 1, img.shape[0])
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 1, img.shape[1])
    if y0 >= y1 or x0 >= x1:
        return None
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    nx, ny = (xx - cx) / r, (yy - cy) / r
    inside = nx**2 + ny**2 <= 1
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0, 1))
    diffuse = np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    return img[y0:y1, x0:x1], inside, nz, diffuse


def _shaded_sphere(img: np.ndarray, cx: float, cy: float, r: float, color, light: np.ndarray) -> None:
    surface = _sphere_surface(img, cx, cy, r, light)
    if surface is None:
        return
    patch, inside, _, lambert = surface
    toon = np.floor(lambert * 3) / 3 * 0.7 + 0.3  # three flat shading bands, cartoon style
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


@scene("Animation", "shaded_primitives")
def render_shaded_primitives(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    if rng.random() < 0.35:  # CG objects composited over live-action footage
        backdrop = cv2.GaussianBlur(draw.photo_patch(rng, h, w), (5, 5), 1.5)
    else:
        backdrop = draw.gradient(h, w, draw.saturated(rng, 250), draw.saturated(rng, 150))
    floor = int(h * rng.uniform(0.6, 0.75))
    backdrop[floor:] = np.uint8(draw.saturated(rng, 120))
    light = np.array([rng.uniform(-0.6, 0.6), -0.6, 0.6])
    light /= np.linalg.norm(light)
    objects = [
        (int(rng.integers(0, 2)), rng.uniform(20, w - 20), rng.uniform(10, 20), draw.saturated(rng),
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


def _smooth_sphere(img: np.ndarray, cx: float, cy: float, r: float, color, light: np.ndarray) -> None:
    """A CG-rendered ball: smooth diffuse shading, ambient fill and a specular highlight."""
    surface = _sphere_surface(img, cx, cy, r, light)
    if surface is None:
        return
    patch, inside, nz, diffuse = surface
    specular = np.clip(2 * diffuse * nz - light[2], 0, 1) ** 20
    shade = np.float32(color) * (0.35 + 0.65 * diffuse[..., None]) + 255 * 0.6 * specular[..., None]
    patch[inside] = np.clip(shade[inside], 0, 255).astype(np.uint8)


def _cg_creature(img: np.ndarray, x: float, y: float, size: float, body, light: np.ndarray, look: float):
    """A round 3D cartoon creature: body, head, big glossy eyes (no outlines, as in CG films)."""
    _smooth_sphere(img, x, y, size, body, light)
    head_y = y - size * 1.1
    _smooth_sphere(img, x, head_y, size * 0.75, body, light)
    for dx in (-0.3, 0.3):
        ex, ey = x + dx * size, head_y - size * 0.1
        _smooth_sphere(img, ex, ey, size * 0.24, (245, 245, 245), light)
        _smooth_sphere(img, ex + look * size * 0.08, ey + size * 0.04, size * 0.11, (30, 25, 20), light)


@scene("Animation", "cg_characters")
def render_cg_characters(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A 3D-animated film shot: soft-focus painted set, smooth-shaded creatures with soft shadows,
    and a slow camera dolly across the set."""
    set_w = int(w * 1.4)
    if rng.random() < 0.6:  # a daylight meadow, the most common set of animated features
        top, bottom = (int(rng.integers(60, 140)), int(rng.integers(140, 200)), 245), (200, 225, 245)
        ground_color = (int(rng.integers(60, 130)), int(rng.integers(130, 190)), int(rng.integers(30, 80)))
    else:
        top, bottom, ground_color = (
            draw.saturated(rng, 240),
            draw.saturated(rng, 200),
            draw.saturated(rng, 170),
        )
    sky = draw.gradient(h, set_w, top, bottom).astype(np.float32)
    hills = draw.fbm(rng, h, set_w, base=2, octaves=3)[..., None]
    texture = 0.7 + 0.5 * draw.fbm(rng, h, set_w, base=8, octaves=3)[..., None]
    ground = np.float32(ground_color) * texture
    horizon = np.linspace(0, 1, h, dtype=np.float32)[:, None, None] > (0.45 + 0.2 * hills)
    backdrop = np.where(horizon, ground, sky).astype(np.uint8)
    backdrop = cv2.GaussianBlur(backdrop, (0, 0), rng.uniform(1.5, 3.5))  # depth of field
    light = np.array([rng.uniform(-0.6, 0.6), -0.7, 0.6])
    light /= np.linalg.norm(light)
    floor = h * rng.uniform(0.75, 0.9)
    cast = [
        (rng.uniform(0.1, 0.9) * w, rng.uniform(0.08, 0.16) * h, draw.saturated(rng, 220),
         rng.uniform(-2, 2), rng.uniform(0.3, 0.8), rng.uniform(-1, 1))
        for _ in range(int(rng.integers(1, 4)))
    ]  # fmt: skip
    dolly = rng.uniform(-0.4, 0.4) * (set_w - w) / max(n - 1, 1)
    offset0 = rng.uniform(0, set_w - w)
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        offset = int(np.clip(offset0 + dolly * i, 0, set_w - w))
        img = backdrop[:, offset : offset + w].copy()
        shadows = np.zeros((h, w), np.float32)
        for x0, size, _, vx, _, _ in cast:
            cx = (x0 + vx * i) % w
            cv2.ellipse(
                shadows, (int(cx), int(floor)), (int(size * 1.2), int(size * 0.35)), 0, 0, 360, 0.45, -1
            )
        shadows = cv2.GaussianBlur(shadows, (0, 0), 3)
        img = (img * (1 - shadows[..., None])).astype(np.uint8)
        for x0, size, body, vx, freq, look in cast:
            hop = abs(np.sin(i * freq)) * size
            _cg_creature(img, (x0 + vx * i) % w, floor - size - hop, size, body, light, look)
        frames[i] = img
    return frames


@scene("Animation", "cartoon_shots")
def render_cartoon_shots(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """Hand-painted animation look: a scene photograph filmed by a smooth virtual camera and drawn
    as an animator would, in flat smoothed colour regions with dark ink lines."""
    source = draw.photo(rng, draw.SCENE_PHOTOS)
    frames = draw.camera_warp(source, rng, n, h, w, shake=0.0, framing=(1.05, 1.5))
    levels = int(rng.integers(4, 9))
    ink = rng.uniform(0.5, 1.0)
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        smooth = cv2.bilateralFilter(frame, 7, 60, 7)
        flat = (smooth // (256 // levels)) * (256 // levels) + 128 // levels
        gray = cv2.medianBlur(cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY), 5)
        edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
        out[i] = (flat * np.where(edges[..., None] > 0, 1.0, 1 - ink)).astype(np.uint8)
    return out


_SKIN_AND_FUR = (
    (0.96, 0.78, 0.64),
    (0.85, 0.6, 0.45),
    (0.55, 0.38, 0.26),
    (0.7, 0.7, 0.72),
    (0.45, 0.62, 0.9),
    (0.95, 0.85, 0.4),
    (0.6, 0.85, 0.45),
    (0.92, 0.5, 0.55),
)


def _cg_cast(rng: np.random.Generator) -> list[tuple[np.ndarray, float, tuple, float]]:
    """(position, size, colour, hop phase) of each character, spread across the set."""
    count = int(rng.integers(1, 4))
    xs = np.linspace(-1.2, 1.2, count) + rng.normal(0, 0.2, count)
    return [
        (
            np.array([x, 0.0, rng.uniform(-0.8, 0.8)]),
            rng.uniform(0.35, 0.6),
            _SKIN_AND_FUR[int(rng.integers(0, len(_SKIN_AND_FUR)))],
            rng.uniform(0, 6),
        )
        for x in xs
    ]


def _character_spheres(position: np.ndarray, size: float, color, look: np.ndarray) -> list[tuple]:
    """A round CG character made of spheres: body, head, big eyes with pupils, a nose, two ears."""
    body = position + np.array([0, size, 0])
    head = body + np.array([0, size * 1.35, 0])
    parts = [(body, size, color, 0.2), (head, size * 0.8, color, 0.3)]
    for side in (-1, 1):
        eye = head + np.array([side * size * 0.3, size * 0.12, 0]) + look * size * 0.62
        parts.append((eye, size * 0.24, (0.97, 0.97, 0.97), 0.8))
        parts.append((eye + look * size * 0.2, size * 0.1, (0.05, 0.04, 0.03), 0.9))
        parts.append((head + np.array([side * size * 0.55, size * 0.6, 0]), size * 0.22, color, 0.2))
    parts.append(
        (head + look * size * 0.8 - np.array([0, size * 0.15, 0]), size * 0.12, (0.9, 0.4, 0.35), 0.5)
    )
    return parts


def _cg_props(rng: np.random.Generator) -> list[tuple]:
    """Trees (a trunk of stacked spheres under a round canopy) and rocks around the set."""
    parts = []
    for _ in range(int(rng.integers(2, 7))):
        x, z = rng.uniform(-5, 5), rng.uniform(1.5, 7)
        if rng.random() < 0.6:
            for k in range(3):
                parts.append((np.array([x, 0.3 + 0.5 * k, z]), 0.25, (0.45, 0.3, 0.18), 0.0))
            canopy = (rng.uniform(0.1, 0.3), rng.uniform(0.45, 0.7), rng.uniform(0.1, 0.25))
            parts.append((np.array([x, 2.0, z]), rng.uniform(0.8, 1.3), canopy, 0.1))
        else:
            r = rng.uniform(0.2, 0.6)
            parts.append((np.array([x, r * 0.6, z]), r, (0.55, 0.55, 0.5), 0.05))
    return parts


def _cg_stage(rng: np.random.Generator) -> rt.Stage:
    """A daylight or sunset set: sky colours, a textured ground, the sun's direction and haze."""
    time_of_day = int(rng.integers(0, 2))
    sky_top, sky_horizon = [
        ((0.3, 0.55, 0.95), (0.75, 0.87, 0.98)),
        ((0.35, 0.3, 0.6), (0.98, 0.65, 0.4)),
    ][time_of_day]
    ground = [(0.35, 0.62, 0.25), (0.8, 0.7, 0.5), (0.55, 0.4, 0.28), (0.5, 0.55, 0.6)][
        int(rng.integers(0, 4))
    ]
    light = np.array([rng.uniform(-0.8, 0.8), rng.uniform(0.5, 1.0), rng.uniform(-0.9, -0.2)])
    texture = (
        draw.fbm(rng, 64, 64, base=8, octaves=3)
        if rng.random() < 0.6
        else np.indices((64, 64)).sum(0) % 16 / 15
    )
    return rt.Stage(
        np.float32(sky_top),
        np.float32(sky_horizon),
        np.float32(ground) * rng.uniform(0.8, 1.1),
        texture.astype(np.float32),
        (light / np.linalg.norm(light)).astype(np.float32),
        rng.uniform(0.02, 0.1),
    )


@scene("Animation", "cg_films")
def render_cg_films(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A shot from a 3D-animated film: round characters with big glossy eyes hopping on a lit set with
    trees and rocks, soft shadows and haze, filmed by a smoothly orbiting perspective camera."""
    stage, cast, props = _cg_stage(rng), _cg_cast(rng), _cg_props(rng)
    radius, height = rng.uniform(3.5, 6), rng.uniform(0.8, 2.2)
    angle0, sweep = rng.uniform(-0.5, 0.5), rng.uniform(-0.25, 0.25)
    fov = rng.uniform(35, 60)
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        angle = angle0 + sweep * i / max(n - 1, 1)
        eye = np.array([radius * np.sin(angle), height, -radius * np.cos(angle)])
        look = -eye * np.array([1, 0, 1])
        look /= np.linalg.norm(look)
        parts = list(props)
        for position, size, color, phase in cast:
            hop = abs(np.sin(i * 0.35 + phase)) * size * 0.5
            parts += _character_spheres(position + np.array([0, hop, 0]), size, color, -look)
        spheres = rt.Spheres(
            np.array([p[0] for p in parts], np.float32),
            np.array([p[1] for p in parts], np.float32),
            np.array([p[2] for p in parts], np.float32),
            np.array([p[3] for p in parts], np.float32),
        )
        rays = rt.camera_rays(h, w, eye, np.array([0, 0.9, 0]), fov)
        frames[i] = cv2.GaussianBlur(rt.render(rays, eye, spheres, stage), (3, 3), 0.6)
    return frames


@scene("Animation", "cg_look_shots")
def render_cg_look_shots(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """Computer-animated film look: scene photographs rebuilt as smooth, clean surfaces (fine texture
    and noise flattened away, colours saturated, soft light falloff), filmed by a smooth virtual camera."""
    source = draw.photo(rng, draw.SCENE_PHOTOS)
    small = cv2.resize(source, (w * 2, h * 2), interpolation=cv2.INTER_AREA)
    smooth = cv2.pyrMeanShiftFiltering(small, int(rng.integers(6, 14)), int(rng.integers(25, 50)))
    smooth = cv2.bilateralFilter(smooth, 9, 75, 9)
    hsv = cv2.cvtColor(smooth, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1.2, 1.7), 0, 255)
    clean = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    frames = draw.camera_warp(clean, rng, n, h, w, shake=0.0, framing=(1.05, 1.4))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    falloff = 1 - 0.35 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 4 * rng.uniform(0.3, 1)
    return np.clip(frames * falloff[None, ..., None], 0, 255).astype(np.uint8)
