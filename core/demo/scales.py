"""The demo's sizes: clips per class, clip geometry, feature recipe, model and training recipe.
Free of torch, so the command line's parser offers the scales without importing it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.features.recipe import FeatureRecipe
from core.model.config import TemporalModelConfig
from core.training.config import TrainingConfig


@dataclass(frozen=True)
class DemoScale:
    """Everything that sets the size (and so the run time) of a demo build."""

    name: str
    clips_per_class: dict[str, int]
    clip_frames: int
    width: int
    height: int
    fps: int
    recipe: FeatureRecipe
    model_config: TemporalModelConfig
    training: TrainingConfig

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "clips_per_class": dict(self.clips_per_class),
            "clip_frames": self.clip_frames,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "recipe": self.recipe.to_dict(),
            "model_config": self.model_config.to_dict(),
            "training": self.training.to_dict(),
        }


DEMO_MODEL = TemporalModelConfig(hidden_dim=64, num_lstm_layers=1, num_attention_heads=2, dropout=0.3)
SCALES: dict[str, DemoScale] = {
    "full": DemoScale(
        name="full",
        clips_per_class={"train": 96, "val": 24, "test": 25},
        clip_frames=24,
        width=192,
        height=144,
        fps=12,
        # 10 frames give 11-step sequences (scales 10, 8, 11): longer than speed_up's 10-step
        # threshold, so every TTA mode is a different view of the clip.
        recipe=FeatureRecipe(num_frames=10, image_size=128),
        model_config=DEMO_MODEL,
        training=TrainingConfig(max_epochs=25, patience=8, batch_size=32),
    ),
    "ci": DemoScale(
        name="ci",
        clips_per_class={"train": 5, "val": 3, "test": 3},
        clip_frames=10,
        width=128,
        height=96,
        fps=10,
        recipe=FeatureRecipe(num_frames=8, image_size=64),
        model_config=TemporalModelConfig(
            hidden_dim=16, num_lstm_layers=1, num_attention_heads=2, dropout=0.3
        ),
        training=TrainingConfig(max_epochs=8, patience=4, batch_size=8),
    ),
}
