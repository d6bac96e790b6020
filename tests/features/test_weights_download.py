"""Torchvision backbone weights: the hub cache, a download into it (a local file:// URL stands in
for download.pytorch.org), and one message saying which file to put where when offline."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.features import weights_download
from core.features.backbones import BackboneError, lite0_package_weights, resolve_weights
from core.features.weights_download import (
    ensure_backbone_weights,
    hub_weights_path,
    is_torchvision_backbone,
    torchvision_weights_url,
)


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture
def offline_url() -> str:
    """An address on this machine where nothing listens: a refused connection, like no network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/efficientnet_v2_s-dd5fe13b.pth"


def published_copy(folder: Path, arch: str, size: int = 3 * (1 << 20) + 5) -> Path:
    """A local stand-in for torchvision's file, under the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(torchvision_weights_url(arch)).name
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    return path


def test_the_address_and_cache_path_come_from_torchvisions_weights_api(hub):
    assert torchvision_weights_url("efficientnet_v2_s").endswith("/efficientnet_v2_s-dd5fe13b.pth")
    assert hub_weights_path("efficientnet_v2_s") == hub / "efficientnet_v2_s-dd5fe13b.pth"
    assert is_torchvision_backbone("resnet50") and not is_torchvision_backbone("efficientnet_lite0")


def test_download_into_the_hub_cache_with_progress(hub, tmp_path):
    source = published_copy(tmp_path / "mirror", "efficientnet_v2_s")
    seen: list[tuple[int, int | None]] = []
    path = ensure_backbone_weights("efficientnet_v2_s", progress=lambda r, t: seen.append((r, t)),
                                   url=source.as_uri())  # fmt: skip
    assert path == hub / source.name
    assert path.read_bytes() == source.read_bytes()
    size = source.stat().st_size
    assert seen[-1] == (size, size) and len(seen) == 4  # 1 MiB chunks
    assert [p.name for p in hub.iterdir()] == [source.name]  # no temporary file left behind
    assert resolve_weights("efficientnet_v2_s") == path
    seen.clear()
    assert ensure_backbone_weights("efficientnet_v2_s", progress=lambda r, t: seen.append((r, t))) == path
    assert seen == []  # cached: nothing fetched


def test_offline_says_which_file_to_put_where(hub, offline_url):
    with pytest.raises(BackboneError) as caught:
        ensure_backbone_weights("efficientnet_v2_s", url=offline_url)
    message = str(caught.value)
    assert "could not be downloaded" in message
    assert f"download {offline_url}" in message
    assert f"put it at {hub / 'efficientnet_v2_s-dd5fe13b.pth'}" in message
    assert "--weights" in message
    assert not hub.exists() or list(hub.iterdir()) == []


def test_packaged_backbone_needs_no_download(hub):
    assert ensure_backbone_weights("efficientnet_lite0", url="http://127.0.0.1:9/never") == (
        lite0_package_weights()
    )


def test_cli_offline_prints_the_one_message(hub, tmp_path, offline_url, monkeypatch, capsys):
    monkeypatch.setattr(weights_download, "torchvision_weights_url", lambda arch: offline_url)
    (tmp_path / "videos").mkdir()
    code = cli_main(["extract", "--videos", str(tmp_path / "videos"), "--out", str(tmp_path / "f.h5"),
                     "--backbone", "efficientnet_v2_s"])  # fmt: skip
    errors = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(errors) == 1 and "could not be downloaded" in errors[0] and "put it at" in errors[0]
    assert not (tmp_path / "f.h5").exists()


def test_cli_download_shows_a_bar(hub, tmp_path, monkeypatch, capsys):
    source = published_copy(tmp_path / "mirror", "resnet50")
    monkeypatch.setattr(weights_download, "torchvision_weights_url", lambda arch: source.as_uri())
    from core.commands.weights import fetch_weights

    fetch_weights("resnet50", None)
    assert "downloading resnet50 weights" in capsys.readouterr().err
    assert (hub / source.name).read_bytes() == source.read_bytes()
