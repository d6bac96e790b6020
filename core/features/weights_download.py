"""Fetching a torchvision backbone's ImageNet weights into the torch hub cache.

The file torchvision's weights API names (`get_model_weights(arch).DEFAULT.url`) is used from
`<torch hub dir>/checkpoints/` when it is there, downloaded into it when the machine is online,
and otherwise named in one message saying which file to put where. The download streams into a
temporary file renamed at the end, so an interrupted download never leaves a truncated file that
the cache would later take for the weights.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import torch

from core.atomic import atomic_path
from core.features.backbones import BackboneError, backbone_spec

DownloadProgress = Callable[[int, int | None], None]
"""(bytes received so far, total bytes or None when the server does not say)."""
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 30.0


def is_torchvision_backbone(name: str) -> bool:
    import torchvision

    try:
        torchvision.models.get_model_weights(name)
    except ValueError:
        return False
    return True


def torchvision_weights_url(arch: str) -> str:
    import torchvision

    return str(torchvision.models.get_model_weights(arch).DEFAULT.url)


def hub_weights_path(arch: str) -> Path:
    """Where torchvision itself would cache the default ImageNet weights of `arch`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(torchvision_weights_url(arch)).name


def download_file(url: str, destination: Path, progress: DownloadProgress | None = None) -> Path:
    """Stream `url` into `destination` atomically; raises OSError (incl. URLError) on failure."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, atomic_path(destination) as tmp:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with open(tmp, "wb") as out:
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    return destination


def offline_message(arch: str, url: str, reason: str) -> str:
    return (
        f"backbone {arch} needs torchvision's ImageNet weights and they could not be downloaded "
        f"({reason}): download {url} on a machine that is online and put it at {hub_weights_path(arch)}, "
        "or pass its path with --weights"
    )


def ensure_backbone_weights(
    name: str, progress: DownloadProgress | None = None, url: str | None = None
) -> Path | None:
    """The weights file `name` loads by default, downloaded into the hub cache when missing.

    None for backbones whose weights ship with a package (nothing to fetch). `url` replaces
    torchvision's address (a mirror, or a local `file://` copy). Raises BackboneError with the
    offline message when the download fails."""
    spec = backbone_spec(name)
    found = spec.default_weights()
    if found is not None or not is_torchvision_backbone(name):
        return found
    source = url or torchvision_weights_url(name)
    try:
        return download_file(source, hub_weights_path(name), progress)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise BackboneError(offline_message(name, source, str(reason))) from None

