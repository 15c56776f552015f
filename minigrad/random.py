"""The project's one source of randomness.

Weight initialisers, dropout masks and the shuffling in ``fit`` all draw from the generator returned by
``get_rng()``, so ``seed(n)`` makes a whole run reproducible.
"""
import numpy as np

_rng = np.random.default_rng()


def seed(n):
    """Re-seed every random draw of the project (initialisers, dropout masks, shuffling).

    Also seeds numpy's legacy global generator, for user code that still uses ``np.random.*``.
    """
    global _rng
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed must be a non-negative integer, got {n!r}")
    _rng = np.random.default_rng(int(n))
    np.random.seed(int(n) % 2**32)


def get_rng():
    """The current ``np.random.Generator`` (replaced by ``seed``; do not cache it across a ``seed`` call)."""
    return _rng
