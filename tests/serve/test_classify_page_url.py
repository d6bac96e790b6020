"""The Classify page's URL field: a loopback URL is refused in one message, and once addresses
are allowed (the loopback server standing in for a public one) the clip gets the same verdict as
the command line gives the file."""

from __future__ import annotations

import numpy as np

from core.features.extraction import featurize_clip
from core.model.checkpoints import find_ensemble_checkpoints, load_checkpoint
from core.model.inference import predict_sequence
from core.video import url_fetch
from dashboard.views.classify import BY_URL
from tests.dashboard.test_pages_part1 import CLASSES, metric_value, open_page
from tests.factories import TINY_RECIPE

CLASSIFY = "app_pages/2_Classify.py"


def test_classify_page_fetches_a_url_with_the_services_checks(ours, media, media_url, monkeypatch):
    at = open_page(ours, monkeypatch, CLASSIFY)
    at.radio(key="classify_source").set_value(BY_URL).run()
    at.text_input(key="classify_url").set_value(f"{media_url}/clip.mp4").run()
    assert not at.exception
    assert [e.value for e in at.error if "loopback" in e.value]
    assert not [m for m in at.metric if m.label.startswith("Verdict")]
    public = url_fetch.address_refusal
    monkeypatch.setattr(url_fetch, "address_refusal", lambda a: None if a == "127.0.0.1" else public(a))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    members = [load_checkpoint(p) for p in find_ensemble_checkpoints(ours / "models_enhanced")]
    features = featurize_clip(media / "clip.mp4", TINY_RECIPE)
    expected = predict_sequence([m.model for m in members], features).probabilities.mean(axis=(0, 1))
    assert metric_value(at, "Verdict") == CLASSES[int(np.argmax(expected))]
    assert metric_value(at, "Confidence") == f"{100 * expected.max():.1f}%"
