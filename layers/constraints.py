"""Weight constraints: projections applied to a weight after each optimizer update (Keras 2.0 formulas).

A constraint is a callable ndarray -> ndarray, pure numpy, that returns a new array of the input's dtype.
Optimizers apply it to ``p.data`` after the step when a weight Tensor has a ``.constraint`` attribute; it is
never applied at initialisation or by ``set_weights`` (Keras 2.0 timing).

Norms are L2 norms over ``axis`` with keepdims. With the default ``axis=0`` on a kernel (D, kU) or a recurrent
kernel (U, kU) each column (one unit of one gate) is constrained; on a 1-D bias the norm is over the whole vector.

    >>> import numpy as np
    >>> MaxNorm(1.0)(np.array([[3.0], [4.0]])).ravel().round(6).tolist()
    [0.6, 0.8]
"""
import numbers

import numpy as np

from optim import _checks

from . import _lookup

# Keras' K.epsilon(): keeps the division finite for an all-zero column.
EPSILON = 1e-7


def _as_float_array(w):
    """``w`` as an ndarray; non-float input is promoted to float64 (a norm of integers is not an integer)."""
    w = np.asarray(w)
    if w.dtype.kind != "f":
        w = w.astype(np.float64)
    return w


def _norms(owner, w, axis):
    """L2 norms of ``w`` over ``axis`` with keepdims, so they broadcast back against ``w``."""
    if axis is not None:
        for a in axis if isinstance(axis, tuple) else (axis,):
            if not -w.ndim <= a < w.ndim:
                raise ValueError(f"{owner}: axis {a} is out of range for a weight of shape {w.shape} "
                                 f"({w.ndim} dimension{'s' if w.ndim != 1 else ''})")
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _normalize_axis(owner, axis):
    """``axis`` checked: None (all axes), an int, or a list/tuple of distinct ints (Keras accepts a list, e.g.
    [0, 1, 2] for conv kernels; numpy wants a tuple)."""
    def is_int(a):
        return isinstance(a, numbers.Integral) and not isinstance(a, bool)

    if axis is None or is_int(axis):
        return None if axis is None else int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis) and len(set(axis)) == len(axis):
        return tuple(int(a) for a in axis)
    raise ValueError(f"{owner}: `axis` must be an int, a non-empty list of distinct ints, or None, got {axis!r}")


class Constraint(_lookup.Configurable):
    """Base class: ``constraint(w) -> new ndarray`` of the same shape and dtype. The base class copies ``w``."""

    def __call__(self, w):
        return np.array(_as_float_array(w), copy=True)


class MaxNorm(Constraint):
    """Rescale each weight vector whose L2 norm over ``axis`` exceeds ``max_value`` down to that norm.

    w <- w * clip(n, 0, max_value) / (eps + n)

    ``max_value``: a finite number >= 0. ``axis``: an int, a list of ints, or None (the norm of the whole weight).
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _checks.real("MaxNorm", "max_value", max_value, low=0.)
        self.axis = _normalize_axis("MaxNorm", axis)

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms("MaxNorm", w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative entries: w <- w * [w >= 0].

    A multiplication (as in Keras), not ``np.where``, so a NaN weight stays NaN and remains visible.
    """

    def __call__(self, w):
        w = _as_float_array(w)
        return w * (w >= 0).astype(w.dtype)


class UnitNorm(Constraint):
    """Scale each weight vector to unit L2 norm over ``axis``: w <- w / (eps + n)."""

    def __init__(self, axis=0):
        self.axis = _normalize_axis("UnitNorm", axis)

    def __call__(self, w):
        w = _as_float_array(w)
        return (w / (EPSILON + _norms("UnitNorm", w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each weight vector's L2 norm over ``axis`` into [min_value, max_value], at speed ``rate``.

    w <- w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)

    ``rate=1`` enforces the bounds at once; ``rate<1`` moves the norm part of the way at each update.
    ``min_value`` and ``max_value`` are finite with 0 <= min_value <= max_value; ``rate`` is in [0, 1].
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _checks.real("MinMaxNorm", "min_value", min_value, low=0.)
        self.max_value = _checks.real("MinMaxNorm", "max_value", max_value, low=0.)
        if self.min_value > self.max_value:
            raise ValueError(f"MinMaxNorm: `min_value` ({self.min_value:g}) must not exceed `max_value` "
                             f"({self.max_value:g})")
        self.rate = _checks.real("MinMaxNorm", "rate", rate, low=0., high=1.)
        self.axis = _normalize_axis("MinMaxNorm", axis)

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms("MinMaxNorm", w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return (w * (desired / (EPSILON + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 2.0 names: lowercase aliases of the classes, and the Keras 1 spellings kept for old code.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
maxnorm = MaxNorm
nonneg = NonNeg
unitnorm = UnitNorm

_BY_NAME = {
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
    "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm,
    "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
}


def serialize(obj):
    """``{'class_name': ..., 'config': ...}`` for one of this module's constraints (None stays None)."""
    if obj is None:
        return None
    return _lookup.serialize(obj, Constraint, "constraint")


def get(identifier):
    """Resolve a constraint: None -> None, a name -> a new default instance, a Keras config dict
    ``{'class_name': name, 'config': {...}}`` -> a configured instance, a callable -> itself.

    Raises ValueError naming the bad value (and listing the valid names) for anything else.
    """
    if identifier is None:
        return None
    return _lookup.resolve(identifier, _BY_NAME, "constraint", Constraint,
                           "None, a name, a config dict or a callable ndarray -> ndarray")
