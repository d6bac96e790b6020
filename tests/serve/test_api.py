"""The API on an original-format project (checkpoints with and without `model_config`, a bare
state dict, one member missing, names from the legacy index): listing, classification by name
against an independent implementation of the model, concurrency, and every refusal in one line."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from core.model.inference import predict_sequence
from core.model.tta import TTA_MODES
from core.serve.app import create_app
from core.serve.batcher import QueueFull
from core.serve.settings import ServeSettings
from tests.serve.conftest import assert_one_error_line, client_for
from tests.serve.projects import HEADS, MEMBERS, stored_sequence
from tests.serve.reference_model import member_probabilities

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(original_engine):
    with client_for(original_engine) as client:
        yield client


def test_videos_lists_legacy_names_with_classes_paged_and_filtered(client, original):
    every = client.get("/api/videos", params={"limit": 1000}).json()
    assert every["total"] == original.test.num_videos == len(every["videos"])
    assert [v["name"] for v in every["videos"]] == original.test.video_names
    labels = [original.test.class_names[label] for label in original.test.labels]
    assert [v["class"] for v in every["videos"]] == labels
    page = client.get("/api/videos", params={"limit": 5, "offset": 10}).json()
    assert page["videos"] == every["videos"][10:15] and page["total"] == every["total"]
    gaming = client.get("/api/videos", params={"class": "Gaming", "limit": 1000}).json()
    assert gaming["total"] == labels.count("Gaming") and {v["class"] for v in gaming["videos"]} == {"Gaming"}
    name = original.test.video_names[7]
    found = client.get("/api/videos", params={"q": name.upper()}).json()
    assert [v["name"] for v in found["videos"]] == [name]


def test_classify_by_name_equals_an_independent_implementation(client, original, original_engine):
    name = original.test.video_names[3]
    answer = client.post("/api/classify", json={"video": name, "tta": True}).json()
    sequence = stored_sequence(original, name)
    reference = np.stack(
        [member_probabilities(original.states[m], sequence, HEADS, TTA_MODES) for m in MEMBERS]
    )
    assert list(answer["members"]) == list(MEMBERS)
    for m, member in enumerate(MEMBERS):
        np.testing.assert_allclose(list(answer["members"][member].values()), reference[m, 0], atol=1e-4)
    np.testing.assert_allclose(list(answer["ensemble"].values()), reference[:, 0].mean(0), atol=1e-4)
    np.testing.assert_allclose(list(answer["ensemble_tta"].values()), reference.mean((0, 1)), atol=1e-4)
    for a, mode in enumerate(TTA_MODES):
        np.testing.assert_allclose(
            list(answer["tta_modes"][mode].values()), reference[:, a].mean(0), atol=1e-4
        )
    assert answer["probabilities"] == answer["ensemble_tta"]
    assert answer["class"] == original.test.class_names[int(np.argmax(reference.mean((0, 1))))]
    assert answer["true_class"] == original.test.class_names[original.test.labels[3]]
    # The same numbers as the Classify page's one-video pass, to 1e-6.
    page = predict_sequence(original_engine.ensemble.models, sequence, TTA_MODES).probabilities
    np.testing.assert_allclose(list(answer["ensemble_tta"].values()), page.mean((0, 1)), atol=1e-6)


def test_classify_chosen_members_without_tta(client, original):
    name = original.test.video_names[0]
    chosen = [MEMBERS[1], MEMBERS[2]]
    answer = client.post("/api/classify", json={"video": name, "tta": False, "members": chosen}).json()
    sequence = stored_sequence(original, name)
    reference = np.stack(
        [member_probabilities(original.states[m], sequence, HEADS, ("original",)) for m in chosen]
    )
    assert list(answer["members"]) == chosen and "ensemble_tta" not in answer
    np.testing.assert_allclose(list(answer["probabilities"].values()), reference[:, 0].mean(0), atol=1e-4)


def test_models_describes_members_and_the_missing_one(client):
    document = client.get("/api/models").json()
    assert [m["name"] for m in document["members"]] == list(MEMBERS)
    assert [m["config_source"] == "model_config" for m in document["members"]] == [False, True, False]
    assert document["missing"] == ["best_ensemble_model_4.pt"]
    assert document["members"][0]["recorded_metrics"]["accuracy"] == pytest.approx(72.73)
    assert "record how their training features were made" in document["uploads"]  # clips refused, saying why


def test_32_concurrent_requests_answer_as_each_alone(original_engine, original):
    names = original.test.video_names[:8]
    app = create_app(original_engine, ServeSettings(max_wait_ms=50))

    async def run() -> tuple[list[dict], list[dict], str]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                alone = [
                    (await client.post("/api/classify", json={"video": n, "tta": True})).json() for n in names
                ]
                together = await asyncio.gather(
                    *(
                        client.post("/api/classify", json={"video": names[i % 8], "tta": i % 3 > 0})
                        for i in range(32)
                    )
                )
                return alone, [r.json() for r in together], (await client.get("/metrics")).text

    alone, together, metrics = asyncio.run(run())
    for i, answer in enumerate(together):
        expected = alone[i % 8]
        key = "ensemble_tta" if i % 3 > 0 else "ensemble"
        np.testing.assert_allclose(list(answer[key].values()), list(expected[key].values()), atol=1e-5)
        for member in MEMBERS:
            np.testing.assert_allclose(
                list(answer["members"][member].values()),
                list(expected["members"][member].values()),
                atol=1e-5,
            )
    sizes = [line for line in metrics.splitlines() if line.startswith("serve_batch_size_count")]
    batches = float(sizes[0].split()[-1]) - len(names)
    assert batches <= 8, f"32 concurrent requests took {batches:g} passes"


@pytest.mark.parametrize(
    ("send", "status", "says"),
    [
        (lambda c: c.post("/api/classify", content=b'{"video": ', headers=JSON), 400, "malformed JSON"),
        (lambda c: c.post("/api/classify", json={"video": "x", "tta": "yes"}), 422, "tta"),
        (lambda c: c.post("/api/classify", json={"video": "no_such_clip.mp4"}), 404, "no stored video"),
        (lambda c: c.post("/api/classify", json={"video": "../../etc/passwd"}), 404, "no stored video"),
        (lambda c: c.post("/api/classify", json={"video": "a", "url": "http://x/"}), 422, "exactly one"),
        (lambda c: c.post("/api/classify", json={"video": "a", "members": ["best_ensemble_model_9"]}), 422,
         "unknown"),
        (lambda c: c.post("/api/classify", content=b"video=x", headers={"content-type": "text/plain"}), 415,
         "multipart"),
        (lambda c: c.post("/api/classify", json={"video": "x" * 70_000}), 413, "KB"),
        (lambda c: c.get("/api/videos", params={"class": "Cartoons"}), 400, "unknown class"),
        (lambda c: c.get("/api/videos", params={"limit": 0}), 422, "limit"),
        (lambda c: c.get("/api/nothing"), 404, "no such endpoint"),
        (lambda c: c.post("/api/classify", json={"url": "file:///etc/passwd"}), 400, "only http"),
    ],
)  # fmt: skip
def test_bad_requests_get_their_status_and_one_line(client, send, status, says):
    assert says in assert_one_error_line(send(client), status)


def test_a_full_queue_is_refused_with_retry_after(original_engine, original):
    async def full(_request):
        raise QueueFull

    with TestClient(create_app(original_engine, ServeSettings(), predict_stored=full)) as client:
        response = client.post("/api/classify", json={"video": original.test.video_names[0]})
    assert "waiting already" in assert_one_error_line(response, 503)
    assert response.headers["retry-after"] == "1"


def test_probes_and_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    text = client.get("/metrics").text
    assert 'serve_requests_total{route="/healthz",status="200"}' in text
    assert "serve_queue_depth" in text and "serve_request_seconds_bucket" in text
