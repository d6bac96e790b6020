"""One small picture of a video, to show beside its name in a list: its first frame that
decodes, scaled to a fixed width with its aspect ratio kept, as PNG bytes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from core.video.decode import quiet_opencv

THUMBNAIL_WIDTH = 96


def first_frame(path: str | Path) -> np.ndarray | None:
    """The first decodable frame as RGB, or None when the file has none (missing, not a video)."""
    with quiet_opencv():
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            ok, frame = capture.read() if capture.isOpened() else (False, None)
        finally:
            capture.release()
    if not ok or frame is None:
        return None
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def thumbnail_png(path: str | Path, width: int = THUMBNAIL_WIDTH) -> bytes | None:
    """PNG bytes of the first frame at `width` pixels wide; None when no frame decodes."""
    frame = first_frame(path)
    if frame is None:
        return None
    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    return encoded.tobytes() if ok else None
