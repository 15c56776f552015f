"""Argument checks shared by the optimizers, callbacks, regularizers, constraints and the training loop.

Each returns the value in its plain Python form (``float`` / ``int``) or raises ``ValueError`` naming the
argument, its valid range and the value received. Bools are refused wherever a number is expected (``True`` is
an ``int`` to Python, but never a meaningful learning rate or epoch count); numpy scalars are accepted.
"""
import math
import numbers

import numpy as np

__all__ = ["real", "integer", "boolean", "one_of", "all_finite"]


def _where(owner, name):
    return f"{owner}: `{name}`" if owner else f"`{name}`"


def _interval(low, high, low_open, high_open):
    if high is None:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    return f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def real(owner, name, value, low=None, high=None, low_open=False, high_open=False, none_ok=False):
    """``value`` as a finite float in the given interval (bounds None are unbounded; ``*_open`` excludes them).

    ``none_ok``: None is returned as is (an optional argument left unset).
    """
    if value is None and none_ok:
        return None
    what = _interval(low, high, low_open, high_open) if low is not None else "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{_where(owner, name)} must be {what}, got {value!r} of type {type(value).__name__}")
    value = float(value)
    bad = not math.isfinite(value)
    if low is not None and not bad:
        bad = value <= low if low_open else value < low
    if high is not None and not bad:
        bad = value >= high if high_open else value > high
    if bad:
        raise ValueError(f"{_where(owner, name)} must be {what}, got {value!r}")
    return value


def integer(owner, name, value, low=0, none_ok=False):
    """``value`` as an int >= ``low``: Python or numpy integers only (not bools, not floats such as 2.0)."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{_where(owner, name)} must be an integer >= {low}, got {value!r}"
                         + ("" if isinstance(value, numbers.Integral) and not isinstance(value, bool)
                            else f" of type {type(value).__name__}"))
    return int(value)


def boolean(owner, name, value):
    """``value`` as a bool: True/False (or numpy bools) only, so that a misplaced number is not read as a flag."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise ValueError(f"{_where(owner, name)} must be True or False, got {value!r}")


def one_of(owner, name, value, choices):
    """``value`` if it is one of ``choices`` (compared with ==, types checked so that 1 is not True)."""
    for choice in choices:
        if type(value) is type(choice) and value == choice:
            return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{_where(owner, name)} must be one of {listed}, got {value!r}")


def all_finite(a):
    """True if the ndarray ``a`` holds no NaN or Inf.

    Fast path: the dot product of ``a`` with itself (one BLAS call, no temporary array) is finite exactly when
    every element is, unless the squares of finite values overflow it; only then is every element tested.
    """
    if a.dtype.kind not in "fc":
        return True  # integers and bools cannot hold NaN or Inf
    flat = a.reshape(-1)
    return math.isfinite(abs(np.dot(flat, flat))) or bool(np.isfinite(a).all())
