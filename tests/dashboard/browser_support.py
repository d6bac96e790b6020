"""Real-browser checks: a Streamlit server on a free local port and headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
]
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
SCREENSHOT_DIR_ENV = "SCREENSHOT_DIR"


def require_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(root: Path, timeout_s: float = 120.0) -> Iterator[str]:
    """Serve the app with `root` as the project folder; yields the base URL."""
    port = _free_port()
    env = {**os.environ, "DASHBOARD_ROOT": str(root), "DASHBOARD_DEMO_SCALE": "ci"}
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
    ]  # fmt: skip
    log = open(root / "streamlit.log", "w")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start; see {root / 'streamlit.log'}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@contextmanager
def chromium_page(width: int = 1500, height: int = 1100) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $SCREENSHOT_DIR when set (to refresh docs/screenshots), else tmp."""
    folder = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def wait_for_app_idle(page: object, timeout_ms: int = 120_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms
    )


def settle(page: object, timeout_ms: int = 120_000) -> None:
    """Let Streamlit notice the interaction, then wait for the script run to finish."""
    page.wait_for_timeout(700)
    wait_for_app_idle(page, timeout_ms=timeout_ms)


def clipped_tables(page: object) -> list[list[int]]:
    """[scrollWidth, clientWidth] of every data table that scrolls sideways, i.e. hides columns."""
    return page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
            .map(e => [e.scrollWidth, e.clientWidth]).filter(([scroll, client]) => scroll > client + 1)"""
    )


def truncated_metrics(page: object) -> list[str]:
    """Metric values cut off with an ellipsis (their text is wider than their box)."""
    return page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll(
                '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
