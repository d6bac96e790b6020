"""`serve --engine ray` on a real local Ray instance: the same app behind Ray Serve's proxy,
stored videos batched by `@serve.batch`, answering as the local engine does."""

from __future__ import annotations

import asyncio

import httpx
import numpy as np
import pytest

from core.serve.settings import ServeSettings
from tests.serve.conftest import client_for
from tests.serve.servers import free_port

ray = pytest.importorskip("ray")
pytest.importorskip("ray.serve")

from core.serve.ray_serve import RayPlan, replica_gpus, start_on_ray, stop_on_ray  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_engine_answers_as_the_local_engine(cluster, original, original_engine):
    names = original.test.video_names[:6]
    with client_for(original_engine) as local:
        expected = [local.post("/api/classify", json={"video": n, "tta": True}).json() for n in names]
    port = free_port()
    settings = ServeSettings(port=port, max_wait_ms=50)
    start_on_ray(RayPlan(original.models, original.features, None, settings), None)
    try:

        async def together() -> list[dict]:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                assert (await client.get("/readyz")).status_code == 200
                answers = await asyncio.gather(
                    *(client.post("/api/classify", json={"video": n, "tta": True}) for n in names)
                )
                return [a.json() for a in answers]

        served = asyncio.run(together())
    finally:
        stop_on_ray()
    for answer, reference in zip(served, expected, strict=True):
        assert answer["members"].keys() == reference["members"].keys()
        np.testing.assert_allclose(
            list(answer["ensemble_tta"].values()), list(reference["ensemble_tta"].values()), atol=1e-5
        )
        for member, probabilities in reference["members"].items():
            np.testing.assert_allclose(
                list(answer["members"][member].values()), list(probabilities.values()), atol=1e-5
            )


def test_replicas_take_a_gpu_only_where_there_is_one():
    assert replica_gpus(None, 2.0) == 1.0 and replica_gpus(None, 0.0) == 0.0
    assert replica_gpus("cpu", 2.0) == 0.0
    with pytest.raises(ValueError, match="no GPU"):
        replica_gpus("cuda", 0.0)
