"""Serving: the latency probe, one-thread inference, an open-loop load generator, a dynamic batcher, a result cache, capacity."""
