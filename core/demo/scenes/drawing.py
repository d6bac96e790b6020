"""Drawing helpers shared by the scenes of every class: colours, gradients, fractal noise,
text, a hand-held camera, a sensor, and crops of the photographs that ship with scikit-image."""

from __future__ import annotations

import cv2
import numpy as np
import skimage.data
from sklearn.datasets import load_sample_image

from core.demo.scenes.registry import Frames

PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "camera", "coins", "moon", "grass",
    "gravel", "brick",
)  # fmt: skip
SCENE_PHOTOS_SKLEARN: tuple[str, ...] = ("china.jpg", "flower.jpg")
# Photographs of whole scenes (people, places, objects), the kind of thing a camera films.
SCENE_PHOTOS: tuple[str, ...] = (
    "astronaut", "chelsea", "coffee", "rocket", "camera", "motorcycle", *SCENE_PHOTOS_SKLEARN,
)  # fmt: skip
# Scene photographs of places people walk through.
PLACE_PHOTOS: tuple[str, ...] = ("camera", "rocket", "motorcycle", "china.jpg")
FONTS: tuple[int, ...] = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX)
MONO_FONT = cv2.FONT_HERSHEY_PLAIN
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def random_color(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(low, high, size=3))  # type: ignore[return-value]


def saturated(rng: np.random.Generator, value: int = 230) -> tuple[int, int, int]:
    hsv = np.uint8([[[rng.integers(0, 180), rng.integers(150, 256), value]]])
    return tuple(int(v) for v in cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0])  # type: ignore[return-value]


def gradient(h: int, w: int, top: tuple[int, ...], bottom: tuple[int, ...]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    column = (1 - t) * np.float32(top) + t * np.float32(bottom)
    return np.broadcast_to(column, (h, w, 3)).astype(np.uint8)


def fbm(rng: np.random.Generator, h: int, w: int, *, base: int = 4, octaves: int = 5) -> np.ndarray:
    """Fractal noise in [0, 1]: random grids of doubling resolution, upsampled and summed."""
    total = np.zeros((h, w), dtype=np.float32)
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.random((cells, cells)).astype(np.float32)
        total += cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC) * 0.5**octave
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def words(rng: np.random.Generator, count: int, lo: int = 2, hi: int = 9) -> str:
    return " ".join("".join(rng.choice(LETTERS, size=int(rng.integers(lo, hi)))) for _ in range(count))


def put_text(
    img: np.ndarray, text: str, org: tuple[int, int], scale: float, color, font: int, thick: int = 1
):
    cv2.putText(img, text, org, font, scale, color, thick, cv2.LINE_AA)


def camera_warp(
    source: np.ndarray,
    rng: np.random.Generator,
    num_frames: int,
    h: int,
    w: int,
    *,
    shake: float,
    framing: tuple[float, float] = (1.5, 2.2),
) -> Frames:
    """Film `source` with a hand-held camera: smooth pan and zoom plus per-frame shake. `framing`
    is the zoom range relative to just covering the frame (1 = the whole source in view)."""
    sh, sw = source.shape[:2]
    base_zoom = max(w / sw, h / sh) * rng.uniform(*framing)
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


def sensor(frames: Frames, rng: np.random.Generator, *, noise: float, light_drift: float) -> Frames:
    """Changing exposure, a little lens blur and per-pixel sensor noise."""
    n = frames.shape[0]
    gains = 1 + light_drift * np.sin(np.linspace(0, rng.uniform(1, 3) * np.pi, n) + rng.uniform(0, 6))
    out = np.empty_like(frames)
    for i in range(n):
        soft = cv2.GaussianBlur(frames[i], (3, 3), 0.6).astype(np.float32) * gains[i]
        out[i] = np.clip(soft + rng.normal(0, noise, size=soft.shape), 0, 255).astype(np.uint8)
    return out


def _load_photo(name: str) -> np.ndarray:
    if name in SCENE_PHOTOS_SKLEARN:
        return load_sample_image(name)
    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def photo(rng: np.random.Generator, names: tuple[str, ...] = PHOTOS) -> np.ndarray:
    image = _load_photo(names[int(rng.integers(0, len(names)))])
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def motion_blur(frame: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """Smear a frame along the camera's motion (dx, dy pixels during the exposure)."""
    length = int(min(max(abs(dx), abs(dy)), 15))
    if length < 2:
        return frame
    kernel = np.zeros((2 * length + 1, 2 * length + 1), np.float32)
    cv2.line(kernel, (length, length), (length + int(np.rint(dx)), length + int(np.rint(dy))), 1.0, 1)
    return cv2.filter2D(frame, -1, kernel / kernel.sum())


def photo_patch(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A random crop of a scikit-image photograph resized to h x w (photos inside screens)."""
    source = photo(rng)
    ph, pw = source.shape[:2]
    ch, cw = int(ph * rng.uniform(0.5, 1.0)), int(pw * rng.uniform(0.5, 1.0))
    y, x = int(rng.integers(0, ph - ch + 1)), int(rng.integers(0, pw - cw + 1))
    return cv2.resize(source[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_AREA)


def posterized_landscape(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A painted-looking background: fractal terrain quantised to a few flat colour bands."""
    bands = int(rng.integers(3, 6))
    levels = np.minimum((fbm(rng, h, w, base=3, octaves=4) * bands).astype(int), bands - 1)
    palette = np.array([saturated(rng, int(v)) for v in np.linspace(120, 250, bands)], dtype=np.uint8)
    return palette[levels]


def cartoon_character(img: np.ndarray, x: float, y: float, size: float, body, squash: float) -> None:
    """An outlined cartoon character: squashable body, round head, big eyes and a smile."""
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
