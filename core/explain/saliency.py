"""Grad-CAM through the frozen backbone: which regions of the shown frames moved the explained
class's probability, with the gradient flowing from the temporal model back through the
multi-scale sequence into the backbone's last convolution.

The traps of a frozen, shared backbone are handled here:
- its weights have no gradient, so the input frames are made to require one (captum does so for
  its inputs as well), else no gradient reaches the layer at all;
- Grad-CAM hooks a private copy of the network, so the copy shared by the app's sessions never
  carries hooks; in the copy every in-place activation is made out-of-place, since an in-place op
  that overwrites a hooked layer's output makes PyTorch refuse the backward pass through a
  backward hook on that layer;
- batch norm stays in eval mode (running statistics, never updated);
- the temporal model runs without cuDNN for this pass (see `ExplainedPredictor.probabilities`).
Frames a backbone sees are independent, so only the shown frames are recomputed with gradients;
the others enter the sequence as constants, which gives the same gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from captum.attr import LayerAttribution, LayerGradCam
from torch import nn

from core.explain.predictor import ExplainedPredictor
from core.features.backbones import Backbone, normalize_frames
from core.features.extraction import multiscale_sequence
from core.features.recipe import FeatureRecipe

OVERLAY_OPACITY = 0.45
# Perceptually uniform, so equal steps of the value look like equal steps of brightness.
COLORMAP = cv2.COLORMAP_INFERNO
COLORMAP_NAME = "inferno"
# A frame whose map spans less than this share of the clip's peak has no region that stands out.
FLAT_SHARE = 0.1


@dataclass(frozen=True)
class SaliencyMaps:
    positions: np.ndarray
    """Decoded frame indices the maps belong to."""
    maps: np.ndarray
    """[frames, H, W] in 0..1: Grad-CAM divided by `peak`, one scale for every frame of the clip."""
    peak: float
    """The largest Grad-CAM value over the shown frames (what 1 on the scale stands for)."""
    flat: np.ndarray
    """Per frame: its map spans less than FLAT_SHARE of the scale (no region stands out)."""
    overlays: list[np.ndarray]
    """RGB frames with the map laid over them on the shared scale (a flat frame gets an even tint,
    its level on the scale, rather than a stretched hot spot)."""


def without_inplace_activations(network: nn.Module) -> nn.Module:
    """The same network with every in-place activation computing out of place."""
    for module in network.modules():
        if getattr(module, "inplace", False):
            module.inplace = False
    return network


def last_convolution(network: nn.Module) -> nn.Conv2d:
    convolutions = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    if not convolutions:
        raise ValueError("the backbone has no convolution to explain")
    return convolutions[-1]


def gradient_copy(backbone: Backbone) -> nn.Module:
    """A private, frozen, eval-mode copy of the backbone's pooled-feature network for Grad-CAM."""
    network, _ = backbone.spec.build(backbone.weights)
    network = without_inplace_activations(network).to(backbone.device).eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network


def colours(heat: np.ndarray) -> np.ndarray:
    """RGB colours [..., 3] of a 0..1 map in the shared colour scale."""
    return cv2.applyColorMap(np.uint8(np.round(255 * np.clip(heat, 0.0, 1.0))), COLORMAP)[..., ::-1]


def overlay(frame: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """RGB frame [H, W, 3] with a 0..1 map [H, W] laid over it."""
    return cv2.addWeighted(frame, 1.0 - OVERLAY_OPACITY, colours(heat), OVERLAY_OPACITY, 0.0)


def shared_scale(maps: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Maps [frames, H, W] divided by the clip's peak, the peak, and which frames are flat."""
    peak = float(maps.max()) if maps.size else 0.0
    if peak <= 0.0:
        return np.zeros_like(maps), 0.0, np.ones(len(maps), dtype=bool)
    scaled = maps / peak
    spans = scaled.reshape(len(maps), -1).max(axis=1) - scaled.reshape(len(maps), -1).min(axis=1)
    return scaled, peak, spans < FLAT_SHARE


def grad_cam(
    backbone: Backbone,
    frames: np.ndarray,
    recipe: FeatureRecipe,
    predictor: ExplainedPredictor,
    positions: Sequence[int],
) -> SaliencyMaps:
    """Grad-CAM of `predictor`'s class on the decoded frames [N, H, W, 3] at `positions`."""
    positions = np.asarray(positions, dtype=np.int64)
    network = gradient_copy(backbone)
    constant = backbone.embed(frames, recipe.normalization).clone()
    shown = normalize_frames(torch.from_numpy(frames[positions]).to(backbone.device), recipe.normalization)
    shown.requires_grad_(True)
    index = torch.from_numpy(positions).to(backbone.device)

    def class_probabilities(images: torch.Tensor) -> torch.Tensor:
        features = constant.index_copy(0, index, network(images).float())
        sequence = multiscale_sequence(features, recipe.scales).to(predictor.device)[None]
        lengths = torch.tensor([sequence.shape[1]], device=predictor.device)
        return predictor.probabilities(sequence, lengths)

    with torch.enable_grad():
        cam = LayerGradCam(class_probabilities, last_convolution(network)).attribute(
            shown, target=predictor.target, relu_attributions=True
        )
    size = frames.shape[1:3]
    raw = LayerAttribution.interpolate(cam.detach(), size, "bilinear")[:, 0].float().cpu().numpy()
    maps, peak, flat = shared_scale(raw)
    overlays = [overlay(frames[p], m) for p, m in zip(positions, maps, strict=True)]
    return SaliencyMaps(positions, maps, peak, flat, overlays)


def saliency_file_names(positions: Sequence[int]) -> list[str]:
    return [f"frame_{int(p):03d}.png" for p in positions]


def write_overlays(saliency: SaliencyMaps, paths: Sequence[Path]) -> None:
    """One PNG per shown frame; encoded in memory, since the caller's temporary paths (which make
    the files land together) do not end in .png."""
    for image, path in zip(saliency.overlays, paths, strict=True):
        encoded, data = cv2.imencode(".png", np.ascontiguousarray(image[..., ::-1]))
        if not encoded:
            raise OSError(f"{path}: could not encode the saliency image")
        Path(path).write_bytes(data.tobytes())
