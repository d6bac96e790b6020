"""The Data explorer's map at 100,000 videos in a real browser (headless Chromium via playwright):
seconds until the map is drawn (first visit, which lays it out, and a second visit, which reads
it from the cache), the points drawn, and seconds from releasing a box or lasso selection to the
page listing the selected videos.

The project is bench/bench_audit.py's synthetic one (train 80%, test 20%; `--steps` x `--dim`
features around 64 centres), without checkpoints: the map is of the frame features, coloured by
true class. The reference is the browser's own first draw of the cached map, measured in the same
run: a selection answering within a small multiple of it is as responsive as the map itself.

    python bench/bench_map_browser.py --videos 100000
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_audit import write_project
from tests.dashboard.browser_support import chromium_page, settle, streamlit_server

TIMEOUT_MS = 1_200_000
SELECTED = re.compile(r"([\d,]+) selected video\(s\)")


def drawn_points(page) -> int:
    """Points in the first map's WebGL traces, read from plotly's own figure data."""
    return page.evaluate(
        """() => document.querySelector('.js-plotly-plot').data
            .filter(t => t.type === 'scattergl').reduce((n, t) => n + t.x.length, 0)"""
    )


def open_map(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/data_explorer")
    page.locator(".js-plotly-plot canvas").first.wait_for(timeout=TIMEOUT_MS)
    settle(page, timeout_ms=TIMEOUT_MS)
    return time.perf_counter() - started


def drag(page, tool: str, fractions: list[tuple[float, float]]) -> tuple[float, int]:
    """Draw with the modebar's `tool` through `fractions` of the plot area; seconds from releasing
    the mouse to the list of selected videos, and how many it lists."""
    plot = page.locator(".js-plotly-plot").first
    plot.hover()
    plot.locator(f'.modebar-btn[data-val="{tool}"]').click()
    box = plot.locator(".nsewdrag").first.bounding_box()
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in fractions]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=4)
    started = time.perf_counter()
    page.mouse.up()
    listed = page.get_by_text(SELECTED).first
    listed.wait_for(timeout=TIMEOUT_MS)
    settle(page, timeout_ms=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    return seconds, int(SELECTED.search(listed.inner_text()).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench_map_browser_") as folder:
        root = Path(folder)
        (root / "features_enhanced").mkdir()
        write_project(root / "features_enhanced", args.videos, args.dim, args.steps)
        with streamlit_server(root) as url, chromium_page(width=1400, height=2400) as page:
            first = open_map(page, url)
            print(f"first visit (reads, averages, lays out and draws): {first:.1f} s", flush=True)
            second = open_map(page, url)
            print(f"second visit (map from the cache): {second:.1f} s; points drawn {drawn_points(page):,}")
            quarter, count = drag(page, "select", [(0.02, 0.02), (0.3, 0.3), (0.5, 0.5)])
            print(f"box over a quarter of the map: {quarter:.1f} s to list {count:,} videos", flush=True)
            ring = [(0.5 + 0.3 * x, 0.5 + 0.3 * y) for x, y in ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, 0))]
            lasso, count = drag(page, "lasso", ring)
            print(f"lasso around the middle: {lasso:.1f} s to list {count:,} videos", flush=True)
            whole, count = drag(page, "select", [(0.01, 0.01), (0.5, 0.5), (0.99, 0.99)])
            print(f"box over the whole map: {whole:.1f} s to list {count:,} videos")
            print(f"selection / cached draw: {max(quarter, lasso, whole) / second:.2f}x (worst of the three)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
