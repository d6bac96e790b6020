"""Atomic file replacement: readers see the old file or the complete new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

_TMP_SUFFIX = ".tmp"


def _tmp_prefix(path: Path, pid: int | str) -> str:
    return f".{path.name}.{pid}."


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_files_in(folder: Path, name_glob: str) -> list[Path]:
    """The temp files of saves to names in `folder` matching `name_glob`, live writer or not."""
    return sorted(folder.glob(f"{_tmp_prefix(folder / name_glob, '*')}*{_TMP_SUFFIX}"))


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Temp files of earlier saves to `path` whose writer process is gone (killed mid-write).

    A live writer's temp file is left alone: another process may be saving the same file now."""
    removed = []
    for candidate in temp_files_in(path.parent, path.name):
        pid_text = candidate.name.removeprefix(f".{path.name}.").split(".", 1)[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def current_umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` (hidden, so listings skip it); it replaces `path` when the
    block succeeds and is removed when it fails or is interrupted. The result gets the
    permissions a plain `open()` would give (mkstemp makes 0600 files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_tmp_prefix(path, os.getpid()), suffix=_TMP_SUFFIX)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and its ancestors that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


@contextmanager
def atomic_paths(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """`atomic_path` for files that belong together (a run and its sidecar): every file is written
    to a temporary path, and only when the block succeeds are they put in place, in order. When it
    fails, no target is touched and folders created for them are removed again."""
    targets = [Path(p) for p in paths]
    created = [folder for target in targets for folder in missing_folders(target.parent)]
    temps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            remove_stale_temp_files(target)
            fd, tmp = tempfile.mkstemp(
                dir=target.parent, prefix=_tmp_prefix(target, os.getpid()), suffix=_TMP_SUFFIX
            )
            os.close(fd)
            temps.append(Path(tmp))
        yield list(temps)
        for tmp, target in zip(temps, targets, strict=True):
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, target)
        created = []
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        for folder in created:
            with suppress(OSError):
                folder.rmdir()


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
