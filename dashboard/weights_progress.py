"""A backbone-weights download shown on a Streamlit progress bar (uploads featurised with a
torchvision backbone whose weights are not in the torch hub cache yet)."""

from __future__ import annotations

from typing import Any

from core.features.weights_download import DownloadProgress

MEGABYTE = 1 << 20


def download_reporter(bar: Any, backbone: str) -> DownloadProgress:
    """A callback for `ensure_backbone_weights` that moves `bar` (an `st.progress`)."""

    def report(received: int, total: int | None) -> None:
        done = f"{received / MEGABYTE:.0f}"
        if total:
            bar.progress(min(received / total, 1.0), text=f"Downloading {backbone} weights: "
                         f"{done} of {total / MEGABYTE:.0f} MB")  # fmt: skip
        else:
            bar.progress(0.0, text=f"Downloading {backbone} weights: {done} MB")

    return report
