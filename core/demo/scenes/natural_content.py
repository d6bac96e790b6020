"""Natural_Content: camera footage of photographs, clouds, foliage, water and terrain, hand-held
and static shots of places with people walking, and hand-held close-ups of everyday objects."""

from __future__ import annotations

import cv2
import numpy as np

import core.demo.scenes.drawing as draw
from core.demo.scenes.registry import Frames, scene


def _osd(frames: Frames, rng: np.random.Generator) -> Frames:
    """A camera's on-screen display (timestamp, recording dot) burnt into real footage."""
    day = f"2024-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    for i, frame in enumerate(frames):
        draw.put_text(
            frame,
            f"{day} 12:{i // 60:02d}:{i % 60:02d}",
            (4, frame.shape[0] - 5),
            0.8,
            (255, 255, 255),
            draw.MONO_FONT,
        )
        cv2.circle(frame, (frame.shape[1] - 10, 10), 4, (255, 40, 40), -1)
    return frames


def _lower_third(frames: Frames, rng: np.random.Generator) -> Frames:
    """A broadcast caption bar and channel logo over camera footage."""
    h, w = frames.shape[1:3]
    bar, caption = draw.saturated(rng, 150), draw.words(rng, 3).upper()
    for frame in frames:
        cv2.rectangle(frame, (0, h - 24), (w, h - 8), bar, -1)
        draw.put_text(frame, caption, (6, h - 12), 0.35, (255, 255, 255), draw.FONTS[0])
        draw.put_text(frame, "TV", (w - 22, 14), 0.4, (255, 255, 255), draw.FONTS[2])
    return frames


@scene("Natural_Content", "photographs")
def render_photographs(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    frames = draw.camera_warp(draw.photo(rng), rng, n, h, w, shake=rng.uniform(1, 5))
    frames = draw.sensor(frames, rng, noise=rng.uniform(2, 8), light_drift=rng.uniform(0.03, 0.2))
    return _lower_third(frames, rng) if rng.random() < 0.4 else frames


def _colorize(values: np.ndarray, low: tuple[int, ...], high: tuple[int, ...]) -> np.ndarray:
    v = values[..., None]
    return ((1 - v) * np.float32(low) + v * np.float32(high)).astype(np.uint8)


# Per family (split): (sky top range per channel, sky at the horizon, cloud shadow, cloud light,
# cloud cover offset).
_SKIES = (
    (((40, 90), (90, 91), (170, 230)), (150, 190, 240), (200, 200, 210), (255, 255, 255), (0.3, 0.5)),
    (((110, 140), (115, 135), (120, 150)), (170, 175, 180), (120, 120, 130), (215, 215, 220), (0.05, 0.2)),
    (((60, 90), (40, 60), (100, 140)), (250, 140, 70), (140, 80, 100), (255, 190, 140), (0.5, 0.65)),
)


@scene("Natural_Content", "clouds", families=True)
def render_clouds(rng: np.random.Generator, n: int, h: int, w: int, *, family: int) -> Frames:
    """Blue skies, overcast skies or sunsets, one look per family."""
    top_range, horizon, shadow, light, cover = _SKIES[family]
    big_h, big_w = h * 2, w * 2
    density = np.clip((draw.fbm(rng, big_h, big_w, base=3, octaves=6) - rng.uniform(*cover)) * 2.5, 0, 1)
    top = tuple(int(rng.integers(*r)) for r in top_range)
    sky = draw.gradient(big_h, big_w, top, horizon).astype(np.float32)
    cloud = _colorize(density, shadow, light).astype(np.float32)
    landscape = (sky * (1 - density[..., None]) + cloud * density[..., None]).astype(np.uint8)
    if rng.random() < 0.5:
        ridge = (big_h * (0.85 - 0.1 * draw.fbm(rng, 1, big_w, base=4, octaves=3)[0])).astype(int)
        for x, top_row in enumerate(ridge):
            landscape[top_row:, x] = (25, 40, 25)
    frames = draw.camera_warp(landscape, rng, n, h, w, shake=rng.uniform(0.5, 2))
    frames = draw.sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.02, 0.1))
    return _osd(frames, rng) if rng.random() < 0.3 else frames


# Per family (split): (dark leaf range per channel, bright leaf colour, leaf grain).
_LEAVES = (
    (((10, 40), (50, 90), (20, 21)), ((150, 151), (210, 211), (60, 120)), 16),
    (((60, 90), (20, 40), (5, 15)), ((230, 256), (150, 200), (30, 60)), 10),
    (((5, 15), (30, 50), (30, 50)), ((70, 100), (150, 180), (110, 140)), 28),
)


@scene("Natural_Content", "foliage", families=True)
def render_foliage(rng: np.random.Generator, n: int, h: int, w: int, *, family: int) -> Frames:
    """Summer leaves, autumn leaves or dark conifers, one look per family."""
    dark_range, bright_range, grain = _LEAVES[family]
    big_h, big_w = h * 2, w * 2
    leaves = draw.fbm(rng, big_h, big_w, base=grain, octaves=4)
    shade = draw.fbm(rng, big_h, big_w, base=3, octaves=3)
    dark = tuple(int(rng.integers(*r)) for r in dark_range)
    bright = tuple(int(rng.integers(*r)) for r in bright_range)
    landscape = _colorize(np.clip(leaves * 0.7 + shade * 0.5 - 0.1, 0, 1), dark, bright)
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 4))):
            x = int(rng.integers(0, big_w))
            cv2.line(
                landscape,
                (x, 0),
                (x + int(rng.integers(-30, 30)), big_h),
                (60, 45, 30),
                int(rng.integers(4, 12)),
            )
    frames = draw.camera_warp(landscape, rng, n, h, w, shake=rng.uniform(2, 5))
    sway = np.empty_like(frames)
    for i in range(n):  # wind: the picture sways a little, not rigidly
        dx = (np.sin(np.arange(h) * 0.2 + i * 0.7) * 1.5).astype(np.float32)
        map_x = np.arange(w, dtype=np.float32)[None, :] + dx[:, None]
        map_y = np.repeat(np.arange(h, dtype=np.float32)[:, None], w, 1)
        sway[i] = cv2.remap(frames[i], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return draw.sensor(sway, rng, noise=rng.uniform(3, 8), light_drift=rng.uniform(0.05, 0.2))


# Per family (split): (deep water range per channel, light water range, ripple wave numbers).
_WATERS = (
    (((0, 40), (50, 100), (90, 160)), ((120, 200), (180, 230), (240, 241)), (0.1, 0.3)),
    (((20, 50), (60, 90), (40, 70)), ((140, 190), (200, 230), (170, 200)), (0.04, 0.1)),
    (((0, 30), (110, 150), (140, 180)), ((150, 210), (230, 250), (230, 250)), (0.35, 0.6)),
)


@scene("Natural_Content", "water", families=True)
def render_water(rng: np.random.Generator, n: int, h: int, w: int, *, family: int) -> Frames:
    """Sea, lake or tropical water, one look per family."""
    deep_range, light_range, wave_numbers = _WATERS[family]
    deep = tuple(int(rng.integers(*r)) for r in deep_range)
    light = tuple(int(rng.integers(*r)) for r in light_range)
    ripples = draw.fbm(rng, h * 2, w * 2, base=6, octaves=4)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    k1, k2 = rng.uniform(*wave_numbers, size=2)
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
    return draw.sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.05, 0.15))


@scene("Natural_Content", "terrain")
def render_terrain(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    size = max(h, w) * 2
    height = draw.fbm(rng, size, size, base=4, octaves=6)
    gy, gx = np.gradient(height * 40)
    hillshade = np.clip(0.6 + 0.8 * (gx * 0.7 - gy * 0.7) / np.sqrt(1 + gx**2 + gy**2), 0, 1)
    stops = np.array([0.0, 0.35, 0.6, 0.8, 1.0])
    palette = np.array(
        [[60, 90, 140], [70, 130, 60], [120, 110, 70], [150, 140, 130], [245, 245, 250]], np.float32
    )
    palette[:, 1] *= rng.uniform(0.85, 1.15)
    color = np.stack([np.interp(height, stops, palette[:, c]) for c in range(3)], -1)
    haze = rng.uniform(0, 0.3)
    landscape = np.clip(color * hillshade[..., None] * (1 - haze) + 200 * haze, 0, 255).astype(np.uint8)
    frames = draw.camera_warp(landscape, rng, n, h, w, shake=rng.uniform(0.5, 3))
    frames = draw.sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.05, 0.2))
    return _osd(frames, rng) if rng.random() < 0.3 else frames


@scene("Natural_Content", "handheld_shots")
def render_handheld_shots(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """Everyday footage: a few shots of real scenes, each filmed by a walking, panning camera with
    motion blur, auto-exposure and white-balance drift, joined by hard cuts."""
    cut_points = rng.choice(np.arange(4, n - 3), size=int(rng.integers(0, 3)), replace=False)
    cuts = sorted(int(c) for c in cut_points)
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for start, stop in zip([0, *cuts], [*cuts, n], strict=True):
        source = draw.photo(rng, draw.SCENE_PHOTOS)
        if rng.random() < 0.5:
            source = np.ascontiguousarray(source[:, ::-1])
        shot = draw.camera_warp(source, rng, stop - start, h, w, shake=rng.uniform(2, 8), framing=(1.05, 1.6))
        drift = np.float32(rng.uniform(0.85, 1.15, size=3))
        pan = rng.normal(0, 3, size=2)  # the shot's steady smear while the operator walks or pans
        for i, frame in enumerate(shot):
            blurred = draw.motion_blur(frame, *(rng.normal(0, 4, size=2) + pan))
            balance = 1 + (drift - 1) * i / max(len(shot) - 1, 1)
            frames[start + i] = np.clip(blurred.astype(np.float32) * balance, 0, 255).astype(np.uint8)
    return draw.sensor(frames, rng, noise=rng.uniform(2, 7), light_drift=rng.uniform(0.03, 0.15))


def _walker(img: np.ndarray, x: float, y: float, size: float, coat, skin, step: float) -> None:
    """A distant pedestrian as a camera sees one: head, torso and two swinging legs, slightly soft."""
    head, torso_top, hip = (int(x), int(y - size * 0.9)), int(y - size * 0.78), int(y - size * 0.4)
    cv2.ellipse(
        img,
        (int(x), (torso_top + hip) // 2),
        (max(int(size * 0.14), 1), max((hip - torso_top) // 2, 1)),
        0,
        0,
        360,
        coat,
        -1,
        cv2.LINE_AA,
    )
    cv2.circle(img, head, max(int(size * 0.09), 1), skin, -1, cv2.LINE_AA)
    for side in (-1, 1):
        foot = (int(x + side * np.sin(step) * size * 0.15), int(y))
        cv2.line(
            img, (int(x), hip), foot, tuple(int(c * 0.5) for c in coat), max(int(size * 0.07), 1), cv2.LINE_AA
        )


@scene("Natural_Content", "static_camera")
def render_static_camera(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A camera on a tripod or a wall: a still scene photograph with people walking through it at
    their own pace, larger nearer the camera, under sensor noise and slow exposure changes."""
    source = draw.photo(rng, draw.PLACE_PHOTOS)
    frames = draw.camera_warp(source, rng, n, h, w, shake=rng.uniform(0, 0.6), framing=(1.0, 1.4))
    coats = [draw.random_color(rng, 20, 200) for _ in range(6)]
    walkers = [
        (
            rng.uniform(0, w),
            rng.uniform(0.55, 0.95) * h,
            rng.choice([-1, 1]) * rng.uniform(0.5, 2),
            coats[k % len(coats)],
            (int(rng.integers(150, 240)), int(rng.integers(110, 190)), int(rng.integers(90, 160))),
        )
        for k in range(int(rng.integers(1, 6)))
    ]
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        img = frame.copy()
        for x0, y, vx, coat, skin in walkers:
            size = h * 0.45 * (y / h) ** 2
            _walker(img, (x0 + vx * i) % (w + 20) - 10, y, size, coat, skin, i * 0.9 + x0)
        out[i] = cv2.GaussianBlur(img, (3, 3), 0.8)
    out = draw.sensor(out, rng, noise=rng.uniform(2, 7), light_drift=rng.uniform(0.02, 0.08))
    return _osd(out, rng) if rng.random() < 0.4 else out


def _held_object_still(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An everyday object held up in a hand in front of a plain, out-of-focus indoor wall or table."""
    big_h, big_w = h * 2, w * 2
    wall = draw.gradient(big_h, big_w, draw.random_color(rng, 150, 240), draw.random_color(rng, 110, 210))
    wall = cv2.GaussianBlur(
        wall.astype(np.float32) * (0.8 + 0.3 * draw.fbm(rng, big_h, big_w, base=2)[..., None]), (0, 0), 4
    )
    source = draw.photo(rng, draw.SCENE_PHOTOS)
    ph, pw = source.shape[:2]
    ch, cw = int(ph * rng.uniform(0.25, 0.5)), int(pw * rng.uniform(0.25, 0.5))
    y, x = int(rng.integers(0, ph - ch)), int(rng.integers(0, pw - cw))
    oh, ow = int(big_h * rng.uniform(0.4, 0.6)), int(big_w * rng.uniform(0.3, 0.5))
    thing = cv2.resize(source[y : y + ch, x : x + cw], (ow, oh), interpolation=cv2.INTER_AREA).astype(
        np.float32
    )
    mask = np.zeros((big_h, big_w), np.float32)
    top, left = (big_h - oh) // 2 + int(rng.integers(-10, 10)), (big_w - ow) // 2 + int(rng.integers(-20, 20))
    cv2.rectangle(mask, (left, top), (left + ow, top + oh), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 2)[..., None]
    canvas = np.zeros_like(wall)
    canvas[top : top + oh, left : left + ow] = thing
    image = wall * (1 - mask) + canvas * mask
    skin = np.float32((int(rng.integers(160, 240)), int(rng.integers(120, 190)), int(rng.integers(100, 160))))
    hand = np.zeros((big_h, big_w), np.float32)
    side = left if rng.random() < 0.5 else left + ow
    cv2.ellipse(hand, (side, top + oh * 2 // 3), (big_w // 10, big_h // 6), 0, 0, 360, 1.0, -1)
    for k in range(4):
        cv2.line(
            hand,
            (side, top + oh // 3 + k * oh // 10),
            (side + (ow // 6 if side == left else -ow // 6), top + oh // 3 + k * oh // 10),
            1.0,
            max(big_h // 30, 2),
        )
    hand = cv2.GaussianBlur(hand, (0, 0), 1.5)[..., None]
    shading = 0.75 + 0.35 * draw.fbm(rng, big_h, big_w, base=2, octaves=2)[..., None]
    return np.clip(image * (1 - hand) + skin * shading * hand, 0, 255).astype(np.uint8)


@scene("Natural_Content", "close_ups")
def render_close_ups(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """Hand-held close-ups of everyday things, as in home videos and product clips: an object held
    up in front of a plain indoor background, with shake, motion blur, refocusing and auto-exposure."""
    still = _held_object_still(rng, h, w)
    frames = draw.camera_warp(still, rng, n, h, w, shake=rng.uniform(3, 9), framing=(1.0, 1.3))
    out = np.empty_like(frames)
    focus = rng.uniform(0, 1.5, size=n)
    for i, frame in enumerate(frames):
        blurred = draw.motion_blur(frame, *rng.normal(0, 4, size=2))
        out[i] = cv2.GaussianBlur(blurred, (0, 0), 0.3 + focus[i]) if focus[i] > 0.4 else blurred
    return draw.sensor(out, rng, noise=rng.uniform(3, 8), light_drift=rng.uniform(0.05, 0.2))
