"""Notice when a file a long job reads is replaced or rewritten while the job runs, so the job can
blame the changed file instead of what the mixed data did downstream (NaN predictions, say)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


@dataclass(frozen=True)
class InputSnapshot:
    """Device, inode, size and modification time of each input when the job started."""

    identities: dict[Path, tuple[int, int, int, int] | None]

    @classmethod
    def of(cls, paths: Iterable[str | Path]) -> InputSnapshot:
        return cls({Path(p): _identity(Path(p)) for p in paths})

    def changed(self) -> list[Path]:
        """The inputs that were replaced, rewritten or removed since the snapshot."""
        return [path for path, before in self.identities.items() if _identity(path) != before]

    def change_message(self) -> str | None:
        changed = self.changed()
        if not changed:
            return None
        names = ", ".join(str(p) for p in changed)
        return (
            f"{names} changed while this job was reading it; its results would mix old and new data, "
            "so nothing was written. Start the job again"
        )
