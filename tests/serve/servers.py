"""Processes the tests start: bound to 127.0.0.1 on a free port, waited for, stopped by PID."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s:g} s")


@contextmanager
def running(command: Sequence[str], ready_url: str, cwd: Path | None = None, env: dict | None = None,
            stderr: Path | None = None) -> Iterator[subprocess.Popen]:  # fmt: skip
    """A server process, answering `ready_url` with 200 before the block runs; stopped by PID."""
    log = open(stderr, "wb") if stderr else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for(ready_url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if stderr:
            log.close()
