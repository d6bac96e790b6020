"""Clips a user uploads: accepted types and a safely named temporary copy."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

from core.video.decode import VIDEO_EXTENSIONS

UPLOAD_TYPES: tuple[str, ...] = tuple(ext.lstrip(".") for ext in VIDEO_EXTENSIONS)


class UnsupportedUpload(ValueError):
    """A file whose name does not end in a video extension the classifier accepts."""


def upload_suffix(filename: str) -> str:
    """The lower-cased extension of an accepted video name, e.g. `.mp4`."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS:
        raise UnsupportedUpload(
            f"{filename}: not a video file the classifier accepts; upload one of {', '.join(UPLOAD_TYPES)}"
        )
    return suffix


@contextmanager
def upload_as_temp_file(data: bytes, filename: str) -> Iterator[Path]:
    """The upload's bytes in a temporary file with a generated name (only the extension is
    kept, because decoders look at it); deleted on exit."""
    suffix = upload_suffix(filename)
    with tempfile.NamedTemporaryFile(prefix="upload-", suffix=suffix) as handle:
        handle.write(data)
        handle.flush()
        yield Path(handle.name)
