"""The checks a retrain job's folder and its `job.json` pass before anything in them is used.

The app writes these files itself, but a shared project folder (a lab's NFS, a synced folder)
lets anyone change them, so they are read like a user's file: the folder may not be a link out of
the project, the file must be a regular file (a FIFO is never opened, so never waited on), and
every field has the type and range the app writes. A file that fails is that job's one-line
problem in the listing, and Resume and Discard refuse it in that line.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from core.training.member import TrainingConfig

JOB_FILE = "job.json"
JOB_FORMAT = "video-classifier-retrain-job/1"
MAX_JOB_FILE_BYTES = 16 << 20
"""Thousands of epochs' rows take well under a megabyte; a larger file is not one the app wrote."""
MAX_EPOCHS = 1000
"""The most epochs a job may ask for (the retrain form's upper limit)."""
MAX_MEMBER = 9999
MAX_SEED = 2**32 - 1
"""Seeds (and any other whole-number setting) fit in 32 bits, what every generator training seeds
accepts."""
MAX_PID = 2**22
"""Linux's ceiling for pid_max: the worker's pid recorded in a job file."""
_DEVICE = re.compile(r"cpu|cuda(:\d{1,3})?")
_ROW_FIELDS = ("model", "epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
               "time_s")  # fmt: skip
_CLASS_COLUMN = re.compile(r"class_(\d+)_f1")
_EPOCH_COUNTS = ("max_epochs", "patience", "restart_epochs")
_COUNTS = (*_EPOCH_COUNTS, "batch_size")
"""Training settings that count something, so at least 1; epoch counts at most MAX_EPOCHS."""
_SHOWN_CHARACTERS = 40
_OPTION_DEFAULTS = {f.name: getattr(TrainingConfig(), f.name) for f in fields(TrainingConfig)}


class JobFileError(ValueError):
    """A job folder or file that is not used, with its one-line reason."""


@dataclass(frozen=True)
class UnreadableJob:
    folder: Path
    problem: str


def project_of(folder: Path) -> Path:
    """The project a job folder belongs to (`<project>/runs/retrain/<id>`), taken from the path as
    given: resolving first would let a link make any folder its own project."""
    return Path(os.path.abspath(folder)).parents[2]


def _inside(path: Path, project: Path) -> bool:
    return path.resolve().is_relative_to(project.resolve())


def check_job_folder(folder: Path) -> None:
    """A folder inside the project: a link (the folder itself, or `runs/` or `retrain/` above it)
    that leads out of the project is never followed."""
    try:
        os.lstat(folder)
        leaves = not _inside(folder, project_of(folder))
    except (OSError, RuntimeError):
        raise JobFileError(f"{folder}: cannot read the job folder") from None
    if leaves:
        project = project_of(folder)
        raise JobFileError(f"{folder} leads outside the project {project} through a link; not read")
    if not folder.is_dir():
        raise JobFileError(f"{folder} is not a folder")


def job_folders(root: Path) -> list[Path]:
    """The folders (and links) under `root`, newest first; their names are their start times."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    folders = (Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) or e.is_symlink())
    return sorted(folders, reverse=True)


def _read_regular_file(path: Path) -> str:
    """The text of `path` when it is a regular file of a job's size. Opened without following a
    link and without blocking, then checked again on the open handle, so a FIFO swapped in after
    the first check is still never waited on."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise JobFileError(f"{path} is not a regular file; not read")
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise JobFileError(f"{path} is missing") from None
    except OSError as exc:
        raise JobFileError(f"{path}: cannot read it ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise JobFileError(f"{path} is not a regular file; not read")
        if info.st_size > MAX_JOB_FILE_BYTES:
            raise JobFileError(f"{path} holds {info.st_size} bytes, more than any job the app writes")
        data = handle.read(MAX_JOB_FILE_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise JobFileError(f"{path} is not UTF-8 text") from None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range")
    return value


def _only_nan(name: str) -> float:
    """NaN stands for a diverged epoch's loss; Infinity is no number a job holds."""
    if name != "NaN":
        raise ValueError(f"{name} is not a number a job holds")
    return math.nan


def _shown(value: Any) -> str:
    """A found value for a message: a hand-edited file may hold a 4,000-digit number."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else f"{text[:_SHOWN_CHARACTERS]}…"


def _whole(data: Mapping[str, Any], key: str, low: int, high: int, *, optional: bool = False) -> None:
    value = data.get(key)
    if optional and value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"'{key}' should be a whole number from {low} to {high}, found {_shown(value)}")


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_option(key: str, value: Any) -> None:
    if key not in _OPTION_DEFAULTS:
        raise ValueError(f"'options' names {_shown(key)}, which is no training setting")
    default = _OPTION_DEFAULTS[key]
    if isinstance(default, int) and not isinstance(default, bool):
        low = 1 if key in _COUNTS else 0
        _whole({key: value}, key, low, MAX_EPOCHS if key in _EPOCH_COUNTS else MAX_SEED)
        return
    items = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]
    for item in items:
        if not (item is None or isinstance(item, bool | str) or _is_finite_number(item)):
            raise ValueError(f"option '{key}' holds {_shown(item)}, not a finite number, flag or text")


def _check_request(request: Any) -> None:
    if not isinstance(request, dict):
        raise ValueError("'request' should be a dict")
    for key in ("models_dir", "features_dir"):
        if not isinstance(request.get(key), str) or not request[key]:
            raise ValueError(f"'request.{key}' should name a folder")
    _whole(request, "member", 1, MAX_MEMBER)
    _whole(request, "seed", 0, MAX_SEED, optional=True)
    device = request.get("device", "cpu")
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        raise ValueError(f"'request.device' should be cpu or cuda, found {_shown(device)}")
    options = request.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("'request.options' should be a dict of training settings")
    for key, value in options.items():
        _check_option(key, value)


def _check_rows(rows: Any) -> None:
    """One dict per finished epoch, in epoch order, each with the same columns, every value a
    finite number (a loss may be NaN: the epoch diverged)."""
    if not isinstance(rows, list) or len(rows) > MAX_EPOCHS:
        raise ValueError(f"'rows' should be a list of at most {MAX_EPOCHS} epochs")
    columns, last_epoch = None, 0
    for index, row in enumerate(rows):
        if not isinstance(row, dict) or not all(_is_row_value(k, v) for k, v in row.items()):
            raise ValueError(f"'rows' item {index} should map column names to finite numbers")
        classes = sorted(int(m.group(1)) for key in row if (m := _CLASS_COLUMN.fullmatch(key)))
        if any(f not in row for f in _ROW_FIELDS) or not classes or classes != list(range(len(classes))):
            needed = ", ".join(_ROW_FIELDS)
            raise ValueError(f"'rows' item {index} lacks an epoch's columns ({needed}, class_<k>_f1)")
        if columns is not None and set(row) != columns:
            raise ValueError(f"'rows' item {index} has other columns than the rows before it")
        columns = set(row)
        _whole(row, "epoch", last_epoch + 1, MAX_EPOCHS)
        last_epoch = row["epoch"]


def _is_row_value(key: str, value: Any) -> bool:
    diverged = key.endswith("_loss") and isinstance(value, float) and math.isnan(value)
    return diverged or _is_finite_number(value)


def check_job_document(document: Any, folder: Path, states: Collection[str]) -> None:
    """Every field of a job file, typed and in range, before anything is built from it."""
    if not isinstance(document, dict) or document.get("format") != JOB_FORMAT:
        raise ValueError(f"not a retrain job file (its 'format' should be {JOB_FORMAT})")
    job_id = document.get("job_id")
    if job_id != folder.name:
        raise ValueError(f"'job_id' should be its folder's name {folder.name}, found {_shown(job_id)}")
    state = document.get("state")
    if state not in states:
        raise ValueError(f"'state' should be one of {', '.join(states)}, found {_shown(state)}")
    _check_request(document.get("request"))
    _whole(document, "max_epochs", 0, MAX_EPOCHS)
    _whole(document, "seed", 0, MAX_SEED, optional=True)
    _whole(document, "pid", 1, MAX_PID, optional=True)
    for key in ("error", "started_utc"):
        if document.get(key) is not None and not isinstance(document[key], str):
            raise ValueError(f"'{key}' should be text")
    _check_rows(document.get("rows", []))


def read_job_document(folder: Path, states: Collection[str]) -> dict[str, Any]:
    """The checked content of `folder`'s job file; raises JobFileError naming the file."""
    check_job_folder(folder)
    path = folder / JOB_FILE
    text = _read_regular_file(path)
    try:
        document = json.loads(text, parse_float=_finite_float, parse_constant=_only_nan)
        check_job_document(document, folder, states)
    except ValueError as exc:
        raise JobFileError(f"{path}: {exc}") from None
    except RecursionError:
        raise JobFileError(f"{path}: nested too deeply to be a job file") from None
    return document


def check_folders_inside_project(folder: Path, named: Mapping[str, Path]) -> None:
    """The folders a job file names are only read when they are its project's own."""
    project = project_of(folder)
    for what, path in named.items():
        if not _inside(Path(path), project):
            raise JobFileError(
                f"{Path(folder) / JOB_FILE}: its {what} folder {path} is outside the project {project}; "
                "not resumed"
            )


def unreadable_jobs(root: Path, states: Collection[str]) -> list[UnreadableJob]:
    """Every job folder under `root` whose folder or file fails a check, with its problem."""
    found = []
    for folder in job_folders(root):
        try:
            read_job_document(folder, states)
        except JobFileError as exc:
            found.append(UnreadableJob(folder, str(exc)))
    return found


def remove_job_folder(folder: Path) -> None:
    """Delete a job folder the app made: a real folder holding a regular job file. A link is
    refused, never followed, so nothing it points at is deleted."""
    try:
        mode = os.lstat(folder).st_mode
    except OSError as exc:
        raise JobFileError(f"{folder}: cannot discard it ({exc.strerror})") from None
    if stat.S_ISLNK(mode):
        raise JobFileError(f"{folder} is a link, not a job folder the app made; remove the link yourself")
    check_job_folder(folder)
    if not stat.S_ISDIR(mode) or not _is_regular(folder / JOB_FILE):
        raise JobFileError(f"{folder}: not a retrain job folder; not discarded")
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise JobFileError(f"{folder}: could not discard all of it ({exc.strerror})") from None


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
