"""Fetching a backbone's weights before a command needs them, with a tqdm bar on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from core.features.weights_download import ensure_backbone_weights


class DownloadBar:
    """A byte-counting bar that only appears once a download actually starts."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: tqdm | None = None

    def __call__(self, received: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=self.description, file=sys.stderr)
        self.bar.update(received - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def fetch_weights(backbone: str, given: Path | None) -> None:
    """Download `backbone`'s default weights into the hub cache unless a file was given; raises
    BackboneError (a ValueError the CLI prints) saying which file to put where when offline."""
    if given is not None:
        return
    bar = DownloadBar(f"downloading {backbone} weights")
    try:
        ensure_backbone_weights(backbone, progress=bar)
    finally:
        bar.close()
