"""The names of the per-step explanation methods; free of torch and captum, so the command line's
parser offers them without importing either."""

OCCLUSION = "occlusion"
INTEGRATED_GRADIENTS = "integrated_gradients"
ATTENTION = "attention"
METHODS: tuple[str, ...] = (OCCLUSION, INTEGRATED_GRADIENTS, ATTENTION)
