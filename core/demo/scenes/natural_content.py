"""Natural_Content: camera footage of photographs, clouds, foliage, water and terrain."""

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


@scene("Natural_Content", "clouds")
def render_clouds(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    big_h, big_w = h * 2, w * 2
    density = np.clip((draw.fbm(rng, big_h, big_w, base=3, octaves=6) - rng.uniform(0.3, 0.5)) * 2.5, 0, 1)
    sky = draw.gradient(big_h, big_w, (40, 90, int(rng.integers(170, 230))), (150, 190, 240)).astype(
        np.float32
    )
    cloud = _colorize(density, (200, 200, 210), (255, 255, 255)).astype(np.float32)
    landscape = (sky * (1 - density[..., None]) + cloud * density[..., None]).astype(np.uint8)
    if rng.random() < 0.5:
        ridge = (big_h * (0.85 - 0.1 * draw.fbm(rng, 1, big_w, base=4, octaves=3)[0])).astype(int)
        for x, top in enumerate(ridge):
            landscape[top:, x] = (25, 40, 25)
    frames = draw.camera_warp(landscape, rng, n, h, w, shake=rng.uniform(0.5, 2))
    frames = draw.sensor(frames, rng, noise=rng.uniform(2, 6), light_drift=rng.uniform(0.02, 0.1))
    return _osd(frames, rng) if rng.random() < 0.3 else frames


@scene("Natural_Content", "foliage")
def render_foliage(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    big_h, big_w = h * 2, w * 2
    leaves = draw.fbm(rng, big_h, big_w, base=16, octaves=4)
    shade = draw.fbm(rng, big_h, big_w, base=3, octaves=3)
    dark, bright = (
        (int(rng.integers(10, 40)), int(rng.integers(50, 90)), 20),
        (150, 210, int(rng.integers(60, 120))),
    )
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


@scene("Natural_Content", "water")
def render_water(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    deep = (int(rng.integers(0, 40)), int(rng.integers(50, 100)), int(rng.integers(90, 160)))
    light = (int(rng.integers(120, 200)), int(rng.integers(180, 230)), 240)
    ripples = draw.fbm(rng, h * 2, w * 2, base=6, octaves=4)
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
