"""Gaming: platformers, top-down tile worlds, raycast corridors, racing, shooters, puzzle games,
title menus and fixed-screen arcade games, most with a HUD."""

from __future__ import annotations

import cv2
import numpy as np

import core.demo.scenes.drawing as draw
import core.demo.scenes.game_art as art
from core.demo.scenes.registry import Frames, scene


@scene("Gaming", "platformer")
def render_platformer(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    show_hud = art.shows_hud(rng)
    tile = 12
    cols = w // tile + 2 + int(n * 8 / tile)
    rows = h // tile + 1
    ground_tile = art.tile(tile, draw.saturated(rng, 200), rng, "brick")
    block_tile = art.tile(tile, draw.saturated(rng, 230), rng, "speckle")
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
    player, enemy = art.pixel_sprite(rng), art.pixel_sprite(rng)
    cartoon_hero = draw.saturated(rng, 230) if rng.random() < 0.5 else None  # games have cartoon heroes too
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    health, score = rng.uniform(0.3, 1), int(rng.integers(0, 5000))
    for i in range(n):
        x = int(i * speed)
        img = np.ascontiguousarray(level[-h:, x : x + w])
        column = (x + w // 3) // tile
        ground_y = h - heights[min(column, cols - 1)] * tile
        jump = abs(np.sin(i * 0.35)) * 24
        py = int(ground_y - 20 - jump)
        if cartoon_hero is None:
            art.blit_sprite(img, player, w // 3, py, 2)
        else:
            draw.cartoon_character(img, w // 3 + 8, py + 12, 7, cartoon_hero, 0.15 * np.sin(i * 0.7))
        enemy_x = int(w - (i * speed * 1.5) % w)
        enemy_y = h - heights[min((x + enemy_x) // tile, cols - 1)] * tile - 20
        art.blit_sprite(img, enemy, enemy_x, enemy_y, 2)
        score += int(rng.integers(0, 30))
        if show_hud:
            art.hud(img, (health, score))
        frames[i] = img
    return frames


@scene("Gaming", "top_down")
def render_top_down(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    show_hud = art.shows_hud(rng)
    tile = 16
    size = 48
    kinds = [
        art.tile(tile, draw.saturated(rng, 170), rng, "speckle"),  # grass
        art.tile(tile, (60, 110, 220), rng, "plain"),  # water
        art.tile(tile, draw.random_color(rng, 150, 200), rng, "speckle"),  # path
        art.tile(tile, (110, 110, 120), rng, "brick"),  # wall
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
        if show_hud:
            art.hud(img, (health, score + i * 10), minimap=mini)
        frames[i] = img
    return frames


@scene("Gaming", "corridor_3d")
def render_corridor_3d(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A raycast maze seen in first person, with crosshair, weapon and HUD."""
    show_hud = art.shows_hud(rng)
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
    # Half the mazes get painted wall textures (stone blocks, metal panels), as most shooters do.
    textured_walls = art.wall_texture(rng, 64).astype(np.float32) if rng.random() < 0.5 else None
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
        if textured_walls is None:
            texture = 0.85 + 0.15 * (u * 4 % 1 > 0.5)
            colors = np.broadcast_to((wall_colors[column_kind] * (shade * texture)[:, None])[None], (h, w, 3))
        else:
            v = np.clip((rows - (h - wall_h[None, :]) / 2) / wall_h[None, :], 0, 0.999)
            texels = textured_walls[(v * 64).astype(int), (u * 64).astype(int)[None, :]]
            colors = texels * shade[None, :, None]
        img[wall_mask] = colors[wall_mask].astype(np.uint8)
        bob = int(3 * np.sin(i * 0.8))
        cv2.rectangle(img, (w // 2 - 10, h - 30 + bob), (w // 2 + 10, h), gun, -1)
        cv2.rectangle(img, (w // 2 - 3, h - 40 + bob), (w // 2 + 3, h - 30 + bob), gun, -1)
        cv2.line(img, (w // 2 - 6, h // 2), (w // 2 + 6, h // 2), (0, 255, 0), 1)
        cv2.line(img, (w // 2, h // 2 - 6), (w // 2, h // 2 + 6), (0, 255, 0), 1)
        if show_hud:
            art.hud(img, (health, score + i))
        frames[i] = img
    return frames


@scene("Gaming", "racing")
def render_racing(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A pseudo-3D road in front of a painted sky and mountain backdrop, with speedometer and lap HUD."""
    show_hud = art.shows_hud(rng)
    horizon = h // 2 - int(rng.integers(0, 12))
    backdrop = art.mountain_backdrop(rng, horizon, w * 2)
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
        if show_hud:
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
    show_hud = art.shows_hud(rng)
    if rng.random() < 0.5:
        texture = draw.photo(rng, ("brick", "gravel", "grass", "moon", "coins", "hubble_deep_field"))
        texture = cv2.resize(texture, (w, h * 2), interpolation=cv2.INTER_AREA).astype(np.float32)
    else:  # a space station's hull: metal panels tiled under the ship
        panel = art.wall_texture(rng, 48)
        texture = np.tile(panel, (h * 2 // 48 + 1, w // 48 + 1, 1))[: h * 2, :w].astype(np.float32)
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
        if show_hud:
            draw.put_text(img, f"{score:08d}", (4, 12), 0.9, (255, 255, 255), draw.MONO_FONT)
        for life in range(lives):
            _ship(img, w - 10 - 12 * life, 12, 4, player_color, light, down=False)
        frames[i] = img
    return frames


@scene("Gaming", "puzzle")
def render_puzzle(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A casual puzzle game (bubble shooter, match-three): a framed playfield of glossy pieces that
    pop and fall, a launcher, and a side panel with level, score and the next piece."""
    backdrop = (
        draw.posterized_landscape(rng, h, w) if rng.random() < 0.5 else art.mountain_backdrop(rng, h, w)
    )
    field_w = int(w * rng.uniform(0.45, 0.6))
    left = int(rng.integers(4, w - field_w - 40))
    r = field_w / 16
    colors = [draw.saturated(rng, int(v)) for v in rng.integers(200, 256, size=int(rng.integers(4, 7)))]
    rows, cols = int(rng.integers(4, 8)), 8
    grid = rng.integers(0, len(colors), size=(rows + 6, cols))
    alive = np.ones(grid.shape, bool)
    alive[rows:] = False
    mascot = draw.saturated(rng, 220) if rng.random() < 0.6 else None
    shot = [left + field_w / 2, h - 2 * r, rng.uniform(-3, 3), -6.0, int(rng.integers(0, len(colors)))]
    score, level = int(rng.integers(0, 300)) * 10, int(rng.integers(1, 30))
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        img = backdrop.copy()
        cv2.rectangle(img, (left - 3, 0), (left + field_w + 3, h), (40, 40, 60), -1)
        cv2.rectangle(img, (left - 3, 0), (left + field_w + 3, h), (230, 230, 240), 2)
        if i % 5 == 4:  # a match pops a few neighbouring pieces
            live = np.argwhere(alive)
            if len(live):
                y, x = live[int(rng.integers(0, len(live)))]
                alive[max(y - 1, 0) : y + 1, max(x - 1, 0) : x + 2] = False
                score += 50 * level
        for y, x in np.argwhere(alive):
            cx = left + r + x * 2 * r + (r if y % 2 else 0)
            if cx < left + field_w - r / 2:
                art.glossy_ball(img, cx, r + y * 1.75 * r, r * 0.95, colors[grid[y, x]])
        shot[0], shot[1] = shot[0] + shot[2], shot[1] + shot[3]
        if not left + r < shot[0] < left + field_w - r:
            shot[2] = -shot[2]
        if shot[1] < h * 0.4:
            shot[:4] = [left + field_w / 2, h - 2 * r, rng.uniform(-3, 3), -6.0]
        art.glossy_ball(img, shot[0], shot[1], r * 0.95, colors[shot[4]])
        cv2.line(
            img,
            (left + field_w // 2, h - 4),
            (int(left + field_w / 2 + 18 * np.sin(i * 0.3)), h - 22),
            (250, 250, 250),
            2,
            cv2.LINE_AA,
        )
        panel = left + field_w + 8
        draw.put_text(img, f"LEVEL {level}", (panel, 16), 0.8, (255, 255, 255), draw.MONO_FONT)
        draw.put_text(img, f"{score:07d}", (panel, 32), 0.9, (255, 230, 90), draw.MONO_FONT)
        art.glossy_ball(img, panel + 12, 50, r, colors[(shot[4] + 1) % len(colors)])
        if mascot is not None:  # the game's cartoon mascot cheering beside the playfield
            draw.cartoon_character(img, panel + 16, h - 22 - 4 * abs(np.sin(i * 0.5)), 9, mascot, 0.1)
        frames[i] = img
    return frames


_MENU_WORDS = (
    "START",
    "CONTINUE",
    "OPTIONS",
    "HIGH SCORES",
    "CREDITS",
    "QUIT",
    "MULTIPLAYER",
    "LEVEL SELECT",
)


@scene("Gaming", "title_menu")
def render_title_menu(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A game's title screen: the game playing by itself behind a big outlined logo and a menu whose
    highlight moves, with a blinking prompt."""
    background = [render_platformer, render_top_down, render_racing, render_corridor_3d][
        int(rng.integers(0, 4))
    ]
    frames = (background(rng, n, h, w).astype(np.float32) * rng.uniform(0.4, 0.8)).astype(np.uint8)
    title = draw.words(rng, int(rng.integers(1, 3)), 3, 7).upper()
    fill, edge = draw.saturated(rng, 255), draw.saturated(rng, 90)
    scale = min(1.4, (w - 16) / max(len(title) * 20, 1))
    items = list(rng.choice(_MENU_WORDS, size=int(rng.integers(3, 6)), replace=False))
    panel = bool(rng.random() < 0.5)
    mascot = draw.saturated(rng, 230) if rng.random() < 0.5 else None
    for i, img in enumerate(frames):
        draw.put_text(img, title, (8, int(h * 0.25)), scale, edge, draw.FONTS[2], 6)
        draw.put_text(img, title, (8, int(h * 0.25)), scale, fill, draw.FONTS[2], 2)
        top = int(h * 0.38)
        if panel:
            cv2.rectangle(img, (w // 4, top - 4), (3 * w // 4, top + 14 * len(items)), (20, 20, 50), -1)
            cv2.rectangle(img, (w // 4, top - 4), (3 * w // 4, top + 14 * len(items)), (230, 230, 230), 1)
        selected = (i // 6) % len(items)
        for k, item in enumerate(items):
            color = (255, 230, 60) if k == selected else (235, 235, 235)
            draw.put_text(img, item, (w // 4 + 8, top + 10 + 14 * k), 0.45, color, draw.FONTS[0], 1)
            if k == selected:
                art.blit_sprite(img, art.CURSOR, w // 4 - 6, top + 2 + 14 * k, 1)
        if mascot is not None:
            draw.cartoon_character(img, w - 24, h - 30 - 5 * abs(np.sin(i * 0.4)), 11, mascot, 0.1)
        if i % 8 < 5:
            draw.put_text(img, "PRESS START", (w // 2 - 40, h - 8), 0.4, (255, 255, 255), draw.FONTS[0])
    return frames


@scene("Gaming", "arcade")
def render_arcade(rng: np.random.Generator, n: int, h: int, w: int) -> Frames:
    """A fixed-screen arcade shooter: a formation of pixel-art invaders marching and descending,
    the player's cannon shooting from the bottom, shields, and score, high score and lives."""
    show_hud = art.shows_hud(rng)
    backdrop_kind = int(rng.integers(0, 3))
    if backdrop_kind == 0:
        backdrop = np.zeros((h, w, 3), np.uint8)
        stars = rng.integers(0, [w, h], size=(60, 2))
        backdrop[stars[:, 1], stars[:, 0]] = 200
    elif backdrop_kind == 1:
        backdrop = (art.mountain_backdrop(rng, h, w).astype(np.float32) * 0.45).astype(np.uint8)
    else:  # a flat night sky over a strip of ground
        backdrop = np.full((h, w, 3), draw.random_color(rng, 10, 80), np.uint8)
        backdrop[h - 12 :] = art.tile(12, draw.random_color(rng, 80, 160), rng, "speckle")[:, :1].repeat(w, 1)
    kinds = [art.pixel_sprite(rng) for _ in range(int(rng.integers(1, 4)))]
    cartoon_colors = [draw.saturated(rng, 230), draw.saturated(rng, 200)] if rng.random() < 0.4 else None
    rows, cols, scale = int(rng.integers(2, 5)), int(rng.integers(5, 9)), 2
    player = art.pixel_sprite(rng)
    shields = [(int(x), h - 34) for x in np.linspace(w * 0.15, w * 0.85, 4)]
    speed, score, lives = rng.uniform(1, 3), int(rng.integers(0, 900)) * 10, int(rng.integers(1, 4))
    hit = np.zeros((rows, cols), bool)
    shots: list[list[float]] = []
    frames = np.empty((n, h, w, 3), dtype=np.uint8)
    px = w / 2
    for i in range(n):
        img = backdrop.copy()
        sweep = (i * speed) % (2 * w * 0.25)
        ox = 10 + (sweep if sweep < w * 0.25 else 2 * w * 0.25 - sweep)
        oy = 20 + 3 * (i // 8)
        if i % 4 == 3:
            alive = np.argwhere(~hit)
            if len(alive):
                hit[tuple(alive[int(rng.integers(0, len(alive)))])] = True
                score += 30
        for r, c in np.argwhere(~hit):
            if cartoon_colors is None:
                art.blit_sprite(img, kinds[r % len(kinds)], int(ox + c * 22), int(oy + r * 20), scale)
            else:
                bob = 0.15 * np.sin(i * 0.8 + c)
                draw.cartoon_character(img, ox + c * 22 + 8, oy + r * 20 + 12, 5, cartoon_colors[r % 2], bob)
        for x, y in shields:
            cv2.ellipse(img, (x, y), (10, 7), 0, 180, 360, (60, 220, 60), -1)
        px = float(np.clip(px + rng.normal(0, 6), 10, w - 26))
        art.blit_sprite(img, player, int(px), h - 22, scale)
        if i % 3 == 0:
            shots.append([px + 9, h - 24.0])
        for shot in shots:
            shot[1] -= 8
            cv2.line(img, (int(shot[0]), int(shot[1])), (int(shot[0]), int(shot[1]) + 4), (255, 255, 255), 1)
        shots = [s for s in shots if s[1] > 0]
        if show_hud:
            draw.put_text(img, f"SCORE {score:05d}", (4, 11), 0.8, (255, 255, 255), draw.MONO_FONT)
            draw.put_text(img, "HI 20000", (w // 2 - 20, 11), 0.8, (255, 120, 120), draw.MONO_FONT)
        for life in range(lives):
            art.blit_sprite(img, player, w - 22 - 12 * life, 2, 1)
        frames[i] = img
    return frames
