"""The CUDA path of explanations: a cuDNN LSTM cannot run backward in eval mode, so integrated
gradients and Grad-CAM must fall back for their gradient pass and still match the CPU. Skipped
where no CUDA device is present."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.explain.predictor import ExplainedPredictor
from core.explain.saliency import grad_cam
from core.explain.temporal import integrated_gradient_scores, occlusion_scores
from core.features.backbones import load_backbone
from core.features.recipe import FeatureRecipe
from tests.factories import TINY_CONFIG, make_model

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def predictors(target: int = 1) -> tuple[ExplainedPredictor, ExplainedPredictor]:
    cpu = ExplainedPredictor("m", (make_model(TINY_CONFIG, seed=5),), target)
    cuda = ExplainedPredictor("m", (make_model(TINY_CONFIG, seed=5).cuda(),), target)
    return cpu, cuda


def test_integrated_gradients_and_occlusion_on_cuda_match_cpu() -> None:
    assert torch.backends.cudnn.enabled
    sequence = np.random.default_rng(0).normal(size=(9, TINY_CONFIG.feature_dim)).astype(np.float32)
    cpu, cuda = predictors()
    np.testing.assert_allclose(
        integrated_gradient_scores(cuda, sequence), integrated_gradient_scores(cpu, sequence), atol=1e-4
    )
    np.testing.assert_allclose(occlusion_scores(cuda, sequence), occlusion_scores(cpu, sequence), atol=1e-4)
    assert torch.backends.cudnn.enabled, "the fallback is scoped to the gradient pass"


def test_grad_cam_on_cuda_matches_cpu() -> None:
    recipe = FeatureRecipe(num_frames=6, image_size=64)
    frames = np.random.default_rng(1).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    cpu, cuda = predictors(target=2)
    on_cpu = grad_cam(load_backbone(recipe.backbone, device="cpu"), frames, recipe, cpu, [0, 5])
    on_cuda = grad_cam(load_backbone(recipe.backbone, device="cuda"), frames, recipe, cuda, [0, 5])
    np.testing.assert_allclose(on_cuda.maps, on_cpu.maps, atol=1e-2)
