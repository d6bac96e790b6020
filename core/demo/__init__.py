"""Stage 6: the self-contained demo bundle: generated clips, their features, a trained ensemble."""
