"""The project's one source of randomness.

Weight initialisers, dropout masks and the shuffling in ``fit`` all draw from the generator returned by
``get_rng()``, so ``seed(n)`` makes a whole run reproducible.

Until ``seed`` is called, the generator is created at the first draw from a seed taken from numpy's global
generator (``np.random``), so a script that starts with ``np.random.seed(1337)``, as Keras 2.0 scripts do, is
repeatable without knowing about ``seed``. After ``seed`` the global generator no longer matters.
"""
import numpy as np

_rng = None  # created by seed(), or from np.random's global state at the first get_rng()


def seed(n):
    """Re-seed every random draw of the project (initialisers, dropout masks, shuffling).

    Also seeds numpy's legacy global generator, for user code that still uses ``np.random.*``.
    """
    global _rng
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed must be a non-negative integer, got {n!r}")
    _rng = np.random.default_rng(int(n))
    np.random.seed(int(n) % 2**32)  # noqa: NPY002 - the legacy global generator is the point here


def get_rng():
    """The current ``np.random.Generator`` (replaced by ``seed``; do not cache it across a ``seed`` call).

    The first call without an earlier ``seed`` draws the generator's seed from ``np.random`` (128 bits, which
    advances numpy's global generator once).
    """
    global _rng
    if _rng is None:
        # Keras scripts seed numpy's global generator: follow it
        _rng = np.random.default_rng(np.random.randint(0, 2**32, size=4, dtype=np.uint64))  # noqa: NPY002
    return _rng
