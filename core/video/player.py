"""Browser-playable copies of clips for the dashboard's player.

Browsers decode H.264, VP8 and VP9; OpenCV's pip build cannot encode H.264 and writes mp4
files as MPEG-4 Part 2 (`mp4v`), which Chromium does not play, and researchers' clips come as
avi/mkv/mov with any codec. So the player gets a WebM (VP9, else VP8) re-encoding.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import cv2

from core.video.decode import VideoDecodeError

WEBM_CODECS: tuple[str, ...] = ("VP90", "VP80")
MAX_SIDE = 480
MAX_SECONDS = 60.0
DEFAULT_FPS = 25.0


def _output_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    # Even sizes: VP8/VP9 encoders reject odd frame dimensions for 4:2:0 chroma.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _open_writer(path: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    for codec in WEBM_CODECS:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
        if writer.isOpened():
            return writer
    raise VideoDecodeError(path, "this OpenCV build cannot write WebM (VP8/VP9) for the player")


def webm_for_browser(path: str | Path, max_side: int = MAX_SIDE, max_seconds: float = MAX_SECONDS) -> bytes:
    """The clip (its first `max_seconds`) re-encoded as WebM, at most `max_side` pixels wide or high."""
    path = Path(path)
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoDecodeError(path, "not a video OpenCV can open")
        fps = capture.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
        fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS
        ok, frame = capture.read()
        if not ok:
            raise VideoDecodeError(path, "no decodable frame")
        size = _output_size(frame.shape[1], frame.shape[0], max_side)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "clip.webm"
            writer = _open_writer(out, fps, size)
            try:
                for _ in range(int(fps * max_seconds)):
                    if frame.ndim == 2:
                        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                    writer.write(cv2.resize(frame[:, :, :3], size, interpolation=cv2.INTER_AREA))
                    ok, frame = capture.read()
                    if not ok:
                        break
            finally:
                writer.release()
            return out.read_bytes()
    finally:
        capture.release()


# Containers and codecs every current browser decodes: such files are served as they are.
NATIVE_CONTAINERS = {".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm"}
NATIVE_CODECS = {"video/mp4": {"avc1", "h264", "x264"}, "video/webm": {"vp80", "vp90", "vp09"}}


def native_mime_type(path: str | Path) -> str | None:
    """The MIME type to hand the file to the browser unchanged (H.264 mp4, VP8/VP9 WebM), or None
    when it needs `webm_for_browser` first."""
    mime = NATIVE_CONTAINERS.get(Path(path).suffix.lower())
    if mime is None:
        return None
    capture = cv2.VideoCapture(str(path))
    try:
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)) if capture.isOpened() else 0
    finally:
        capture.release()
    codec = fourcc.to_bytes(4, "little").decode("ascii", errors="ignore").lower()
    return mime if codec in NATIVE_CODECS[mime] else None
