"""A tiny ray tracer for CG-film shots: spheres on a ground plane under a sky, seen through a moving
perspective camera, with diffuse and specular shading, rim light, cast shadows and distance fog.
Cheap enough (a few milliseconds per small frame) to render every demo clip at build time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_FAR = np.float32(1e9)


@dataclass
class Spheres:
    centres: np.ndarray  # [S, 3]
    radii: np.ndarray  # [S]
    colors: np.ndarray  # [S, 3] in 0..1
    shininess: np.ndarray  # [S] specular weight 0..1


@dataclass(frozen=True)
class Stage:
    sky_top: np.ndarray  # colours in 0..1
    sky_horizon: np.ndarray
    ground: np.ndarray
    ground_texture: np.ndarray  # [T, T] in 0..1, tiled over the ground plane
    light: np.ndarray  # unit vector towards the light
    fog: float


def camera_rays(h: int, w: int, eye: np.ndarray, target: np.ndarray, fov_deg: float) -> np.ndarray:
    """Unit ray directions [h, w, 3] of a pinhole camera at `eye` looking at `target` (y is up)."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    right = np.cross(np.array([0.0, 1.0, 0.0]), forward)  # x to the right, y up, z into the screen
    right = right / np.linalg.norm(right)
    up = np.cross(forward, right)
    half = np.tan(np.deg2rad(fov_deg) / 2)
    xs = np.linspace(-half, half, w, dtype=np.float32)
    ys = np.linspace(half * h / w, -half * h / w, h, dtype=np.float32)
    rays = forward[None, None] + xs[None, :, None] * right[None, None] + ys[:, None, None] * up[None, None]
    return (rays / np.linalg.norm(rays, axis=-1, keepdims=True)).astype(np.float32)


def _hit_spheres(origins: np.ndarray, rays: np.ndarray, spheres: Spheres) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit distance and sphere index per ray (distance _FAR where nothing is hit)."""
    offset = origins[..., None, :] - spheres.centres  # [..., S, 3]
    b = np.einsum("...k,...sk->...s", rays, offset)
    c = np.einsum("...sk,...sk->...s", offset, offset) - spheres.radii**2
    disc = b * b - c
    t = np.where(disc > 0, -b - np.sqrt(np.maximum(disc, 0)), _FAR)
    t = np.where(t > 1e-3, t, _FAR)
    index = t.argmin(-1)
    return np.take_along_axis(t, index[..., None], -1)[..., 0], index


def render(rays: np.ndarray, eye: np.ndarray, spheres: Spheres, stage: Stage) -> np.ndarray:
    """Shade one frame: [h, w, 3] uint8 RGB."""
    h, w = rays.shape[:2]
    origins = np.broadcast_to(eye.astype(np.float32), rays.shape)
    t_sphere, index = _hit_spheres(origins, rays, spheres)
    t_ground = np.where(rays[..., 1] < -1e-4, -eye[1] / np.minimum(rays[..., 1], -1e-4), _FAR)
    up = np.clip(rays[..., 1:2], 0, 1)
    image = stage.sky_horizon * (1 - up) + stage.sky_top * up

    ground = (t_ground < t_sphere) & (t_ground < _FAR)
    points = eye + rays * t_ground[..., None]
    size = stage.ground_texture.shape[0]
    u = (points[..., 0] * 4).astype(np.int64) % size
    v = (points[..., 2] * 4).astype(np.int64) % size
    albedo = stage.ground * (0.75 + 0.5 * stage.ground_texture[v, u])[..., None]
    # Shadow rays only for the visible ground: they are most of the frame's cost otherwise.
    shadowed = np.full(ground.shape, _FAR, np.float32)
    shadowed[ground], _ = _hit_spheres(
        points[ground] + stage.light * 1e-3, np.broadcast_to(stage.light, points[ground].shape), spheres
    )
    lit = np.where(shadowed < _FAR, 0.45, 1.0)[..., None] * max(float(stage.light[1]), 0.2) + 0.35
    ground_color = albedo * lit
    fog = 1 - np.exp(-stage.fog * t_ground)[..., None]
    ground_color = ground_color * (1 - fog) + stage.sky_horizon * fog
    image = np.where(ground[..., None], ground_color, image)

    body = t_sphere < np.minimum(t_ground, _FAR)
    points = eye + rays * t_sphere[..., None]
    normals = points - spheres.centres[index]
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True) + 1e-6
    diffuse = np.clip(normals @ stage.light, 0, 1)[..., None]
    half_vector = stage.light - rays
    half_vector /= np.linalg.norm(half_vector, axis=-1, keepdims=True) + 1e-6
    specular = np.clip(np.einsum("...k,...k->...", normals, half_vector), 0, 1) ** 40
    rim = (1 - np.clip(-np.einsum("...k,...k->...", normals, rays), 0, 1)) ** 3
    color = spheres.colors[index] * (0.3 + 0.75 * diffuse)
    color = color + (spheres.shininess[index] * specular)[..., None] + 0.25 * rim[..., None] * stage.sky_top
    image = np.where(body[..., None], color, image)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8).reshape(h, w, 3)
