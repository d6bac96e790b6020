"""The audit's default threshold; free of faiss and numpy, so the command line's parser offers it
without importing them."""

NEAR_DUPLICATE_SIMILARITY = 0.95
"""Cosine similarity of centred, time-averaged frame features above which two videos count as
near-identical (a copy, a re-encode, a trim); see docs/data_explorer.md."""
