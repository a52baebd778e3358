"""Synthetic worlds more than one design draws from (rendered scenes: captioning, image search)."""
