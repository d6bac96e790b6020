"""`python -m core serve` as a user starts it: installed with `pip install -e .`, run in a project
folder outside the checkout with the default folders, a token required of every API call, one
log line per request; and a public address without a token refused before anything loads."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from core.cli import main
from tests.serve.servers import free_port, running

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def installed_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment (seeing the installed dependencies) with this checkout installed
    editable, as README's set-up command does."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True
    )
    python = venv / "bin" / "python"
    install = [
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "-e",
        str(REPO),
    ]
    subprocess.run(install, check=True, capture_output=True)
    return python


def test_a_public_address_without_a_token_refuses_to_start(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CORE_SERVE_TOKEN_FILE", raising=False)
    assert (
        main(["serve", "--host", "0.0.0.0", "--models", str(tmp_path), "--features", str(tmp_path / "f.h5")])
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--token-file" in err and "Traceback" not in err


def test_installed_server_in_a_project_folder_asks_for_the_token(installed_python, ours, tmp_path):
    assert not ours.resolve().is_relative_to(REPO)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    streamed = tmp_path / "streamed"
    streamed.mkdir()
    env = {**os.environ, "PYTHONPATH": "", "TMPDIR": str(streamed)}
    command = [str(installed_python), "-m", "core", "serve", "--port", str(port),
               "--token-file", str(token_file), "--device", "cpu", "--threads", "1"]  # fmt: skip
    with running(command, f"{base}/healthz", cwd=ours, env=env, stderr=log):
        assert httpx.get(f"{base}/readyz").status_code == 200
        without = httpx.get(f"{base}/api/videos")
        wrong = httpx.get(f"{base}/api/videos", headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
        right = httpx.get(f"{base}/api/videos", headers={"Authorization": f"Bearer {TOKEN}"})
        metrics = httpx.get(f"{base}/metrics")
        abandon_an_upload(port)
        wait_until(lambda: "POST /api/classify 400" in log.read_text())
    assert without.status_code == wrong.status_code == metrics.status_code == 401
    assert list(without.json()) == ["error"] and without.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200 and right.json()["total"] == 12
    lines = log.read_text().splitlines()
    assert sum(" GET /api/videos " in line for line in lines) == 3
    assert not any("Traceback" in line for line in lines)
    assert list(streamed.iterdir()) == []  # the abandoned upload's temporary file is gone


def abandon_an_upload(port: int) -> None:
    """Starts a 1 MB upload, sends part of it, and hangs up."""
    part = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
            b"Content-Type: video/mp4\r\n\r\n" + b"\0" * 20_000)  # fmt: skip
    head = (f"POST /api/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n")  # fmt: skip
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(head.encode() + part)
        time.sleep(0.5)


def wait_until(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
