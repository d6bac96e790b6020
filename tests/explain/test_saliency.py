"""Grad-CAM through the frozen backbone, and the traps it handles: frozen weights, in-place
activations, batch norm in eval mode, the shared backbone left untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam
from torch import nn

from core.explain.predictor import ExplainedPredictor
from core.explain.saliency import (
    FLAT_SHARE,
    colours,
    grad_cam,
    last_convolution,
    overlay,
    shared_scale,
    without_inplace_activations,
)
from core.features.backbones import load_backbone
from core.features.recipe import FeatureRecipe
from tests.factories import make_model

RECIPE = FeatureRecipe(num_frames=6, image_size=64)


def inplace_network() -> nn.Sequential:
    torch.manual_seed(0)
    network = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True), nn.Conv2d(4, 4, 3),
        nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2),
    )  # fmt: skip
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network.eval()


def grad_cam_by_backward_hook(
    network: nn.Sequential, images: torch.Tensor, layer: int, target: int
) -> torch.Tensor:
    """Grad-CAM written with a full backward hook on the layer (before its final ReLU)."""
    saved: dict[str, torch.Tensor] = {}
    forward = network[layer].register_forward_hook(lambda m, i, out: saved.update(activations=out.detach()))
    backward = network[layer].register_full_backward_hook(lambda m, gi, go: saved.update(gradients=go[0]))
    try:
        network(images.clone().requires_grad_())[:, target].sum().backward()
    finally:
        forward.remove()
        backward.remove()
    weights = saved["gradients"].mean(dim=(2, 3), keepdim=True)
    return (weights * saved["activations"]).sum(dim=1, keepdim=True)


def test_in_place_activations_break_backward_hooks_until_made_out_of_place() -> None:
    images = torch.rand(2, 3, 16, 16)
    with pytest.raises(RuntimeError, match="modified inplace"):
        grad_cam_by_backward_hook(inplace_network(), images, 3, 1)
    fixed = without_inplace_activations(inplace_network())
    assert not any(getattr(m, "inplace", False) for m in fixed.modules())
    by_hook = grad_cam_by_backward_hook(fixed, images, 3, 1)
    torch.testing.assert_close(LayerGradCam(fixed, fixed[3]).attribute(images, target=1), by_hook)


def test_last_convolution_is_the_deepest_conv() -> None:
    network = inplace_network()
    assert last_convolution(network) is network[3]
    with pytest.raises(ValueError, match="no convolution"):
        last_convolution(nn.Linear(2, 2))


def test_grad_cam_through_the_frozen_backbone_leaves_it_untouched() -> None:
    backbone = load_backbone("efficientnet_lite0", device="cpu")
    shared = backbone._pooled
    before = {name: value.clone() for name, value in shared.state_dict().items()}
    frames = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    predictor = ExplainedPredictor("m", (make_model(seed=4),), target=0)
    maps = grad_cam(backbone, frames, RECIPE, predictor, [0, 3, 5])
    assert maps.positions.tolist() == [0, 3, 5]
    assert maps.maps.shape == (3, 64, 64) and np.isfinite(maps.maps).all()
    assert maps.maps.min() >= 0.0 and maps.maps.max() == pytest.approx(1.0) and maps.peak > 0
    assert [o.shape for o in maps.overlays] == [(64, 64, 3)] * 3
    for frame, is_flat, shown in zip(maps.positions, maps.flat, maps.overlays, strict=True):
        assert is_flat == (np.ptp(maps.maps[list(maps.positions).index(frame)]) < FLAT_SHARE)
        np.testing.assert_array_equal(
            shown, overlay(frames[frame], maps.maps[list(maps.positions).index(frame)])
        )
    # Frozen, eval-mode, hook-free and unchanged: batch-norm statistics included.
    assert not any(p.requires_grad or p.grad is not None for p in shared.parameters())
    assert not any(m.training for m in shared.modules())
    assert not any(m._forward_hooks or m._backward_hooks for m in shared.modules())
    for name, value in shared.state_dict().items():
        torch.testing.assert_close(value, before[name])


def test_overlay_blends_the_map_into_the_frame() -> None:
    frame = np.zeros((4, 4, 3), dtype=np.uint8)
    heat = np.ones((4, 4))
    blended = overlay(frame, heat)
    assert blended.shape == (4, 4, 3) and blended.dtype == np.uint8 and blended.max() > 0


def test_one_scale_for_every_frame_and_flat_frames_named() -> None:
    peaked = np.zeros((8, 8))
    peaked[2, 3] = 4.0
    dim = np.full((8, 8), 0.5)
    dim[0, 0] = 0.6
    scaled, peak, flat = shared_scale(np.stack([peaked, dim, np.zeros((8, 8))]))
    assert peak == 4.0 and scaled.max() == 1.0
    # The dim frame keeps its own level on the shared scale instead of being stretched to 1.
    assert scaled[1].max() == pytest.approx(0.15)
    assert flat.tolist() == [False, True, True]
    scaled, peak, flat = shared_scale(np.zeros((2, 4, 4)))
    assert peak == 0.0 and flat.all() and not scaled.any()


def test_the_colour_scale_is_inferno() -> None:
    ends = colours(np.array([[0.0, 1.0]]))[0]
    # Matplotlib's inferno runs from near-black to pale yellow.
    assert ends[0].max() < 10 and ends[1, 0] > 240 and ends[1, 1] > 240 and ends[1, 2] > 130
