"""One small picture per video, for lists of videos: a frame from the middle of the clip (the
first is often a black fade-in), decoded with the same reader as the features."""

from __future__ import annotations

from pathlib import Path

import cv2

from core.video.decode import VideoDecodeError, decode_uniform_frames

THUMBNAIL_SIZE = 96
SAMPLED_FRAMES = 3


def thumbnail_png(path: str | Path, size: int = THUMBNAIL_SIZE) -> bytes | None:
    """PNG bytes of the middle of three evenly spread frames, `size` pixels square; None when the
    file cannot be decoded."""
    try:
        clip = decode_uniform_frames(path, SAMPLED_FRAMES, size, min_frames=1)
    except VideoDecodeError:
        return None
    frame = clip.frames[len(clip.frames) // 2]
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return encoded.tobytes() if ok else None
