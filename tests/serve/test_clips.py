"""Clips that are not stored: an upload answers as `python -m core classify --tta --json` does on
the same file, the same clip by URL from a loopback server is refused unless private URLs are
allowed and then answers the same, hostile files and URLs get their status and one line, and no
temporary file outlives its request."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.video import url_fetch
from tests.serve.conftest import assert_one_error_line, client_for


@pytest.fixture
def temp_dir(tmp_path):
    folder = tmp_path / "streamed"
    folder.mkdir()
    return folder


def cli_answer(ours: Path, clip: Path, capsys) -> dict:
    capsys.readouterr()
    features = ours / "features_enhanced" / "test_features_multiscale.h5"
    argv = ["classify", str(clip), "--models", str(ours / "models_enhanced"), "--features", str(features),
            "--tta", "--json", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    (result,) = json.loads(capsys.readouterr().out)
    return result


def assert_same_answer(served: dict, cli: dict) -> None:
    assert served["class"] == cli["predicted_class"]
    np.testing.assert_allclose(
        list(served["ensemble_tta"].values()), list(cli["ensemble_tta"].values()), atol=1e-6
    )
    np.testing.assert_allclose(list(served["ensemble"].values()), list(cli["ensemble"].values()), atol=1e-6)
    for name, probabilities in cli["models"].items():
        np.testing.assert_allclose(
            list(served["members"][name].values()), list(probabilities.values()), atol=1e-6
        )
    for mode, probabilities in cli["tta_modes"].items():
        np.testing.assert_allclose(
            list(served["tta_modes"][mode].values()), list(probabilities.values()), atol=1e-6
        )


def test_upload_and_url_answer_as_the_command_line(ours, ours_engine, media, media_url, temp_dir, capsys):
    clip = media / "clip.mp4"
    expected = cli_answer(ours, clip, capsys)
    with client_for(ours_engine, temp_dir=temp_dir) as client:
        files = {"file": ("clip.mp4", clip.read_bytes(), "video/mp4")}
        uploaded = client.post("/api/classify", files=files, data={"tta": "true"})
        assert uploaded.status_code == 200, uploaded.text
        refused = client.post("/api/classify", json={"url": f"{media_url}/clip.mp4", "tta": True})
    assert "--allow-private-urls" in assert_one_error_line(refused, 400)
    assert_same_answer(uploaded.json(), expected)
    with client_for(ours_engine, temp_dir=temp_dir, allow_private_urls=True) as client:
        by_url = client.post("/api/classify", json={"url": f"{media_url}/clip.mp4", "tta": True})
        from_page = client.post("/api/classify", json={"url": f"{media_url}/page.html", "tta": True})
    assert by_url.status_code == 200, by_url.text
    assert_same_answer(by_url.json(), expected)
    assert from_page.status_code == 200, from_page.text
    assert_same_answer(from_page.json(), expected)
    assert list(temp_dir.iterdir()) == []


def test_hostile_uploads_each_get_their_status_and_one_line(ours_engine, media, temp_dir):
    notes = (media / "notes.mp4").read_bytes()
    clip = (media / "clip.mp4").read_bytes()
    with client_for(ours_engine, temp_dir=temp_dir, max_upload_bytes=len(clip) - 1) as client:
        text_as_video = client.post("/api/classify", files={"file": ("notes.mp4", notes, "video/mp4")})
        not_a_video_name = client.post("/api/classify", files={"file": ("notes.txt", notes, "text/plain")})
        too_large = client.post("/api/classify", files={"file": ("clip.mp4", clip, "video/mp4")})
        bad_tta = client.post(
            "/api/classify", files={"file": ("n.mp4", notes, "video/mp4")}, data={"tta": "maybe"}
        )
        no_file = client.post(
            "/api/classify", data={"tta": "true"}, files={"other": ("a.mp4", b"x", "video/mp4")}
        )
    assert "notes.mp4" in assert_one_error_line(text_as_video, 422)
    assert "notes.txt" in assert_one_error_line(not_a_video_name, 415)
    assert "--max-upload-mb" in assert_one_error_line(too_large, 413)
    assert "tta" in assert_one_error_line(bad_tta, 422)
    assert "unknown form field" in assert_one_error_line(no_file, 400)
    assert list(temp_dir.iterdir()) == []


def test_hostile_urls_are_refused_before_anything_is_fetched(ours_engine, media_url, temp_dir, monkeypatch):
    with client_for(ours_engine, temp_dir=temp_dir) as client:
        metadata = client.post("/api/classify", json={"url": "http://169.254.169.254/latest/meta-data/"})
        local_file = client.post("/api/classify", json={"url": "file:///etc/passwd"})
        # The loopback server stands in for a public one; its redirect into the metadata address
        # is refused at that hop.
        public = url_fetch.address_refusal
        monkeypatch.setattr(url_fetch, "address_refusal", lambda a: None if a == "127.0.0.1" else public(a))
        redirect = f"{media_url}/redirect?to=http://169.254.169.254/latest/meta-data/"
        redirected = client.post("/api/classify", json={"url": redirect})
        missing = client.post("/api/classify", json={"url": f"{media_url}/nothing.mp4"})
    assert "link-local" in assert_one_error_line(metadata, 400)
    assert "only http and https" in assert_one_error_line(local_file, 400)
    assert "169.254.169.254" in assert_one_error_line(redirected, 400)
    assert "404" in assert_one_error_line(missing, 422)
    assert list(temp_dir.iterdir()) == []


def test_command_line_classifies_a_url_only_when_private_urls_are_allowed(ours, media, media_url, capsys):
    models = str(ours / "models_enhanced")
    url = f"{media_url}/clip.mp4"
    assert main(["classify", url, "--models", models, "--tta", "--json", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "--allow-private-urls" in err and "Traceback" not in err
    argv = ["classify", url, "--models", models, "--tta", "--json", "--device", "cpu", "--allow-private-urls"]
    assert main(argv) == 0
    (by_url,) = json.loads(capsys.readouterr().out)
    by_file = cli_answer(ours, media / "clip.mp4", capsys)
    assert by_url["path"] == url
    assert by_url["ensemble_tta"] == by_file["ensemble_tta"] and by_url["models"] == by_file["models"]
