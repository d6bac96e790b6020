"""The CUDA paths: model forward, inference with TTA, backbone embedding, a training step and
one page under AppTest. Skipped where no CUDA device is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.model.inference import predict_split
from core.model.tta import TTA_MODES
from core.training.member import TrainingConfig, train_member
from tests.factories import TINY_CONFIG, make_feature_set, make_model, write_project

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]
APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def test_forward_on_cuda_matches_cpu() -> None:
    model = make_model(TINY_CONFIG)
    x = torch.randn(3, 8, TINY_CONFIG.feature_dim)
    lengths = torch.tensor([8, 5, 2])
    with torch.inference_mode():
        cpu = model(x, lengths)
        cuda = model.to("cuda")(x.cuda(), lengths.cuda()).cpu()
    torch.testing.assert_close(cuda, cpu, atol=1e-4, rtol=1e-4)


def test_inference_with_tta_on_cuda_matches_cpu() -> None:
    data = make_feature_set(num_videos=10)
    cpu = predict_split([make_model(TINY_CONFIG)], data, TTA_MODES, device="cpu")
    cuda = predict_split([make_model(TINY_CONFIG)], data, TTA_MODES, device="cuda")
    np.testing.assert_allclose(cuda, cpu, atol=1e-4)


def test_backbone_embeds_on_cuda() -> None:
    from core.features.backbones import load_backbone

    backbone = load_backbone("efficientnet_lite0", device="cuda")
    frames = np.random.default_rng(0).integers(0, 255, (2, 224, 224, 3), dtype=np.uint8)
    embedded = backbone.embed(frames, "imagenet")
    assert embedded.shape[0] == 2 and torch.isfinite(embedded).all()


def test_a_training_step_runs_on_cuda() -> None:
    train, val = make_feature_set(num_videos=16), make_feature_set(num_videos=8, seed=1)
    config = TrainingConfig(max_epochs=1, patience=1, batch_size=8)
    result = train_member(train, val, model_config=TINY_CONFIG, config=config, device=torch.device("cuda"))
    assert next(result.model.parameters()).device.type == "cuda"


def test_overview_page_runs_with_cuda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_ROOT", str(write_project(tmp_path)))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/1_Overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
