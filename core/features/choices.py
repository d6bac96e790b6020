"""What a feature extraction lets a user choose: the backbones, the pixel normalisations and the
frames per backbone batch. Free of torch, so the command line's parser offers them without importing
it; `core.features.backbones` builds one network per name."""

BACKBONE_NAMES: tuple[str, ...] = (
    "efficientnet_lite0",
    "efficientnet_v2_s",
    "efficientnet_v2_m",
    "resnet50",
    "resnet101",
)
NORMALIZATIONS: tuple[str, ...] = ("half", "imagenet")
DEFAULT_BATCH_SIZE = 24
