"""Reading and placing the project's own cache files (`.cache/<kind>/<key>.<ext>`) as untrusted
files: a shared project folder lets anyone put a FIFO, a link or a truncated file there. A cache
file that is not a regular file inside the project is never opened (so never waited on) and
reads as a miss; a cache folder that leads out of the project is neither read nor written."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np


def cache_folder(cache_dir: Path, kind: str) -> Path | None:
    """`<cache_dir>/<kind>`, or None when it leads out of the project (`cache_dir`'s parent, taken
    from the path as given) through a link."""
    folder = Path(cache_dir) / kind
    project = Path(os.path.abspath(cache_dir)).parent
    try:
        inside = folder.resolve().is_relative_to(project.resolve())
    except (OSError, RuntimeError):
        return None
    return folder if inside else None


@contextmanager
def open_cache_file(path: Path) -> Iterator[BinaryIO | None]:
    """The open file at `path`, or None when it is missing or not a regular file (a link, a FIFO, a
    folder). Opened without following a link and without blocking, then checked on the handle,
    so a FIFO swapped in after the first look is still never waited on."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            yield None
            return
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        yield None
        return
    with os.fdopen(descriptor, "rb") as handle:
        yield handle if stat.S_ISREG(os.fstat(descriptor).st_mode) else None


_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def read_npy(stream: BinaryIO, size: int, kinds: str, max_bytes: int) -> np.ndarray | None:
    """The array in the `.npy` bytes of `stream` (`size` bytes long), or None unless its header is
    sound, its dtype kind is one of `kinds` (numbers only, so nothing is unpickled), its data is
    at most `max_bytes` and exactly fills the rest of the stream: a truncated file or a header
    declaring more than the file holds is refused before anything is allocated."""
    try:
        reader = _HEADER_READERS.get(np.lib.format.read_magic(stream))
        if reader is None:
            return None
        shape, fortran_order, dtype = reader(stream)
        expected = math.prod(shape) * dtype.itemsize
        if dtype.kind not in kinds or dtype.hasobject or expected > max_bytes:
            return None
        if expected != size - stream.tell():
            return None
        data = stream.read(expected)
    except (OSError, ValueError, EOFError):
        return None
    if len(data) != expected:
        return None
    # A bytearray keeps the array writable, as np.load's would be.
    return np.frombuffer(bytearray(data), dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
