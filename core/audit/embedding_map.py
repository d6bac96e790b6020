"""A 2-D map of the videos: UMAP (umap-learn) of one vector per video, PCA first when the vectors
are wide, on a uniform sample when there are more videos than a map can lay out quickly.

UMAP is given its neighbour graph from the faiss index the near-duplicate search uses: its own
nearest-neighbour descent is slower here, and compiling it costs a minute on a first map."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA

from core.audit.duplicates import build_index, search, unit_vectors

MAP_SAMPLE_CAP = 10_000
"""Videos laid out at most; above, a uniform random sample (fixed seed) of this many."""
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


def sample_rows(total: int, cap: int = MAP_SAMPLE_CAP, seed: int = 0) -> np.ndarray:
    if total <= cap:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, cap, replace=False))


def _reduced(vectors: np.ndarray, seed: int) -> tuple[np.ndarray, str]:
    dims = min(PCA_DIMS, *vectors.shape)
    if vectors.shape[1] <= PCA_DIMS:
        return vectors, ""
    return PCA(n_components=dims, random_state=seed).fit_transform(
        vectors
    ), f"PCA to {dims} dimensions, then "


def embedding_map(vectors: np.ndarray, cap: int = MAP_SAMPLE_CAP, seed: int = 0) -> EmbeddingMap:
    """UMAP coordinates of (a sample of) the rows; fewer than 4 videos are placed by PCA alone."""
    import umap

    rows = sample_rows(len(vectors), cap, seed)
    chosen = np.asarray(vectors[rows], dtype=np.float32)
    if len(chosen) < MIN_UMAP_VIDEOS:
        components = min(2, *chosen.shape)
        placed = np.zeros((len(chosen), 2), dtype=np.float32)
        if len(chosen) > 1:
            placed[:, :components] = PCA(n_components=components).fit_transform(chosen)
        return EmbeddingMap(placed, rows, len(vectors), "PCA (too few videos for UMAP)")
    reduced, prefix = _reduced(chosen, seed)
    unit = unit_vectors(reduced)
    neighbours = min(NEIGHBOURS, len(chosen) - 1)
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
        # Only `transform` of new points needs UMAP's own search index; maps are fitted whole.
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        coordinates = reducer.fit_transform(unit).astype(np.float32)
    return EmbeddingMap(
        coordinates, rows, len(vectors), f"{prefix}UMAP (cosine, {reducer.n_neighbors} neighbours)"
    )
