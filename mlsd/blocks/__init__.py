"""Shared ML building blocks, grouped by purpose. A block moves here from its design's
folder once a second design uses it (docs/adding-a-design.md)."""
