"""One promotion or restore at a time per ensemble folder.

Promotions of different members also share `training_metrics.csv`, `configuration_analysis.json`
and the promotion record, so the lock covers the whole folder. It is an exclusive, non-blocking
`flock` on a hidden file in that folder: the second writer is refused at once instead of waiting,
and a writer killed mid-way releases it with its process. The file is removed on release, so a
refused or finished promotion leaves no file behind; a writer that locked a file another has just
removed sees that its file is no longer the folder's and refuses too.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.training.member import TrainingError

LOCK_NAME = ".promotion.lock"


def _refused(models_dir: Path) -> TrainingError:
    return TrainingError(
        f"{models_dir}: another promotion or restore is running in this folder; "
        "wait for it to finish, then look again before trying"
    )


def _same_file(fd: int, path: Path) -> bool:
    try:
        held, named = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


@contextmanager
def promotion_lock(models_dir: str | Path) -> Iterator[None]:
    """Hold the folder's promotion lock for the block; raises TrainingError when another process
    or thread holds it."""
    models_dir = Path(models_dir)
    path = models_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise TrainingError(f"{path}: cannot take the promotion lock ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refused(models_dir) from None
        if not _same_file(fd, path):
            raise _refused(models_dir)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)
