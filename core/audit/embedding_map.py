"""A 2-D map of the videos: UMAP (umap-learn) of one vector per video, PCA first when the vectors
are wide. Every video is drawn up to `MAP_POINT_CAP`; UMAP itself lays out a uniform sample of
`MAP_FIT_CAP` of them, and each other video is placed at the similarity-weighted mean of its
nearest sampled videos (where UMAP's own `transform` starts a new point), so a 100,000-video map
costs about what a 10,000-video one does.

UMAP is given its neighbour graph from the faiss index the near-duplicate search uses: its own
nearest-neighbour descent is slower here, and compiling it costs a minute on a first map."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from core.audit.duplicates import build_index, search, unit_vectors

MAP_FIT_CAP = 10_000
"""Videos UMAP lays out itself at most; above, a uniform random sample (fixed seed) of this many."""
MAP_POINT_CAP = 100_000
"""Videos drawn at most; above, a uniform random sample (fixed seed) of this many."""
PCA_DIMS = 50
"""Wider vectors are reduced to this many principal components before UMAP: the neighbour graph
UMAP builds is as good on them and several times faster."""
NEIGHBOURS = 15
MIN_UMAP_VIDEOS = 4
LAYOUT_EPOCHS = 200


@dataclass(frozen=True)
class EmbeddingMap:
    """`coordinates[i]` places video `rows[i]` of the stacked vectors."""

    coordinates: np.ndarray
    rows: np.ndarray
    total: int
    method: str

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.total


def sample_rows(total: int, cap: int, seed: int = 0) -> np.ndarray:
    if total <= cap:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, cap, replace=False))


def _reducer(fitted: np.ndarray, seed: int) -> tuple[PCA | None, str]:
    """PCA fitted on the laid-out sample when the vectors are wide, applied to every video."""
    if fitted.shape[1] <= PCA_DIMS:
        return None, ""
    dims = min(PCA_DIMS, *fitted.shape)
    return PCA(n_components=dims, random_state=seed).fit(fitted), f"PCA to {dims} dimensions, then "


def _too_few_for_umap(chosen: np.ndarray, rows: np.ndarray, total: int) -> EmbeddingMap:
    components = min(2, *chosen.shape)
    placed = np.zeros((len(chosen), 2), dtype=np.float32)
    if len(chosen) > 1:
        placed[:, :components] = PCA(n_components=components).fit_transform(chosen)
    return EmbeddingMap(placed, rows, total, "PCA (too few videos for UMAP)")


def _umap_layout(unit: np.ndarray, neighbours: int, seed: int) -> np.ndarray:
    import umap

    similarities, ids = search(build_index(unit, seed), unit, neighbours)
    reducer = umap.UMAP(
        n_neighbors=neighbours,
        n_components=2,
        metric="cosine",
        random_state=seed,
        n_epochs=LAYOUT_EPOCHS,
        precomputed_knn=(ids, np.clip(1.0 - similarities, 0.0, 2.0), None),
    )
    with warnings.catch_warnings():
        # A fixed random_state makes UMAP single-threaded, and it says so on every call.
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        # Only `transform` of new points needs UMAP's own search index; the rest are placed here.
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        return reducer.fit_transform(unit).astype(np.float32)


def place_by_neighbours(
    laid_out: np.ndarray, coordinates: np.ndarray, others: np.ndarray, neighbours: int, seed: int = 0
) -> np.ndarray:
    """2-D places of `others` (unit vectors): each at the mean of its `neighbours` most similar
    laid-out vectors' coordinates, weighted by similarity (a point's copy lands on it)."""
    similarities, ids = search(build_index(laid_out, seed), others, neighbours)
    found = ids >= 0
    weights = np.where(found, np.clip(similarities, 0.0, None) + 1e-6, 0.0)
    weights = np.where(found.any(axis=1, keepdims=True), weights, 1.0)
    places = coordinates[np.where(found, ids, 0)]
    return (np.einsum("nk,nkd->nd", weights, places) / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def embedding_map(
    vectors: np.ndarray, fit_cap: int = MAP_FIT_CAP, point_cap: int = MAP_POINT_CAP, seed: int = 0
) -> EmbeddingMap:
    """Coordinates of (a sample of `point_cap`) rows: UMAP of up to `fit_cap` of them, the rest
    placed by their nearest laid-out rows; fewer than 4 videos are placed by PCA alone."""
    rows = sample_rows(len(vectors), point_cap, seed)
    if len(rows) < MIN_UMAP_VIDEOS:
        return _too_few_for_umap(np.asarray(vectors[rows], dtype=np.float32), rows, len(vectors))
    fitted = sample_rows(len(rows), fit_cap, seed)
    chosen = np.asarray(vectors[rows], dtype=np.float32)
    pca, prefix = _reducer(chosen[fitted], seed)
    reduced = chosen if pca is None else pca.transform(chosen).astype(np.float32)
    centre = reduced[fitted].mean(axis=0, dtype=np.float64)
    unit = unit_vectors(reduced, centre)
    neighbours = min(NEIGHBOURS, len(fitted) - 1)
    coordinates = np.empty((len(rows), 2), dtype=np.float32)
    coordinates[fitted] = _umap_layout(unit[fitted], neighbours, seed)
    method = f"{prefix}UMAP (cosine, {neighbours} neighbours)"
    others = np.setdiff1d(np.arange(len(rows)), fitted, assume_unique=True)
    if len(others):
        coordinates[others] = place_by_neighbours(
            unit[fitted], coordinates[fitted], unit[others], neighbours, seed
        )
        method += (
            f" of a uniform sample of {len(fitted):,} videos; the other {len(others):,} placed at the "
            f"similarity-weighted mean of their {neighbours} nearest sampled videos"
        )
    return EmbeddingMap(coordinates, rows, len(vectors), method)
