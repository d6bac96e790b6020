"""How a server runs: where it listens, who may call it, and the bounds on its work."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

LOCAL_HOST = "127.0.0.1"
TOKEN_ENV = "CORE_SERVE_TOKEN_FILE"
"""The environment variable naming the bearer token file, for deployments that set no flags."""
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class ServeSettings:
    host: str = LOCAL_HOST
    port: int = 8000
    token: str | None = None
    max_upload_bytes: int = 200 * 2**20
    allow_private_urls: bool = False
    max_batch: int = 32
    max_wait_ms: float = 10.0
    max_queue: int = 256
    max_clip_jobs: int = 4
    """Uploads and URLs waiting or running at once; each decodes a clip and runs the backbone."""
    request_timeout_s: float = 120.0
    url_timeout_s: float = 60.0
    temp_dir: Path | None = None
    """Where uploads and downloads are streamed to (default: the system's temporary folder)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token_file(path: Path) -> str:
    """The bearer token in `path` (surrounding whitespace ignored); a missing, unreadable or short
    token is refused in one line."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the token file ({exc.__class__.__name__})") from None
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ValueError(
            f"{path}: the token must be one word of at least {MIN_TOKEN_CHARS} characters; "
            "make one with `python -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE`"
        )
    return token


def resolve_token(token_file: Path | None) -> str | None:
    """The token from `--token-file`, else from the file `CORE_SERVE_TOKEN_FILE` names, else none."""
    path = token_file or (Path(os.environ[TOKEN_ENV]) if os.environ.get(TOKEN_ENV) else None)
    return None if path is None else read_token_file(path)


def check_exposure(host: str, token: str | None) -> None:
    """A server reachable from other machines must ask callers for a token."""
    if token is None and not is_loopback(host):
        raise ValueError(
            f"--host {host} makes the server reachable from other machines: give --token-file FILE "
            f"(or set {TOKEN_ENV}) so callers need a bearer token, or bind {LOCAL_HOST}"
        )
