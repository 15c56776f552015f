"""Weight and activity regularizers (Keras 2.0): ``reg(w: Tensor) -> scalar Tensor`` penalty.

Penalties are built from minigrad ops, so they are differentiable and the training loop can add them to the
loss. The penalty is a *sum* over all elements, not a mean (Keras 2.0), and it acts on a whole fused kernel.

    >>> import numpy as np, minigrad as mg
    >>> float(l1_l2(l1=0.5, l2=0.25)(mg.Tensor(np.array([1.0, -2.0]))).data)
    2.75
"""
import numpy as np

import minigrad as mg
from optim import _checks

from . import _lookup


def _as_tensor(x):
    return x if isinstance(x, mg.Tensor) else mg.Tensor(np.asarray(x))


class Regularizer(_lookup.Configurable):
    """Base class: ``reg(w) -> scalar Tensor``. The base penalty is 0."""

    def __call__(self, x):
        x = _as_tensor(x)
        return mg.Tensor(np.zeros((), dtype=x.dtype))


class L1L2(Regularizer):
    """penalty(w) = sum(l1 * |w|) + sum(l2 * w**2), a scalar Tensor of w's dtype.

    ``l1`` and ``l2`` are finite numbers >= 0 (a negative factor would reward large weights); anything else
    raises ValueError.
    """

    def __init__(self, l1=0., l2=0.):
        self.l1 = _checks.real("L1L2", "l1", l1, low=0.)
        self.l2 = _checks.real("L1L2", "l2", l2, low=0.)

    def __call__(self, x):
        x = _as_tensor(x)
        # Terms with a zero coefficient are skipped (as Keras does) so they add no ops to the tape.
        penalty = None
        if self.l1:
            penalty = self.l1 * mg.abs(x).sum()
        if self.l2:
            term = self.l2 * (x * x).sum()
            penalty = term if penalty is None else penalty + term
        if penalty is None:
            return mg.Tensor(np.zeros((), dtype=x.dtype))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741 - Keras' argument name
    """L1 penalty l * sum(|w|)."""
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741 - Keras' argument name
    """L2 penalty l * sum(w**2)."""
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811 - the argument names shadow the functions, as in Keras
    """L1 plus L2 penalty: l1 * sum(|w|) + l2 * sum(w**2)."""
    return L1L2(l1=l1, l2=l2)


# The names 'l1', 'l2', 'l1_l2' call the functions, so they get Keras' 0.01 defaults; 'L1L2' defaults to 0.
_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "L1L2": L1L2}


def serialize(obj):
    """``{'class_name': ..., 'config': ...}`` for one of this module's regularizers (None stays None)."""
    if obj is None:
        return None
    return _lookup.serialize(obj, Regularizer, "regularizer")


def get(identifier):
    """Resolve a regularizer: None -> None, a name -> a default instance (``'l2'`` -> ``L1L2(l2=0.01)``), a Keras
    config dict ``{'class_name': name, 'config': {...}}`` -> a configured instance, a callable -> itself.

    Raises ValueError naming the bad value (and listing the valid names) for anything else.
    """
    if identifier is None:
        return None
    return _lookup.resolve(identifier, _BY_NAME, "regularizer", Regularizer,
                           "None, a name, a config dict or a callable Tensor -> scalar Tensor")
