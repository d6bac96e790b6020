"""Engine behind the video classifier dashboard: models, features, inference, metrics, CLIs."""

import os

# Torch's CPU LSTM (oneDNN) keeps a compiled kernel, ~0.6 MiB, for every (batch, length) shape it
# meets, by default up to 1024 of them: a large split or a long-lived app grew by hundreds of MiB.
# Inference runs the members' batches of one shape back to back, so a small cache keeps the hits.
# oneDNN reads this once, when torch first uses it, hence on importing `core`; a value the user
# set wins.
CPU_KERNEL_CACHE_SHAPES = 64
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(CPU_KERNEL_CACHE_SHAPES))
