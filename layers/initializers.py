"""Weight initializers (Keras 2.0 formulas): ``init(shape, dtype='float32') -> np.ndarray``.

Random initializers draw from ``minigrad.random.get_rng()``, so ``mg.seed(n)`` makes a model's weights
reproducible; an initializer constructed with its own ``seed`` instead uses a fresh
``np.random.default_rng(seed)`` at every call, so the same seed always gives the same weights.
Values are drawn in float64 and then cast, so float32 and float64 weights from one seed agree to rounding.

Fans are computed from the *whole* shape. For a fused recurrent kernel (D, 4U) that means
glorot_uniform's limit is sqrt(6 / (D + 4U)), not a per-gate limit.

    >>> w = glorot_uniform(seed=0)((3, 8))
    >>> w.shape, w.dtype.name, bool(abs(w).max() <= (6 / 11) ** 0.5)
    ((3, 8), 'float32', True)
"""
import math

import numpy as np

import minigrad as mg

from . import _lookup

# ---------------------------------------------------------------- helpers

def _as_shape(shape):
    """``shape`` as a tuple of non-negative ints (an int is a 1-D shape)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"An initializer needs a shape of non-negative ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"An initializer needs a shape of non-negative ints, got {shape!r}")
    return shape


def _as_dtype(dtype, random=False):
    # None means the project default, as Keras' dtype=None meant floatx().
    dtype = np.dtype("float32" if dtype is None else dtype)
    if random and dtype.kind != "f":
        raise ValueError(f"A random initializer needs a floating dtype, got {dtype}")
    return dtype


def _rng(seed):
    """The project generator, or a fresh one when the initializer has its own seed (same seed -> same draw)."""
    return mg.random.get_rng() if seed is None else np.random.default_rng(seed)


def _truncated_standard_normal(rng, shape):
    """N(0, 1) samples with every value beyond 2 redrawn (TensorFlow's truncated_normal, as Keras 2.0 used it).

    The result's standard deviation is about 0.88, not 1: Keras 2.0 did not correct for the truncation.
    """
    z = np.asarray(rng.standard_normal(size=shape), dtype=np.float64)
    outside = np.abs(z) > 2.0
    while outside.any():
        # About 4.6% of draws land outside, so this loop ends after a handful of rounds.
        z[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(z) > 2.0
    return z


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight shape, as Keras 2.0 computed them.

    2-D (input_dim, output_dim): the two dimensions. 3-, 4- and 5-D (convolution kernels, channels last):
    input and output channels times the receptive field. Anything else (a 1-D bias, a scalar):
    sqrt(size) for both, Keras' "no specific assumptions" rule.
    """
    shape = _as_shape(shape)
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        receptive_field = float(np.prod(shape[:-2]))
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    root = math.sqrt(float(np.prod(shape)))
    return root, root


# ---------------------------------------------------------------- initializers

class Initializer(_lookup.Configurable):
    """Base class. ``init(shape, dtype='float32')`` returns a new ndarray of that shape and dtype."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class Constant(Initializer):
    """Every entry equal to ``value`` (a scalar, or an array that broadcasts to the shape)."""

    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype="float32"):
        return np.full(_as_shape(shape), self.value, dtype=_as_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    """All zeros."""

    def __init__(self):
        super().__init__(0)

    def get_config(self):
        return {}


class Ones(Constant):
    """All ones."""

    def __init__(self):
        super().__init__(1)

    def get_config(self):
        return {}


class RandomNormal(Initializer):
    """Samples of N(mean, stddev**2)."""

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        dtype = _as_dtype(dtype, random=True)
        return _rng(self.seed).normal(self.mean, self.stddev, size=_as_shape(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Samples of U[minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype="float32"):
        dtype = _as_dtype(dtype, random=True)
        return _rng(self.seed).uniform(self.minval, self.maxval, size=_as_shape(shape)).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Samples of N(mean, stddev**2) with values more than two stddev from the mean redrawn."""

    def __init__(self, mean=0., stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype="float32"):
        dtype = _as_dtype(dtype, random=True)
        z = _truncated_standard_normal(_rng(self.seed), _as_shape(shape))
        return (self.mean + self.stddev * z).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    """Samples whose scale adapts to the weight's fans (see ``compute_fans``).

    n = fan_in, fan_out or (fan_in + fan_out) / 2 by ``mode`` (at least 1).
    distribution='uniform': U[-limit, limit] with limit = sqrt(3 * scale / n).
    distribution='normal': truncated normal with stddev parameter sqrt(scale / n) (Keras 2.0.x: the truncation
    is not corrected for, so the empirical stddev is about 0.88 of that).
    """

    def __init__(self, scale=1., mode="fan_in", distribution="normal", seed=None):
        if not scale > 0:
            raise ValueError(f"VarianceScaling: `scale` must be a positive float, got {scale!r}")
        mode = str(mode).lower()
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: `mode` must be one of 'fan_in', 'fan_out', 'fan_avg', got {mode!r}")
        distribution = str(distribution).lower()
        if distribution not in ("normal", "uniform"):
            raise ValueError(f"VarianceScaling: `distribution` must be 'normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _as_shape(shape), _as_dtype(dtype, random=True)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        rng = _rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            values = rng.uniform(-limit, limit, size=shape)
        else:
            values = math.sqrt(variance) * _truncated_standard_normal(rng, shape)
        return values.astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Orthogonal(Initializer):
    """``gain`` times a random matrix with orthonormal rows or columns (Saxe et al. 2014), by SVD.

    The shape is flattened to (prod(shape[:-1]), shape[-1]); A ~ N(0, 1) of that shape;
    U, S, V = svd(A, full_matrices=False); q = U if U has the flat shape, else V. So a tall matrix gets
    orthonormal columns and a wide one orthonormal rows: the recurrent kernel (U, kU) has orthonormal rows
    over the whole fused matrix (its U x U gate blocks are not orthogonal), and only a square (U, U)
    kernel is a true orthogonal matrix. The numbers differ from Keras' (another generator), the law is the same.
    """

    def __init__(self, gain=1., seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype="float32"):
        shape, dtype = _as_shape(shape), _as_dtype(dtype, random=True)
        if len(shape) < 1:
            raise ValueError(f"Orthogonal needs a shape with at least one dimension, got {shape!r}")
        flat = (int(np.prod(shape[:-1])), shape[-1])
        a = _rng(self.seed).standard_normal(size=flat)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == flat else v
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix; only for square 2-D shapes (as in Keras 2.0)."""

    def __init__(self, gain=1.):
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        shape = _as_shape(shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"Identity initializer needs a square 2-D shape, got {shape!r}")
        return (self.gain * np.eye(shape[0])).astype(_as_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


# ---------------------------------------------------------------- named VarianceScaling variants

def glorot_uniform(seed=None):
    """U[-L, L], L = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010)."""
    return VarianceScaling(scale=1., mode="fan_avg", distribution="uniform", seed=seed)


def glorot_normal(seed=None):
    """Truncated normal with stddev parameter sqrt(2 / (fan_in + fan_out))."""
    return VarianceScaling(scale=1., mode="fan_avg", distribution="normal", seed=seed)


def he_uniform(seed=None):
    """U[-L, L], L = sqrt(6 / fan_in) (He et al. 2015)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="uniform", seed=seed)


def he_normal(seed=None):
    """Truncated normal with stddev parameter sqrt(2 / fan_in)."""
    return VarianceScaling(scale=2., mode="fan_in", distribution="normal", seed=seed)


def lecun_uniform(seed=None):
    """U[-L, L], L = sqrt(3 / fan_in) (LeCun et al. 1998)."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="uniform", seed=seed)


def lecun_normal(seed=None):
    """Truncated normal with stddev parameter sqrt(1 / fan_in) (the initializer meant for 'selu')."""
    return VarianceScaling(scale=1., mode="fan_in", distribution="normal", seed=seed)


# Keras 2.0 lowercase names for the classes; 'zero', 'one', 'uniform' and 'normal' are Keras 1 spellings.
zeros = zero = Zeros
ones = one = Ones
constant = Constant
random_normal = normal = RandomNormal
random_uniform = uniform = RandomUniform
truncated_normal = TruncatedNormal
orthogonal = Orthogonal
identity = Identity

_BY_NAME = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "orthogonal": Orthogonal, "identity": Identity,
    "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
    "Zeros": Zeros, "Ones": Ones, "Constant": Constant, "RandomNormal": RandomNormal,
    "RandomUniform": RandomUniform, "TruncatedNormal": TruncatedNormal, "VarianceScaling": VarianceScaling,
    "Orthogonal": Orthogonal, "Identity": Identity,
}


def serialize(obj):
    """``{'class_name': ..., 'config': ...}`` for one of this module's initializers."""
    return _lookup.serialize(obj, Initializer, "initializer")


def get(identifier):
    """Resolve an initializer: a name -> a new default instance (``'glorot_uniform'`` -> ``VarianceScaling``),
    a Keras config dict ``{'class_name': name, 'config': {...}}`` -> a configured instance, an Initializer
    class -> a default instance, any other callable ``(shape, dtype) -> ndarray`` -> itself.

    Raises ValueError naming the bad value (and listing the valid names) for anything else, None included.
    """
    return _lookup.resolve(identifier, _BY_NAME, "initializer", Initializer,
                           "a name, a config dict or a callable (shape, dtype) -> ndarray")
