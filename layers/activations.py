"""Activation functions by Keras 2.0 name, built from minigrad ops (so their gradients come free).

Each function takes a ``minigrad.Tensor`` (or an ndarray) and returns a Tensor of the same shape and dtype, and
its ``__name__`` is its Keras name. The recurrent layers use ``builtin_name(fn)`` to tell one of these functions
from a user's callable when they pick a fused numpy implementation.

Functions with an exponential are written so that no intermediate overflows: the exponential only ever sees
inputs <= 0, chosen with ``mg.where`` on *safe* inputs (the branch not taken is computed on a harmless value,
so it contributes neither an overflow warning nor a NaN gradient).

    >>> import numpy as np, minigrad as mg
    >>> get('softplus')(mg.Tensor(np.array([-1000., 0., 1000.]))).data.round(4).tolist()
    [0.0, 0.6931, 1000.0]
"""
import numpy as np

import minigrad as mg

# Klambauer et al. 2017 constants, to the digits Keras 2.0 uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
# Keras 2.0's hard sigmoid: clip(HARD_SIGMOID_SLOPE * x + HARD_SIGMOID_SHIFT, 0, 1) (minigrad's op uses these numbers).
HARD_SIGMOID_SLOPE = 0.2
HARD_SIGMOID_SHIFT = 0.5


def _data(x):
    return x.data if isinstance(x, mg.Tensor) else np.asarray(x)


def tanh(x):
    """Hyperbolic tangent."""
    return mg.tanh(x)


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x))."""
    return mg.sigmoid(x)


def hard_sigmoid(x):
    """Keras 2.0's piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return mg.hard_sigmoid(x)


def relu(x, alpha=0., max_value=None):
    """max(x, 0); with Keras 2.0's options, ``alpha * x`` below 0 and a ceiling of ``max_value``."""
    y = mg.relu(x)
    if max_value is not None:
        y = mg.clip(y, 0, max_value)
    if alpha:
        # Keras' order: the ceiling applies to the positive part only, then the leaky negative part is added.
        y = y - alpha * mg.relu(-x)
    return y


def linear(x):
    """The identity: what ``activation=None`` means."""
    return x


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (the last by default), computed on max-shifted values."""
    return mg.softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (Clevert et al. 2015)."""
    positive = _data(x) > 0
    # exp only ever sees min(x, 0): no overflow for large positive x.
    negative_part = alpha * (mg.exp(mg.where(positive, 0.0, x)) - 1)
    return mg.where(positive, x, negative_part)


def selu(x):
    """SELU_SCALE * elu(x, SELU_ALPHA) (Klambauer et al. 2017; pair it with 'lecun_normal')."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def softplus(x):
    """log(1 + exp(x)), finite for any finite x; its derivative is sigmoid(x), also at x = 0.

    minigrad's primitive (numpy's logaddexp forward, one tape entry) rather than the composite
    relu(x) + log(1 + exp(-|x|)), whose chain-rule gradient at exactly x = 0 would be 0 instead of 1/2.
    """
    return mg.softplus(x)


def softsign(x):
    """x / (1 + |x|)."""
    return x / (mg.abs(x) + 1)


_BY_NAME = {f.__name__: f for f in (tanh, sigmoid, hard_sigmoid, relu, linear, softmax, elu, selu, softplus,
                                    softsign)}


def builtin_name(fn):
    """The Keras name of ``fn`` if it *is* one of this module's functions (checked by identity), else None.

    Safer than reading ``fn.__name__`` when choosing a fused kernel: a user's function may be called 'tanh'.
    """
    name = getattr(fn, "__name__", None)
    return name if _BY_NAME.get(name) is fn else None


def _unknown(identifier):
    valid = ", ".join(repr(n) for n in sorted(_BY_NAME))
    return ValueError(f"Unknown activation {identifier!r}; valid names are: {valid}")


def serialize(activation):
    """The Keras name of an activation function (how Keras stores it in a layer config)."""
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {activation!r}: it has no __name__")
    return name


def get(identifier):
    """Resolve an activation: None -> ``linear``, a name -> the function, a Keras config dict
    ``{'class_name': name, 'config': {}}`` -> the function, a callable -> itself.

    Raises ValueError naming the bad value (and listing the valid names) for anything else. A config dict with
    options (say ``{'alpha': 0.5}``) is refused rather than silently ignored.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise _unknown(identifier)
        return _BY_NAME[identifier]
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in _BY_NAME:
            raise _unknown(name)
        if identifier.get("config"):
            raise ValueError(f"Activation {name!r} given by name takes no config, got {identifier['config']!r}; "
                             f"pass a callable (e.g. functools.partial) instead")
        return _BY_NAME[name]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation identifier {identifier!r}: expected None, a name, "
                     f"a config dict or a callable Tensor -> Tensor")
