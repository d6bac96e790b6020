"""The one rule for every file a command writes, checked before any work starts.

An output path that exists is refused, naming it and `--overwrite`, unless it is the command's own
earlier output of the same kind (recognised by its content, not its name). With `overwrite`, only
the files the command writes are replaced. Whatever the flag, an output may never be a folder or
another non-regular file, one of the command's own inputs, or the same path as another output of
the same command (a run and its sidecar). A refused command has touched nothing.

Two writers never race: `hold_outputs` takes an exclusive lock per output path (a hidden
`.NAME.output-lock` beside it, flock'ed, removed again when released), and inside a
`command_scope` (every `python -m core` command) `check_outputs` takes the locks before it
checks and keeps them until the command ends, so a second command writing the same output is
refused in one line rather than checking, then writing over the first.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from core.atomic import missing_folders

OwnershipTest = Callable[[Path], bool]


class OutputRefused(ValueError):
    """An output path the command will not write, with the one-line reason and the way out."""


class OutputBusy(OutputRefused):
    """Another command (or another thread of this one) is writing that output now."""


LOCK_SUFFIX = ".output-lock"
_LOCK_ATTEMPTS = 3
"""A lock file can be removed by its holder just as it is opened; a new one is then taken. Each
retry needs another writer to finish in that instant, so a few attempts suffice."""


def _never(_: Path) -> bool:
    return False


@dataclass(frozen=True)
class PlannedOutput:
    """A file a command is about to write. `is_own` recognises the command's earlier output of the
    same kind, which may be replaced (or resumed) without `--overwrite`."""

    path: Path
    kind: str
    is_own: OwnershipTest = field(default=_never, compare=False)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _nearest_existing_folder(path: Path) -> Path:
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _check_writable_location(output: PlannedOutput) -> None:
    folder = _nearest_existing_folder(output.path)
    if not folder.is_dir():
        raise OutputRefused(f"{output.path}: cannot write the {output.kind}, {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputRefused(f"{output.path}: cannot write the {output.kind}, {folder} is not writable")


def _existing_mode(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None if not path.is_symlink() else 0
    except OSError as exc:
        raise OutputRefused(f"{path}: cannot check it before writing ({exc.strerror})") from None


def _check_existing(output: PlannedOutput, overwrite: bool) -> None:
    mode = _existing_mode(output.path)
    if mode is None:
        return
    if not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputRefused(f"{output.path} is {what}; give a file path for the {output.kind}")
    if not os.access(output.path, os.W_OK) and not os.access(output.path.parent, os.W_OK):
        raise OutputRefused(f"{output.path}: cannot replace it, permission denied")
    if overwrite or output.is_own(output.path):
        return
    raise OutputRefused(
        f"{output.path} already exists and is not {_article(output.kind)} this command wrote; "
        "pass --overwrite to replace it, or choose another path"
    )


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1].lower() in "aeiou" else f"a {kind}"


def lock_file(path: Path) -> Path:
    return path.absolute().parent / f".{path.name}{LOCK_SUFFIX}"


def _same_inode(path: Path, descriptor: int) -> bool:
    try:
        named, held = os.stat(path, follow_symlinks=False), os.fstat(descriptor)
    except FileNotFoundError:
        return False
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _busy(path: Path) -> OutputBusy:
    return OutputBusy(
        f"{path} is being written by another command now; wait for it to finish, or choose another path"
    )


def _lock_once(lock: Path, path: Path) -> int | None:
    """The locked descriptor of `lock`, or None when the file was replaced while being locked."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(lock, flags, 0o666)
    except OSError as exc:
        raise OutputRefused(f"{path}: cannot lock it for writing, {lock} ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OutputRefused(f"{lock} is not a lock file; remove it, then run the command again")
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise _busy(path) from None
    except BaseException:
        os.close(descriptor)
        raise
    if _same_inode(lock, descriptor):
        return descriptor
    os.close(descriptor)
    return None


@contextmanager
def hold_output(path: Path) -> Iterator[None]:
    """An exclusive lock on writing `path` for the block, or `OutputBusy` at once. The lock file
    and any folder made to hold it are removed when the block ends (a folder only when empty,
    so outputs written into it stay); one left by a killed writer is taken over, never waited on."""
    path = Path(path)
    lock = lock_file(path)
    created = missing_folders(lock.parent)
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = None
        for _ in range(_LOCK_ATTEMPTS):
            descriptor = _lock_once(lock, path)
            if descriptor is not None:
                break
        if descriptor is None:
            raise _busy(path)
        try:
            yield
        finally:
            # Removed while still locked, so whoever opened it meanwhile sees it gone and retries.
            lock.unlink(missing_ok=True)
            os.close(descriptor)
    finally:
        for folder in created:
            with suppress(OSError):
                folder.rmdir()


@contextmanager
def hold_outputs(paths: Iterable[Path]) -> Iterator[None]:
    """`hold_output` for several paths at once (taken in a fixed order, all or none)."""
    with ExitStack() as stack:
        for path in sorted({Path(p).absolute() for p in paths}):
            stack.enter_context(hold_output(path))
        yield


class _CommandLocks:
    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.held: set[Path] = set()

    def hold(self, path: Path) -> None:
        key = path.absolute()
        if key not in self.held:
            self.stack.enter_context(hold_output(key))
            self.held.add(key)


_COMMAND_LOCKS: ContextVar[_CommandLocks | None] = ContextVar("command_output_locks", default=None)


@contextmanager
def command_scope() -> Iterator[None]:
    """Outputs checked inside the block stay locked until it ends: a command holds its outputs
    from the check until it has written them and exits."""
    with ExitStack() as stack:
        token = _COMMAND_LOCKS.set(_CommandLocks(stack))
        try:
            yield
        finally:
            _COMMAND_LOCKS.reset(token)


def check_outputs(
    outputs: Sequence[PlannedOutput], *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> None:
    """Raise `OutputRefused` for the first output the rule refuses; touches nothing (inside a
    `command_scope` it first locks each output, `OutputBusy` when another command holds it)."""
    inputs = [Path(p) for p in inputs]
    locks = _COMMAND_LOCKS.get()
    for index, output in enumerate(outputs):
        for other in outputs[:index]:
            if _same_file(output.path, other.path):
                raise OutputRefused(
                    f"{output.path} would be written both as the {other.kind} and as the {output.kind}; "
                    "choose another output name"
                )
        for source in inputs:
            if _same_file(output.path, source):
                raise OutputRefused(
                    f"{output.path} is an input of this command; writing the {output.kind} there would "
                    "destroy it, so choose another output path"
                )
        _check_writable_location(output)
        if locks is not None:
            locks.hold(output.path)
        _check_existing(output, overwrite)
