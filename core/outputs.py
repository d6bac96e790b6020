"""The one rule for every file a command writes, checked before any work starts.

An output path that exists is refused, naming it and `--overwrite`, unless it is the command's own
earlier output of the same kind (recognised by its content, not its name). With `overwrite`, only
the files the command writes are replaced. Whatever the flag, an output may never be a folder or
another non-regular file, one of the command's own inputs, or the same path as another output of
the same command (a run and its sidecar). A refused command has touched nothing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OwnershipTest = Callable[[Path], bool]


class OutputRefused(ValueError):
    """An output path the command will not write, with the one-line reason and the way out."""


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


def check_outputs(
    outputs: Sequence[PlannedOutput], *, overwrite: bool = False, inputs: Iterable[Path] = ()
) -> None:
    """Raise `OutputRefused` for the first output the rule refuses; touches nothing."""
    inputs = [Path(p) for p in inputs]
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
        _check_existing(output, overwrite)
