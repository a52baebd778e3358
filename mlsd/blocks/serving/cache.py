"""A result cache in front of a model: popular inputs (the same image, the same sentence)
repeat, and a hash lookup costs microseconds where the model costs milliseconds."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy


class ResultCache:
    """LRU cache keyed by a content hash (e.g. of image bytes): the same input twice is
    served without the model. Thread-safe, so batcher workers and callers can share it."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity  # 0 stores nothing: the no-cache baseline
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(data: bytes | bytearray | memoryview | numpy.ndarray) -> str:
        """sha1 hex of the content; an array's shape and dtype are hashed too, so equal
        bytes read as different tensors get different keys."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            return hashlib.sha1(data).hexdigest()
        import numpy as np

        array = np.asarray(data)
        digest = hashlib.sha1()
        digest.update(f"{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
        return digest.hexdigest()

    def get(self, key: str) -> Any | None:
        """The cached value (now most recently used), or None on a miss."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
            return None

    def put(self, key: str, value: Any) -> None:
        """Store (or refresh) a value, evicting the least recently used beyond capacity."""
        if self.capacity == 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    @property
    def hit_rate(self) -> float:
        with self._lock:
            lookups = self.hits + self.misses
            return self.hits / lookups if lookups else 0.0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: str) -> bool:
        """Membership without touching the hit counts or the LRU order."""
        with self._lock:
            return key in self._entries
