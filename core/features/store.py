"""Reading HDF5 feature files (docs/formats.md): validated before anything large is read;
one-video reads and chunked reads keep memory bounded."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from core.classes import CLASS_NAMES
from core.features.recipe import RECIPE_ATTR, FeatureRecipe
from core.paths import ProjectPaths, split_of

REQUIRED_DATASETS: tuple[str, ...] = ("features", "labels", "num_frames")
# A streamed read holds about this many bytes of padded features at a time, and never more
# than MAX_CHUNK_ROWS videos, so per-chunk bookkeeping stays small for tiny features too.
CHUNK_BYTES = 64 * 2**20
MAX_CHUNK_ROWS = 4096
STRING_DTYPE = h5py.string_dtype(encoding="utf-8")


class FeatureFileError(ValueError):
    """A feature file that cannot be used, with the file and the problem in the message."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


@dataclass
class FeatureSet:
    """A whole split in memory: padded features plus everything needed to label the rows."""

    features: np.ndarray
    labels: np.ndarray
    num_frames: np.ndarray
    video_names: list[str]
    class_names: list[str]
    recipe: FeatureRecipe | None
    path: Path | None = None

    @property
    def num_videos(self) -> int:
        return int(self.labels.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[2])

    @property
    def max_frames(self) -> int:
        return int(self.features.shape[1])

    def video(self, index: int) -> np.ndarray:
        return self.features[index, : int(self.num_frames[index])]

    def iter_chunks(self, rows: int) -> Iterator[FeatureChunk]:
        """The in-memory features as views of `rows` videos, like `FeatureFile.iter_chunks`."""
        for start in range(0, self.num_videos, rows):
            yield FeatureChunk(start, self.features[start : start + rows])


@dataclass(frozen=True)
class FeatureChunk:
    """Rows `start .. start + len(features)` of a split's padded features."""

    start: int
    features: np.ndarray


def chunk_rows(max_frames: int, feature_dim: int, budget_bytes: int = CHUNK_BYTES) -> int:
    """How many padded float32 videos a streamed read takes at once."""
    row_bytes = max(1, max_frames * feature_dim * 4)
    return int(min(MAX_CHUNK_ROWS, max(1, budget_bytes // row_bytes)))


def _non_finite_rows(features: np.ndarray) -> np.ndarray:
    """Indices of the rows holding a NaN or inf. A float64 sum of float32 values cannot overflow
    and carries any NaN or inf through, so no boolean copy of the whole chunk is made."""
    with np.errstate(invalid="ignore"):  # inf + -inf is NaN: exactly what is looked for
        sums = features.sum(axis=(1, 2), dtype=np.float64)
    return np.flatnonzero(~np.isfinite(sums))


def _bad_rows_message(features: np.ndarray, start: int, names: Sequence[str]) -> str | None:
    bad_rows = _non_finite_rows(features)
    if not bad_rows.size:
        return None
    listed = ", ".join(names[start + i] for i in bad_rows[:5])
    return f"{bad_rows.size} video(s) contain NaN or inf values: {listed}"


@dataclass(frozen=True)
class FeatureIndex:
    """What labels a split's rows, without the features: all a page needs beside predictions."""

    labels: np.ndarray
    num_frames: np.ndarray
    video_names: list[str]
    class_names: list[str]


def legacy_video_names(index_dir: Path, num_videos: int) -> list[str] | None:
    """Names from the original `processed_data.pt` index, in feature-row order (docs/formats.md).

    Returns None when the index is absent or does not describe exactly `num_videos` videos,
    because a partial match would silently attach names to the wrong rows.
    """
    import torch

    if not index_dir.is_dir():
        return None
    names: list[str] = []
    for category in sorted(p for p in index_dir.iterdir() if p.is_dir()):
        for subcategory in sorted(p for p in category.iterdir() if p.is_dir()):
            index_file = subcategory / "processed_data.pt"
            if not index_file.is_file():
                continue
            try:
                content = torch.load(index_file, map_location="cpu", weights_only=True)
            except Exception:
                return None
            filenames = content.get("filenames") if isinstance(content, dict) else None
            if not isinstance(filenames, list):
                return None
            names.extend(str(name) for name in filenames)
    return names if len(names) == num_videos else None


def available_memory() -> int:
    """Bytes of memory the OS can give without swapping (MemAvailable), else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _size(num_bytes: float) -> str:
    return f"{num_bytes / 2**30:.1f} GiB" if num_bytes >= 2**30 else f"{num_bytes / 2**20:.1f} MiB"


def _check_unique(path: Path, names: list[str]) -> None:
    first_row: dict[str, int] = {}
    for row, name in enumerate(names):
        if name in first_row:
            raise FeatureFileError(
                path,
                f"video name {name!r} appears twice (rows {first_row[name]} and {row}); names must be unique",
            )
        first_row[name] = row


def decode_attr(value: object) -> object:
    return value.decode("utf-8") if isinstance(value, bytes) else value


class FeatureFile:
    """An open, validated feature file. Datasets stay on disk until asked for."""

    def __init__(self, path: str | Path, legacy_index_dir: Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FeatureFileError(self.path, "file not found; run `python -m core extract` to create it")
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as exc:
            raise FeatureFileError(self.path, f"not a readable HDF5 file ({exc})") from None
        try:
            self._validate_layout()
            self.labels = self._read_labels()
            self.num_frames = np.asarray(self._read_dataset("num_frames"), dtype=np.int32)
            self.class_names = self._read_class_names()
            self._validate_index_arrays()
            self.recipe = self._read_recipe()
            self.video_names = self._read_video_names(legacy_index_dir)
        except BaseException:
            self._h5.close()
            raise

    def __enter__(self) -> FeatureFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._h5.close()

    @property
    def num_videos(self) -> int:
        return int(self.labels.shape[0])

    @property
    def max_frames(self) -> int:
        return int(self._h5["features"].shape[1])

    @property
    def feature_dim(self) -> int:
        return int(self._h5["features"].shape[2])

    def read_video(self, index: int) -> np.ndarray:
        """One video's unpadded [T, D] sequence, read without touching the other rows."""
        if not 0 <= index < self.num_videos:
            raise IndexError(f"{self.path}: video index {index} out of range 0..{self.num_videos - 1}")
        length = int(self.num_frames[index])
        row = np.asarray(self._h5["features"][index, :length], dtype=np.float32)
        if not np.isfinite(row).all():
            raise FeatureFileError(self.path, f"video {index} ({self.video_names[index]}) has NaN or inf")
        return row

    def require_videos(self) -> None:
        """Files without videos are valid (a recipe carrier); analysing one is not."""
        if self.num_videos == 0:
            raise FeatureFileError(self.path, "holds no videos; extract some with `python -m core extract`")

    def iter_chunks(self, rows: int) -> Iterator[FeatureChunk]:
        """The padded features, `rows` videos at a time, each chunk NaN-checked like `read_all`:
        memory stays bounded by the chunk, however many videos the file holds."""
        self.require_videos()
        if rows < 1:
            raise ValueError(f"chunk rows must be at least 1, got {rows}")
        for start in range(0, self.num_videos, rows):
            # Built in the yield expression: a local name would keep this chunk alive while the
            # next one is read, doubling peak memory.
            yield FeatureChunk(start, self._read_checked_rows(start, start + rows))

    def read_range(self, start: int, stop: int) -> FeatureSet:
        """Rows `start .. stop` as a split of their own, NaN-checked like `iter_chunks`: how a
        worker reads its share of a file without touching the rest."""
        if not 0 <= start < stop <= self.num_videos:
            raise IndexError(f"{self.path}: rows {start}..{stop} out of range 0..{self.num_videos}")
        return FeatureSet(
            features=self._read_checked_rows(start, stop),
            labels=self.labels[start:stop].copy(),
            num_frames=self.num_frames[start:stop].copy(),
            video_names=self.video_names[start:stop],
            class_names=list(self.class_names),
            recipe=self.recipe,
            path=self.path,
        )

    def _read_checked_rows(self, start: int, stop: int) -> np.ndarray:
        features = np.asarray(self._h5["features"][start:stop], dtype=np.float32)
        problem = _bad_rows_message(features, start, self.video_names)
        if problem:
            raise FeatureFileError(self.path, problem)
        return features

    def read_all(self) -> FeatureSet:
        self.require_videos()
        features = np.asarray(self._read_dataset("features"), dtype=np.float32)
        problem = _bad_rows_message(features, 0, self.video_names)
        if problem:
            raise FeatureFileError(self.path, problem)
        return FeatureSet(
            features=features,
            labels=self.labels.copy(),
            num_frames=self.num_frames.copy(),
            video_names=list(self.video_names),
            class_names=list(self.class_names),
            recipe=self.recipe,
            path=self.path,
        )

    def _validate_layout(self) -> None:
        missing = [name for name in REQUIRED_DATASETS if name not in self._h5]
        if missing:
            raise FeatureFileError(
                self.path,
                f"missing dataset(s) {', '.join(missing)}; expected {', '.join(REQUIRED_DATASETS)} "
                "(see docs/formats.md)",
            )
        for name in (*REQUIRED_DATASETS, *(["video_names"] if "video_names" in self._h5 else [])):
            if not isinstance(self._h5[name], h5py.Dataset):
                raise FeatureFileError(
                    self.path, f"'{name}' is a {type(self._h5[name]).__name__}, not a dataset"
                )
        if self._h5["features"].ndim != 3:
            raise FeatureFileError(
                self.path, f"'features' must be [videos, frames, dim], got shape {self._h5['features'].shape}"
            )
        for name in REQUIRED_DATASETS:
            self._check_stored(name)
        for name in ("labels", "num_frames"):
            if self._h5[name].ndim != 1:
                raise FeatureFileError(
                    self.path, f"'{name}' must be one value per video, got shape {self._h5[name].shape}"
                )

    def _check_stored(self, name: str) -> None:
        """A dataset's declared rows must be backed by data in the file: a few-KiB file that
        declares 70 GiB of features is forged or truncated, and reading it would allocate it all."""
        dataset = self._h5[name]
        if dataset.shape[0] == 0:
            return
        if dataset.chunks is None:
            declared = int(np.prod(dataset.shape, dtype=np.float64) * dataset.dtype.itemsize)
            stored_rows = dataset.shape[0] if dataset.id.get_storage_size() >= declared else 0
        else:
            blocks = zip(dataset.shape[1:], dataset.chunks[1:], strict=True)
            chunks_per_row_block = int(np.prod([-(-size // chunk) for size, chunk in blocks]))
            stored_rows = dataset.id.get_num_chunks() // chunks_per_row_block * dataset.chunks[0]
        if stored_rows < dataset.shape[0]:
            raise FeatureFileError(
                self.path,
                f"'{name}' declares {dataset.shape[0]} videos but the file stores data for only "
                f"{stored_rows}; it is truncated or was not written by an extractor",
            )

    def _read_dataset(self, name: str) -> np.ndarray:
        """A whole dataset, after checking that what it declares fits in memory."""
        dataset = self._h5[name]
        declared = int(np.prod(dataset.shape, dtype=np.float64) * dataset.dtype.itemsize)
        available = available_memory()
        if declared > available:
            raise FeatureFileError(
                self.path,
                f"'{name}' declares shape {dataset.shape} ({_size(declared)}), more than the "
                f"{_size(available)} of memory available",
            )
        return dataset[()]

    def _read_labels(self) -> np.ndarray:
        raw = np.asarray(self._read_dataset("labels"))
        if not np.issubdtype(raw.dtype, np.number):
            raise FeatureFileError(self.path, f"'labels' must be class indices, found {raw.dtype} values")
        fractional = np.flatnonzero(raw != np.round(raw)) if raw.dtype.kind == "f" else np.array([], int)
        if fractional.size:
            i = int(fractional[0])
            raise FeatureFileError(
                self.path, f"'labels' must be whole class indices, found {raw[i]} at row {i}"
            )
        return raw.astype(np.int64)

    def _validate_index_arrays(self) -> None:
        n = self._h5["features"].shape[0]
        lengths = {"features": n, "labels": self.labels.shape[0], "num_frames": self.num_frames.shape[0]}
        if len(set(lengths.values())) != 1:
            detail = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise FeatureFileError(self.path, f"inconsistent numbers of videos: {detail}")
        out_of_range = np.flatnonzero((self.num_frames < 1) | (self.num_frames > self.max_frames))
        if out_of_range.size:
            i = int(out_of_range[0])
            raise FeatureFileError(
                self.path,
                f"num_frames out of range 1..{self.max_frames} for {out_of_range.size} video(s), "
                f"first at row {i} (value {int(self.num_frames[i])})",
            )
        unknown = np.flatnonzero((self.labels < 0) | (self.labels >= len(self.class_names)))
        if unknown.size:
            i = int(unknown[0])
            raise FeatureFileError(
                self.path,
                f"unknown label index {int(self.labels[i])} at row {i}; "
                f"category_mapping has {len(self.class_names)} classes",
            )

    def _read_class_names(self) -> list[str]:
        raw = self._h5.attrs.get("category_mapping")
        if raw is None:
            return list(CLASS_NAMES)
        try:
            mapping = json.loads(decode_attr(raw))
            return [name for name, _ in sorted(mapping.items(), key=lambda item: int(item[1]))]
        except (TypeError, ValueError, AttributeError):
            raise FeatureFileError(
                self.path, "attr 'category_mapping' is not JSON of name -> index"
            ) from None

    def _read_recipe(self) -> FeatureRecipe | None:
        raw = self._h5.attrs.get(RECIPE_ATTR)
        if raw is None:
            return None
        try:
            return FeatureRecipe.from_json(decode_attr(raw))
        except (TypeError, ValueError) as exc:
            raise FeatureFileError(self.path, f"attr '{RECIPE_ATTR}' is not a valid recipe ({exc})") from None

    @property
    def names_stored(self) -> bool:
        """Whether the rows are named by the file or the legacy index, not numbered `video_<i>`."""
        return self._names_stored

    def _read_video_names(self, legacy_index_dir: Path | None) -> list[str]:
        self._names_stored = True
        if "video_names" in self._h5:
            names = [decode_attr(name) for name in self._h5["video_names"][()]]
            if len(names) != self.num_videos:
                raise FeatureFileError(
                    self.path, f"'video_names' has {len(names)} entries for {self.num_videos} videos"
                )
            _check_unique(self.path, [str(name) for name in names])
            return [str(name) for name in names]
        if legacy_index_dir is not None:
            legacy = legacy_video_names(legacy_index_dir, self.num_videos)
            if legacy is not None:
                return legacy
        self._names_stored = False
        return [f"video_{i}" for i in range(self.num_videos)]


def default_legacy_index_dir(path: Path) -> Path | None:
    """`data/processed/{split}` beside `features_enhanced/` for a `{split}_features_multiscale.h5` file."""
    candidate = ProjectPaths(path.resolve().parent.parent).legacy_index_dir(split_of(path))
    return candidate if candidate.is_dir() else None


def open_features(path: str | Path, legacy_index_dir: Path | None = None) -> FeatureFile:
    path = Path(path)
    return FeatureFile(path, legacy_index_dir or default_legacy_index_dir(path))


def load_feature_index(path: str | Path, legacy_index_dir: Path | None = None) -> FeatureIndex:
    """Labels, lengths and names of a split; the features stay on disk."""
    with open_features(path, legacy_index_dir) as handle:
        handle.require_videos()
        return FeatureIndex(handle.labels, handle.num_frames, handle.video_names, handle.class_names)


def load_feature_set(path: str | Path, legacy_index_dir: Path | None = None) -> FeatureSet:
    with open_features(path, legacy_index_dir) as handle:
        return handle.read_all()
