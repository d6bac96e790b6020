"""Stage 4: scores, tables and run files computed from stored probabilities."""
