"""One package per design: metadata and config in __init__, one module per stage."""
