"""Servers under test: the app in-process (FastAPI's TestClient, or an async client over ASGI
with the app's lifespan run) on engines loaded from real files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.serve.app import create_app
from core.serve.engine import ServeEngine
from core.serve.settings import ServeSettings
from tests.factories import write_noise_clip, write_project
from tests.serve.projects import OriginalServing, write_original_serving_project
from tests.serve.servers import free_port, running

MEDIA_SERVER = Path(__file__).with_name("media_server.py")


@pytest.fixture(scope="session")
def original(tmp_path_factory: pytest.TempPathFactory) -> OriginalServing:
    return write_original_serving_project(tmp_path_factory.mktemp("original"))


@pytest.fixture(scope="module")
def original_engine(original: OriginalServing) -> Iterator[ServeEngine]:
    engine = ServeEngine.load(original.models, original.features, "cpu")
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our layout: four members that record the (tiny) recipe clips are featurised with."""
    return write_project(tmp_path_factory.mktemp("ours"), num_videos=12)


@pytest.fixture(scope="module")
def ours_engine(ours: Path) -> Iterator[ServeEngine]:
    engine = ServeEngine.load(
        ours / "models_enhanced", ours / "features_enhanced" / "test_features_multiscale.h5", "cpu"
    )
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    write_noise_clip(folder / "clip.mp4", count=24)
    (folder / "notes.mp4").write_text("not a video at all\n" * 20)
    (folder / "page.html").write_text('<html><body><video src="clip.mp4"></video></body></html>')
    return folder


@pytest.fixture(scope="module")
def media_url(media):
    port = free_port()
    command = [sys.executable, str(MEDIA_SERVER), str(port), str(media)]
    with running(command, f"http://127.0.0.1:{port}/clip.mp4"):
        yield f"http://127.0.0.1:{port}"


def client_for(engine: ServeEngine, **settings: object) -> TestClient:
    return TestClient(create_app(engine, ServeSettings(**settings)))  # type: ignore[arg-type]


def assert_one_error_line(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"] and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]
