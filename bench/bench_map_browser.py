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

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.bench_audit import write_project
from tests.dashboard.browser_support import chromium_page, settle, streamlit_server

TIMEOUT_MS = 1_200_000
SELECTION_TIMEOUT_MS = 180_000
LASSO_RING = [(0.5 + 0.3 * x, 0.5 + 0.3 * y) for x, y in ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, 0))]
SELECTED = re.compile(r"([\d,]+) selected video\(s\)")
LISTED = """() => {
    const found = document.body.innerText.match(/[\\d,]+ selected video\\(s\\)/);
    return found ? found[0] : null;
}"""
CHANGED = f"(before) => {{ const now = ({LISTED})(); return now !== null && now !== before; }}"


def drawn_points(page) -> int:
    """Points in the first map's WebGL traces, read from plotly's own figure data."""
    return page.evaluate(
        """() => document.querySelector('.js-plotly-plot')._fullData
            .reduce((n, trace) => n + trace._length, 0)"""
    )


def open_map(page, url: str) -> float:
    started = time.perf_counter()
    page.goto(f"{url}/data_explorer")
    page.locator(".js-plotly-plot canvas").first.wait_for(timeout=TIMEOUT_MS)
    settle(page, timeout_ms=TIMEOUT_MS)
    return time.perf_counter() - started


def drag(page, tool: str, fractions: list[tuple[float, float]]) -> tuple[float, int] | None:
    """Draw with the modebar's `tool` through `fractions` of the plot area; seconds from releasing
    the mouse to the list of selected videos, and how many it lists (None: no new list within
    `SELECTION_TIMEOUT_MS`)."""
    plot = page.locator(".js-plotly-plot").first
    plot.hover()
    plot.locator(f'.modebar-btn[data-val="{tool}"]').click()
    box = plot.locator(".nsewdrag").first.bounding_box()
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in fractions]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=4)
    before = page.evaluate(LISTED)
    started = time.perf_counter()
    page.mouse.up()
    # The count from a previous selection stays on the page until this one's run replaces it.
    try:
        page.wait_for_function(CHANGED, arg=before, timeout=SELECTION_TIMEOUT_MS)
    except PlaywrightTimeout:
        return None
    settle(page, timeout_ms=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    return seconds, int(SELECTED.search(page.evaluate(LISTED)).group(1).replace(",", ""))


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
            timings = {}
            for name, tool, path in (
                ("box over a quarter of the map", "select", [(0.02, 0.02), (0.3, 0.3), (0.5, 0.5)]),
                ("box over the whole map", "select", [(0.01, 0.01), (0.5, 0.5), (0.99, 0.99)]),
                ("lasso around the middle", "lasso", LASSO_RING),
            ):
                answer = drag(page, tool, path)
                if answer is None:
                    print(f"{name}: no new list within {SELECTION_TIMEOUT_MS / 1000:.0f} s", flush=True)
                    continue
                timings[name], count = answer
                print(f"{name}: {timings[name]:.1f} s to list {count:,} videos", flush=True)
            if timings:
                print(f"selection / cached draw: {max(timings.values()) / second:.2f}x (worst answered)")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
