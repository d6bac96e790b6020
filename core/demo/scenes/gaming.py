"""Gaming: side-scrolling platformers, top-down tile worlds, raycast corridors and racing, each with a HUD."""

from __future__ import annotations

import cv2
import numpy as np

import core.demo.scenes.drawing as draw
from core.demo.scenes.registry import Frames, scene


def _hud(img: np.ndarray, rng_state: tuple[float, int], *, minimap: np.ndarray | None = None) -> None:
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


@scene("Gaming", "platformer")
def render_platformer(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    tile = 12
    cols = w // tile + 2 + int(n * 8 / tile)
    rows = h // tile + 1
    ground_tile = _tile(tile, draw.saturated(rng, 200), rng, "brick")
    block_tile = _tile(tile, draw.saturated(rng, 230), rng, "speckle")
    heights = np.clip(np.cumsum(rng.integers(-1, 2, size=cols)) // 2 + 3, 2, 5)
    level = np.full((rows * tile, cols * tile, 3), 0, dtype=np.uint8)
    level[:] = draw.gradient(rows * tile, 1, draw.saturated(rng, 255), draw.saturated(rng, 220))
    hills = draw.saturated(rng, 170)
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
    player = draw.saturated(rng, 255)
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


@scene("Gaming", "top_down")
def render_top_down(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    tile = 16
    size = 48
    kinds = [
        _tile(tile, draw.saturated(rng, 170), rng, "speckle"),  # grass
        _tile(tile, (60, 110, 220), rng, "plain"),  # water
        _tile(tile, draw.random_color(rng, 150, 200), rng, "speckle"),  # path
        _tile(tile, (110, 110, 120), rng, "brick"),  # wall
    ]
    terrain = draw.fbm(rng, size, size, base=3, octaves=3)
    grid = np.digitize(terrain, [0.3, 0.45, 0.75])
    world = np.concatenate([np.concatenate([kinds[k] for k in row], 1) for row in grid], 0)
    minimap_colors = np.array([kinds[k][tile // 2, tile // 2] for k in range(4)])
    minimap = cv2.resize(minimap_colors[grid].astype(np.uint8), (32, 32), interpolation=cv2.INTER_NEAREST)
    direction = rng.normal(0, 1, size=2)
    direction = direction / np.linalg.norm(direction) * rng.uniform(3, 7)
    start = np.array([size * tile / 2 - w / 2, size * tile / 2 - h / 2])
    npcs = [
        (rng.uniform(0, w), rng.uniform(0, h), draw.saturated(rng, 250))
        for _ in range(int(rng.integers(2, 6)))
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


@scene("Gaming", "corridor_3d")
def render_corridor_3d(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A raycast maze seen in first person, with crosshair, weapon and HUD."""
    size = 16
    maze = (rng.random((size, size)) < 0.28).astype(np.int8)
    maze[0, :] = maze[-1, :] = maze[:, 0] = maze[:, -1] = 1
    maze[6:10, 6:10] = 0
    wall_colors = np.array([draw.saturated(rng, 220) for _ in range(3)], dtype=np.float32)
    wall_kind = rng.integers(0, 3, size=(size, size))
    ceiling = draw.gradient(h // 2, w, draw.random_color(rng, 20, 60), draw.random_color(rng, 60, 120))
    floor = draw.gradient(h - h // 2, w, draw.random_color(rng, 40, 80), draw.random_color(rng, 90, 150))
    fov = np.deg2rad(66)
    steps = np.linspace(0.05, 12, 240, dtype=np.float32)
    position = np.array([8.0, 8.0])
    heading, turn = rng.uniform(0, 2 * np.pi), rng.uniform(-0.12, 0.12)
    gun = draw.random_color(rng, 60, 140)
    # Half the mazes get photographic wall textures (stone, gravel, grass...), as modern shooters do.
    photo_walls = draw.photo_patch(rng, 64, 64).astype(np.float32) if rng.random() < 0.5 else None
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


@scene("Gaming", "racing")
def render_racing(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A pseudo-3D road in front of a photographic backdrop, with speedometer and lap HUD."""
    horizon = h // 2 - int(rng.integers(0, 12))
    backdrop = draw.photo_patch(rng, horizon, w * 2)
    grass = np.float32(draw.saturated(rng, 150)) if rng.random() < 0.5 else np.float32((70, 120, 50))
    road, rumble = np.float32((90, 90, 95)), np.float32(draw.saturated(rng, 230))
    curve, speed = rng.uniform(-1, 1), rng.uniform(0.6, 1.4)
    car = draw.saturated(rng, 230)
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
        draw.put_text(
            img, f"{int(180 + 40 * speed + i)} KM/H", (4, h - 4), 0.8, (255, 255, 255), draw.MONO_FONT
        )
        draw.put_text(img, "LAP 2/3", (w - 52, h - 4), 0.8, (255, 255, 80), draw.MONO_FONT)
        frames[i] = img
    return frames


def _ship(img: np.ndarray, x: float, y: float, size: float, color, light: np.ndarray, down: bool) -> None:
    """A shaded spaceship sprite: a hull polygon with a lit and a shadowed half and a cockpit."""
    tip = y + size if down else y - size
    left = np.array([[x, tip], [x - size * 0.7, y + (-0.6 if down else 0.6) * size], [x, y]], np.int32)
    right = np.array([[x, tip], [x + size * 0.7, y + (-0.6 if down else 0.6) * size], [x, y]], np.int32)
    lit = 0.6 + 0.4 * light[0]
    cv2.fillPoly(img, [left], tuple(int(c * lit) for c in color), cv2.LINE_AA)
    cv2.fillPoly(img, [right], tuple(int(c * (1.6 - lit)) for c in color), cv2.LINE_AA)
    cv2.circle(img, (int(x), int((y + tip) / 2)), max(1, int(size * 0.18)), (120, 220, 255), -1, cv2.LINE_AA)


@scene("Gaming", "shooter")
def render_shooter(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A vertical shoot-'em-up: a dark textured level scrolling under the player's ship, enemy
    waves, glowing shots and explosions, score and lives on top."""
    texture = draw.photo(rng, ("brick", "gravel", "grass", "moon", "coins", "hubble_deep_field"))
    texture = cv2.resize(texture, (w, h * 2), interpolation=cv2.INTER_AREA).astype(np.float32)
    tint = np.float32(draw.saturated(rng, 255)) / 255
    level = np.clip(texture * tint * rng.uniform(0.3, 0.7), 0, 255).astype(np.uint8)
    level = np.concatenate([level, level[::-1]])  # mirrored so the scroll wraps without a seam
    speed = rng.uniform(2, 6)
    light = np.array([rng.uniform(-1, 1), -1.0])
    player = [w / 2, h * 0.82]
    enemies = [[rng.uniform(10, w - 10), rng.uniform(-h, h * 0.4), rng.uniform(-1.5, 1.5)] for _ in range(5)]
    enemy_color, player_color = draw.saturated(rng, 220), draw.saturated(rng, 240)
    shots: list[list[float]] = []
    score, lives = int(rng.integers(0, 5000)) * 10, int(rng.integers(1, 4))
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        top = int(len(level) - h - (i * speed) % (len(level) - h))
        img = level[top : top + h].copy()
        player[0] = float(np.clip(player[0] + rng.normal(0, 5), 10, w - 10))
        if i % 2 == 0:
            shots.append([player[0], player[1] - 8])
        for shot in shots:
            shot[1] -= 9
            cv2.line(img, (int(shot[0]), int(shot[1])), (int(shot[0]), int(shot[1]) + 5), (255, 240, 120), 2)
        shots = [s for s in shots if s[1] > 0]
        for enemy in enemies:
            enemy[0] = (enemy[0] + enemy[2]) % w
            enemy[1] += speed * 0.8
            if enemy[1] > h + 10:
                enemy[1], score = -10.0, score + 100
                cv2.circle(
                    img, (int(enemy[0]), int(h * rng.uniform(0.2, 0.6))), 9, (255, 160, 40), -1, cv2.LINE_AA
                )
            _ship(img, enemy[0], enemy[1], 8, enemy_color, light, down=True)
        _ship(img, player[0], player[1], 10, player_color, light, down=False)
        draw.put_text(img, f"{score:08d}", (4, 12), 0.9, (255, 255, 255), draw.MONO_FONT)
        for life in range(lives):
            _ship(img, w - 10 - 12 * life, 12, 4, player_color, light, down=False)
        frames[i] = img
    return frames
