"""Videos given by URL, fetched without letting the URL reach inside the network.

Only http(s) is accepted. Every hop, redirects included, is resolved and refused when any of its
addresses is not a public one (loopback, private, link-local where cloud metadata services live,
shared, reserved), unless private addresses are explicitly allowed; the address actually
connected to is checked again before a byte of the body is read, so a name that resolves
differently the second time gains nothing. A direct media URL is streamed to a temporary file
with a size and time cap; a web page (YouTube and the like) is handed to yt-dlp only to find its
media URL, capped in resolution and size, which is then fetched the same checked way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx

from core.video.decode import VIDEO_EXTENSIONS

SCHEMES = ("http", "https")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = ("text/html", "application/xhtml+xml")
ALLOW_FLAG = "--allow-private-urls"


class UrlRefused(ValueError):
    """The URL may not be fetched: its scheme, or an address it leads to."""


class UrlTooLarge(ValueError):
    """The media is larger than the cap."""


class UrlFetchError(ValueError):
    """The URL could not be fetched, or holds no video."""


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 200 * 2**20
    timeout_s: float = 60.0
    allow_private: bool = False
    max_redirects: int = 5
    max_height: int = 720
    """Tallest video format yt-dlp may pick from a page."""


def is_url(text: str) -> bool:
    return "://" in text


def address_refusal(address: str) -> str | None:
    """Why an address may not be fetched from, or None for a public one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global:
        return None
    kinds = [
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (where cloud metadata services answer)"),
        (ip.is_private, "a private address"),
    ]
    return next((kind for flag, kind in kinds if flag), "not a public address")


def check_url(url: str, allow_private: bool) -> None:
    """Refuses a URL that is not http(s), or whose host resolves to any non-public address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise UrlRefused(f"{url}: only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    if not parts.hostname:
        raise UrlRefused(f"{url}: no host in the URL")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        raise UrlFetchError(f"{url}: cannot resolve {parts.hostname} ({exc})") from None
    for info in infos:
        _refuse_address(url, str(info[4][0]))


def _refuse_address(url: str, address: str) -> None:
    refusal = address_refusal(address)
    if refusal is not None:
        raise UrlRefused(
            f"{url}: {urlsplit(url).hostname} is {refusal} ({address}); "
            f"start with {ALLOW_FLAG} to fetch from inside the network"
        )


def _check_peer(url: str, response: httpx.Response, allow_private: bool) -> None:
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not allow_private and peer:
        _refuse_address(url, str(peer[0]))


def _is_page(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").split(";")[0].strip().lower() in PAGE_TYPES


def _stream_body(
    url: str, response: httpx.Response, out: BinaryIO, limits: FetchLimits, deadline: float
) -> None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large(url, limits)
    size = 0
    for chunk in response.iter_bytes(1 << 16):
        size += len(chunk)
        if size > limits.max_bytes:
            raise too_large(url, limits)
        if time.monotonic() > deadline:
            raise UrlFetchError(f"{url}: not fetched within {limits.timeout_s:g} s")
        out.write(chunk)


def too_large(url: str, limits: FetchLimits) -> UrlTooLarge:
    return UrlTooLarge(f"{url}: larger than the limit of {limits.max_bytes / 2**20:g} MB")


def _fetch(client: httpx.Client, url: str, out: BinaryIO, limits: FetchLimits, deadline: float) -> str | None:
    """Streams a media URL into `out`, following redirects hop by checked hop; returns the final
    URL when it is a web page instead (nothing written)."""
    for _ in range(limits.max_redirects + 1):
        check_url(url, limits.allow_private)
        try:
            with client.stream("GET", url) as response:
                _check_peer(url, response, limits.allow_private)
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                if response.status_code >= 400:
                    raise UrlFetchError(f"{url}: the server answered {response.status_code}")
                if _is_page(response):
                    return url
                _stream_body(url, response, out, limits, deadline)
                return None
        except httpx.HTTPError as exc:
            raise UrlFetchError(f"{url}: {type(exc).__name__} ({exc})") from None
    raise UrlFetchError(f"{url}: more than {limits.max_redirects} redirects")


def _page_media_url(page_url: str, limits: FetchLimits) -> str:
    """The media URL yt-dlp finds on a page: one file (no stream fragments), no taller than
    `max_height`, no larger than the cap when the site says its size."""
    import yt_dlp

    class _CheckedYoutubeDL(yt_dlp.YoutubeDL):
        def urlopen(self, req: Any) -> Any:
            check_url(req if isinstance(req, str) else req.url, limits.allow_private)
            return super().urlopen(req)

    height, size = limits.max_height, limits.max_bytes
    options = {
        "quiet": True,
        "no_warnings": True,
        "noplaylist": True,
        "socket_timeout": limits.timeout_s,
        "format": f"best[height<=?{height}][filesize<=?{size}][protocol^=http]"
        f"/best[filesize<=?{size}][protocol^=http]",
        "logger": _Silent(),
    }
    try:
        with _CheckedYoutubeDL(options) as downloader:
            info = downloader.extract_info(page_url, download=False)
    except yt_dlp.utils.YoutubeDLError as exc:
        raise UrlFetchError(
            f"{page_url}: no video found on the page ({' '.join(str(exc).split())})"
        ) from None
    media = (info or {}).get("url")
    if not media:
        raise UrlFetchError(f"{page_url}: no single-file video format on the page")
    return str(media)


class _Silent:
    def debug(self, _message: str) -> None: ...

    def info(self, _message: str) -> None: ...

    def warning(self, _message: str) -> None: ...

    def error(self, _message: str) -> None: ...


def _suffix(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return suffix if suffix in VIDEO_EXTENSIONS else ".mp4"


@contextmanager
def fetched_video(url: str, limits: FetchLimits, temp_dir: Path | None = None) -> Iterator[Path]:
    """The video at `url` in a temporary file, removed on exit. Raises UrlRefused, UrlTooLarge or
    UrlFetchError in one line naming the URL."""
    check_url(url, limits.allow_private)
    handle, name = tempfile.mkstemp(prefix="download-", suffix=_suffix(url), dir=temp_dir)
    path = Path(name)
    deadline = time.monotonic() + limits.timeout_s
    try:
        timeout = httpx.Timeout(limits.timeout_s)
        with os.fdopen(handle, "wb") as out, httpx.Client(timeout=timeout, trust_env=False) as client:
            page = _fetch(client, url, out, limits, deadline)
            if page is not None and _fetch(client, _page_media_url(page, limits), out, limits, deadline):
                raise UrlFetchError(f"{url}: the page's video link leads to another page, not a video")
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
