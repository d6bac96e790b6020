"""Near-identical videos, found with a faiss index over unit vectors (inner product = cosine).

Vectors are centred on the mean of every audited video before they are normalised: frame
features of a frozen CNN are mostly positive and share a large common direction, which would
put every pair of videos at a high cosine; centred, two different clips of the same scene type
score far lower than two copies of one clip. Queries run in chunks against one index, so memory
holds the vectors, the index and one chunk's k neighbours, never an N x N matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from core.audit.settings import NEAR_DUPLICATE_SIMILARITY

ProgressCallback = Callable[[int, int], None]
MATCHES_PER_VIDEO = 10
"""Neighbours looked up per video: a video with more near-copies lists its 10 closest."""
EXACT_SEARCH_LIMIT = 5_000
"""Up to this many vectors the index is exact (IndexFlatIP); above, an inverted-file index."""
IVF_PROBES = 24
QUERY_CHUNK = 2_048
# k-means of the inverted lists: faiss wants 39 to 256 training points per list; 64 and 10
# iterations place the lists well enough for near-copies (which sit in one list or its neighbour)
# at a fraction of the default cost.
TRAINING_POINTS_PER_LIST = 64
TRAINING_ITERATIONS = 10


@dataclass(frozen=True)
class VideoRef:
    """Where a row of the stacked vectors comes from."""

    split: str
    video: str


def unit_vectors(vectors: np.ndarray, centre: np.ndarray | None = None) -> np.ndarray:
    """Rows centred (on `centre`, by default their own mean) and scaled to length 1, float32."""
    centre = vectors.mean(axis=0, dtype=np.float64) if centre is None else centre
    out = np.ascontiguousarray(vectors - centre.astype(np.float32), dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    out /= np.maximum(norms, 1e-12)
    return out


def ivf_lists(num_vectors: int) -> int:
    """Inverted lists for `num_vectors`: about 4 sqrt(N), and few enough to train each one well."""
    return int(max(1, min(4 * np.sqrt(num_vectors), num_vectors // 39)))


def build_index(unit: np.ndarray, seed: int = 0) -> faiss.Index:
    """Exact inner-product search for small sets; above `EXACT_SEARCH_LIMIT` an IVF index that
    scans `IVF_PROBES` of its lists per query (recall measured in bench/bench_audit.py)."""
    dim = unit.shape[1]
    if len(unit) <= EXACT_SEARCH_LIMIT:
        index = faiss.IndexFlatIP(dim)
    else:
        lists = ivf_lists(len(unit))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = rng.choice(len(unit), min(len(unit), lists * TRAINING_POINTS_PER_LIST), replace=False)
        index.cp.seed = seed
        index.cp.niter = TRAINING_ITERATIONS
        index.train(unit[np.sort(sample)])
        index.nprobe = min(IVF_PROBES, lists)
    index.add(unit)
    return index


def search(
    index: faiss.Index, queries: np.ndarray, k: int, progress: ProgressCallback | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Similarities and row ids [queries, k] (id -1 where fewer exist), queried in chunks."""
    k = min(k, index.ntotal)
    similarities = np.zeros((len(queries), k), dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    for start in range(0, len(queries), QUERY_CHUNK):
        stop = min(start + QUERY_CHUNK, len(queries))
        similarities[start:stop], ids[start:stop] = index.search(queries[start:stop], k)
        if progress is not None:
            progress(stop, len(queries))
    return similarities, ids


def close_pairs(similarities: np.ndarray, ids: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """Each unordered pair (i < j) whose similarity reaches `threshold`, once, with its highest score."""
    rows, cols = np.nonzero((similarities >= threshold) & (ids >= 0))
    best: dict[tuple[int, int], float] = {}
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        other = int(ids[row, col])
        if other == row:
            continue
        pair = (min(row, other), max(row, other))
        best[pair] = max(best.get(pair, -1.0), float(similarities[row, col]))
    return [(a, b, s) for (a, b), s in best.items()]


SPLIT_PRIORITY = {"test": 0, "val": 1, "train": 2}


def _pair_record(refs: Sequence[VideoRef], a: int, b: int, similarity: float) -> dict[str, object]:
    # The evaluated side first: a test video leaking from train reads "test video ... matches train".
    first, second = sorted((refs[a], refs[b]), key=lambda r: (SPLIT_PRIORITY.get(r.split, 3), r.split))
    return {
        "video": first.video,
        "split": first.split,
        "match": second.video,
        "match_split": second.split,
        "similarity": round(similarity, 6),
        "within_split": first.split == second.split,
    }


def near_duplicates(
    unit: np.ndarray,
    refs: Sequence[VideoRef],
    threshold: float = NEAR_DUPLICATE_SIMILARITY,
    progress: ProgressCallback | None = None,
) -> list[dict[str, object]]:
    """Pairs of near-identical videos: across splits first (leaks), then within a split, each
    group most similar first."""
    if len(unit) < 2:
        return []
    index = build_index(unit)
    similarities, ids = search(index, unit, MATCHES_PER_VIDEO + 1, progress)
    records = [_pair_record(refs, a, b, s) for a, b, s in close_pairs(similarities, ids, threshold)]
    return sorted(records, key=lambda r: (r["within_split"], -r["similarity"], r["split"], r["video"]))


def nearest_rows(unit: np.ndarray, row: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The `count` rows most similar to `row` (itself excluded), most similar first, and their
    similarities: one exact pass over the vectors, which takes a fraction of a second at 100k."""
    similarities = unit @ unit[row]
    similarities[row] = -np.inf
    count = min(count, len(unit) - 1)
    if count <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    top = np.argpartition(-similarities, count - 1)[:count]
    top = top[np.argsort(-similarities[top], kind="stable")]
    return top, similarities[top]


def exact_pairs(unit: np.ndarray, threshold: float) -> set[tuple[int, int]]:
    """Every pair at or above `threshold` by brute force, in chunks: the reference for recall."""
    found = set()
    for start in range(0, len(unit), QUERY_CHUNK):
        block = unit[start : start + QUERY_CHUNK] @ unit.T
        rows, cols = np.nonzero(block >= threshold)
        found.update(
            (start + r, c) for r, c in zip(rows.tolist(), cols.tolist(), strict=True) if start + r < c
        )
    return found
