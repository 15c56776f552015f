"""``BufferPool``: work arrays kept from one call to the next, by shape and dtype.

Fresh memory costs a page fault per 4 KiB page when it is first written, a large share of a fused kernel's or a
replayed loop's time at small sizes; reusing last call's arrays avoids it. Only arrays that never leave their
owner go through a pool (never outputs, states or gradients handed to the caller).
"""
import threading

import numpy as np

__all__ = ["BufferPool"]


class BufferPool:
    """Arrays by (shape, dtype), up to ``max_bytes`` kept at a time; thread-safe.

    ``empty(shape, dtype)`` hands out a kept array (uninitialised contents) or a new one; ``recycle(*arrays)`` keeps
    them for later (None entries are skipped); ``clear()`` drops everything kept.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._free = {}                    # (shape, dtype) -> [arrays]
        self._nbytes = 0
        self._lock = threading.RLock()     # re-entrant: a finalizer may recycle while `empty` holds the lock

    def empty(self, shape, dtype):
        with self._lock:
            stack = self._free.get((shape, dtype))
            if stack:
                a = stack.pop()
                self._nbytes -= a.nbytes
                return a
        return np.empty(shape, dtype)

    def recycle(self, *arrays):
        with self._lock:
            for a in arrays:
                if a is not None and self._nbytes + a.nbytes <= self.max_bytes:
                    self._free.setdefault((a.shape, a.dtype), []).append(a)
                    self._nbytes += a.nbytes

    def clear(self):
        with self._lock:
            self._free.clear()
            self._nbytes = 0
