"""Stage 3: the temporal network, its checkpoints, the ensemble, TTA and batched inference."""
