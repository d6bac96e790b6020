"""The audit's parts on known inputs: masked time averages, a member's last hidden layer, F1 per
slice as scikit-learn computes it, the inverted-file index against brute force, and the map."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from core.audit import duplicates
from core.audit.document import AuditFileError, read_audit
from core.audit.embedding_map import embedding_map, sample_rows
from core.audit.representations import mean_features, member_embeddings
from core.audit.slices import slice_rows
from core.classes import CLASS_NAMES
from tests.factories import TINY_CONFIG, make_feature_set, make_model


def test_time_average_ignores_whatever_sits_in_the_padding() -> None:
    features = make_feature_set(num_videos=6, seed=3)
    expected = np.stack([features.video(i).mean(axis=0) for i in range(6)])
    for i in range(6):
        features.features[i, features.num_frames[i] :] = 1e3
    np.testing.assert_allclose(mean_features(features), expected, rtol=1e-5, atol=1e-5)


def test_member_embedding_is_the_input_of_the_final_layer() -> None:
    features = make_feature_set(num_videos=7, seed=4)
    model = make_model(TINY_CONFIG)
    embeddings = member_embeddings(model, features, batch_size=3)
    assert embeddings.shape == (7, 256)
    with torch.inference_mode():
        for i in (0, 6):
            sequence = torch.from_numpy(features.video(i)).unsqueeze(0)
            head = model.classifier
            logits = model(sequence, torch.tensor([sequence.shape[1]]))
            final = head[-1](torch.from_numpy(embeddings[i]).unsqueeze(0))
            torch.testing.assert_close(final, logits, atol=1e-4, rtol=1e-4)
    assert not model.classifier[-1]._forward_pre_hooks


def test_slice_scores_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    names = [f"{CLASS_NAMES[k]}/sub{i % 3}/v{i}.mp4" for i, k in enumerate(labels)]
    probabilities = rng.dirichlet(np.ones(4), size=200)
    rows = slice_rows("test", labels, names, CLASS_NAMES, {"ensemble": probabilities})
    predicted = probabilities.argmax(axis=1)
    for row in rows:
        members = np.array([n.startswith(f"{row['class']}/{row['subcategory']}/") for n in names])
        assert row["videos"] == members.sum()
        assert row["accuracy"] == pytest.approx(
            100 * (predicted[members] == labels[members]).mean(), abs=1e-3
        )
        expected = f1_score(
            labels[members], predicted[members], labels=range(4), average=None, zero_division=0
        )
        assert list(row["f1_per_class"].values()) == pytest.approx(100 * expected, abs=1e-3)


def planted_vectors(count: int, copies: int, seed: int = 0) -> tuple[np.ndarray, set[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(16, 48))
    vectors = centres[rng.integers(0, 16, count)] + rng.normal(size=(count, 48))
    pairs = set()
    for source, target in zip(
        rng.choice(count // 2, copies, replace=False), range(count - copies, count), strict=True
    ):
        vectors[target] = vectors[source] + rng.normal(scale=0.05, size=48)
        pairs.add((int(source), int(target)))
    return vectors.astype(np.float32), pairs


def test_the_inverted_file_index_finds_what_brute_force_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(duplicates, "EXACT_SEARCH_LIMIT", 500)
    vectors, planted = planted_vectors(4000, 40)
    unit = duplicates.unit_vectors(vectors)
    index = duplicates.build_index(unit)
    assert index.nprobe == duplicates.IVF_PROBES
    sims, ids = duplicates.search(index, unit, duplicates.MATCHES_PER_VIDEO + 1)
    found = {(a, b) for a, b, _ in duplicates.close_pairs(sims, ids, duplicates.NEAR_DUPLICATE_SIMILARITY)}
    exact = duplicates.exact_pairs(unit, duplicates.NEAR_DUPLICATE_SIMILARITY)
    assert planted <= exact and found == exact


def test_the_map_places_every_video_or_a_stated_sample() -> None:
    vectors, _ = planted_vectors(300, 0)
    full = embedding_map(vectors)
    assert full.coordinates.shape == (300, 2) and not full.sampled and "UMAP" in full.method
    assert "placed" not in full.method
    sampled = embedding_map(vectors, point_cap=120)
    assert sampled.sampled and len(sampled.rows) == 120 and len(set(sampled.rows.tolist())) == 120
    tiny = embedding_map(vectors[:2])
    assert tiny.coordinates.shape == (2, 2) and "PCA" in tiny.method


def test_videos_beyond_the_laid_out_sample_land_among_their_own_kind() -> None:
    rng = np.random.default_rng(4)
    cluster = np.repeat(np.arange(4), 100)
    vectors = (rng.normal(scale=8.0, size=(4, 48))[cluster] + rng.normal(size=(400, 48))).astype(np.float32)
    layout = embedding_map(vectors, fit_cap=100)
    assert not layout.sampled and np.isfinite(layout.coordinates).all()
    assert "sample of 100 videos; the other 300 placed" in layout.method
    laid_out = np.zeros(400, dtype=bool)
    laid_out[sample_rows(400, 100)] = True
    distances = np.linalg.norm(
        layout.coordinates[~laid_out, None, :] - layout.coordinates[None, laid_out, :], axis=2
    )
    nearest_kind = cluster[laid_out][distances.argmin(axis=1)]
    assert np.mean(nearest_kind == cluster[~laid_out]) >= 0.95


def test_a_malformed_audit_file_is_refused_with_its_name(tmp_path) -> None:
    path = tmp_path / "x-audit.json"
    path.write_text(json.dumps({"format": "video-classifier-audit/1", "near_duplicates": [{"video": "a"}]}))
    with pytest.raises(AuditFileError, match=r"x-audit\.json.*near_duplicates.*lacks split"):
        read_audit(path)
