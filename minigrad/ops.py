"""The op table: each primitive with its forward and its vector-Jacobian product side by side.

Read a ``backward`` as a row of a table of derivatives: ``d(a*b)/da = g * b``. Gradients may come out in the
broadcast shape; the engine (``tensor.unbroadcast``) reduces them to each operand's shape, so no rule here deals
with broadcasting. Derived ops (``sub`` of a scalar, ``softplus``, ``split`` ...) are written in terms of primitives
and need no gradient code of their own.
"""
import builtins
import numbers

import numpy as np

from .function import Context, Function
from .tensor import Tensor

_SCALARS = (numbers.Number, np.number, np.bool_)


def _check(x, op):
    """Reject operands that are neither Tensors, ndarrays nor numbers, naming the op and the type."""
    if isinstance(x, (Tensor, np.ndarray)) or isinstance(x, _SCALARS):
        return x
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    raise TypeError(f"{op}: unsupported operand of type {type(x).__name__!r} "
                    "(expected a minigrad.Tensor, a numpy array or a number)")


def _data(x):
    return x.data if isinstance(x, Tensor) else x


# ============================================================ elementwise binary

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.divide(a, b)
        ctx.save_for_backward(b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        ga = g / b
        return ga, (-ga * out if ctx.needs_input_grad[1] else None)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors[:2]
        out = ctx.saved_tensors[2]
        ga = g * b * np.power(a, b - 1) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:  # d(a^b)/db = a^b log a, defined for a > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = np.where(a > 0, g * out * np.log(np.where(a > 0, a, 1)), 0)
        return ga, gb


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(np.greater_equal(a, b))  # ties go to the first operand
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        (a_wins,) = ctx.saved_tensors
        return g * a_wins, g * ~a_wins


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(np.less_equal(a, b))
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        (a_wins,) = ctx.saved_tensors
        return g * a_wins, g * ~a_wins


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, cond):
        cond = np.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        return np.where(cond, g, 0), np.where(cond, 0, g)


# ============================================================ elementwise unary

class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.saved_tensors[0]


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.saved_tensors[0])


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(np.sign(a))
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        d = 1 - out * out
        d *= g
        return d


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        # 1 / (1 + exp(-a)): where exp(-a) overflows to inf the result is 0, the correctly rounded value (below the
        # smallest normal number); 4 numpy calls, where the branch-free form with exp(-|a|) takes 8.
        out = np.asarray(np.negative(a, dtype=np.result_type(a, np.float32)))  # 0-d: an array, not a scalar
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        out += 1
        np.reciprocal(out, out=out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        d = 1 - out
        d *= out  # sigmoid (1 - sigmoid)
        d *= g
        return d


class Softplus(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.logaddexp(0, a).astype(np.result_type(a, np.float32), copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * Sigmoid.forward(Context(), ctx.saved_tensors[0])


class HardSigmoid(Function):
    """Keras 2.0: clip(0.2 x + 0.5, 0, 1); slope 0.2 strictly inside (-2.5, 2.5), 0 outside."""

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.multiply(a, 0.2))  # in place from here: 4 ufunc calls (np.clip costs several us)
        out += 0.5
        np.maximum(out, 0, out=out)
        np.minimum(out, 1, out=out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        d = g * ((out > 0) & (out < 1))  # 0 < out < 1 exactly where 0 < 0.2 a + 0.5 < 1
        d *= 0.2
        return d


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a > 0)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]


class Clip(Function):
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        inside = np.ones(np.shape(a), dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        ctx.save_for_backward(inside)
        return np.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype=None):
        return np.asarray(a).astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts back to the input's dtype


# ============================================================ along an axis

class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        e = np.exp(a - a.max(axis=axis, keepdims=True))  # shifted: exp never overflows
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True)


# ============================================================ reductions

def _expand(g, shape, axis, keepdims):
    """Bring a reduced cotangent back to broadcastable form against the input of ``shape``."""
    if axis is None or keepdims:
        return g
    axes = (axis,) if isinstance(axis, (int, np.integer)) else axis
    return np.expand_dims(g, tuple(a % len(shape) for a in axes))


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_expand(g, ctx.shape, ctx.axis, ctx.keepdims), ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        out = np.mean(a, axis=axis, keepdims=keepdims)
        ctx.shape, ctx.axis, ctx.keepdims = np.shape(a), axis, keepdims
        ctx.count = np.size(a) / np.size(out) if np.size(out) else 1.0
        return out

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.shape, ctx.axis, ctx.keepdims) / ctx.count
        return np.broadcast_to(g, ctx.shape)


class Max(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        out = np.max(a, axis=axis, keepdims=keepdims)
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdims = axis, keepdims
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        out = _expand(out, a.shape, ctx.axis, ctx.keepdims)
        winners = (a == out)  # ties share the gradient equally
        count = winners.sum(axis=ctx.axis, keepdims=True)
        return _expand(g, a.shape, ctx.axis, ctx.keepdims) * winners / count


class Min(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        out = np.min(a, axis=axis, keepdims=keepdims)
        ctx.save_for_backward(a, out)
        ctx.axis, ctx.keepdims = axis, keepdims
        return out

    backward = Max.backward  # the same rule: the gradient goes to the elements equal to the result


# ============================================================ linear algebra

class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{a.shape[-1]} (last axis of the left) != {inner_b} "
                             f"({'first' if b.ndim == 1 else 'second-to-last'} axis of the right)")
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim >= 2 and b.ndim == 2:  # the common case (a batch of rows times a weight matrix): no reductions
            ga = np.matmul(g, b.T) if need_a else None
            gb = np.matmul(a.reshape(-1, a.shape[-1]).T, g.reshape(-1, g.shape[-1])) if need_b else None
            return ga, gb
        # promote 1-D operands to matrices so one rule covers every case
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = gb = None
        if need_a:
            ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
            ga = _reduce_to(ga, a2.shape).reshape(a.shape)
        if need_b:
            gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
            gb = _reduce_to(gb, b2.shape).reshape(b.shape)
        return ga, gb


def _reduce_to(g, shape):
    from .tensor import unbroadcast
    return unbroadcast(g, shape)


# ============================================================ movement

class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.shape = np.shape(a)
        return np.reshape(a, shape)

    @staticmethod
    def backward(ctx, g):
        return np.reshape(g, ctx.shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes=None):
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, None if ctx.axes is None else np.argsort(ctx.axes))


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.shape, ctx.dtype)
        if _is_basic_index(ctx.index):
            out[ctx.index] += g
        else:
            np.add.at(out, ctx.index, g)  # repeated fancy indices must add up, not overwrite
        return out


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.bounds, axis=ctx.axis))


class Split(Function):
    """Cut along ``axis`` at ``bounds`` (n+1 increasing offsets) into n pieces, as ONE tape entry; with
    ``squeeze=True`` the pieces are single indices with the axis dropped (``unstack``). Its backward writes each
    piece's cotangent into one array, where n separate slices would each scatter into a zero array of full size."""
    materialize_grads = False  # pieces that got no gradient arrive as None

    @staticmethod
    def forward(ctx, a, axis=0, bounds=None, squeeze=False):
        axis %= a.ndim
        lead = (slice(None),) * axis
        ctx.shape, ctx.dtype, ctx.lead, ctx.bounds, ctx.squeeze = a.shape, a.dtype, lead, bounds, squeeze
        if squeeze:
            return tuple(a[lead + (i,)] for i in range(a.shape[axis]))
        return tuple(a[lead + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        missing = any(g is None for g in grads)
        if not missing and not ctx.squeeze:  # one call (a few pieces: cheaper than filling an empty array)
            return np.concatenate(grads, axis=len(ctx.lead))
        whole = (np.zeros if missing else np.empty)(ctx.shape, ctx.dtype)
        for i, g in enumerate(grads):
            if g is not None:
                where = i if ctx.squeeze else slice(ctx.bounds[i], ctx.bounds[i + 1])
                whole[ctx.lead + (where,)] = g
        return whole


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.moveaxis(g, ctx.axis, 0))


# ============================================================ the public functional forms

def _unary(fn, name):
    def op(x):
        return fn.apply(_check(x, name))
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; any shape in, same shape out."
    return op


exp = _unary(Exp, "exp")
log = _unary(Log, "log")
sqrt = _unary(Sqrt, "sqrt")
abs = _unary(Abs, "abs")  # noqa: A001 - mirrors numpy's name on purpose
tanh = _unary(Tanh, "tanh")
sigmoid = _unary(Sigmoid, "sigmoid")
hard_sigmoid = _unary(HardSigmoid, "hard_sigmoid")
relu = _unary(Relu, "relu")


def add(a, b):
    return Add.apply(_check(a, "add"), _check(b, "add"))


def sub(a, b):
    return Sub.apply(_check(a, "sub"), _check(b, "sub"))


def mul(a, b):
    return Mul.apply(_check(a, "mul"), _check(b, "mul"))


def div(a, b):
    return Div.apply(_check(a, "div"), _check(b, "div"))


def pow(a, b):  # noqa: A001
    return Pow.apply(_check(a, "pow"), _check(b, "pow"))


def neg(a):
    return Neg.apply(_check(a, "neg"))


def matmul(a, b):
    """(..., n, k) @ (..., k, m) -> (..., n, m), numpy's matmul rules; mismatched inner sizes raise ValueError."""
    return MatMul.apply(_check(a, "matmul"), _check(b, "matmul"))


def maximum(a, b):
    """Elementwise maximum; at ties the gradient goes to ``a``."""
    return Maximum.apply(_check(a, "maximum"), _check(b, "maximum"))


def minimum(a, b):
    """Elementwise minimum; at ties the gradient goes to ``a``."""
    return Minimum.apply(_check(a, "minimum"), _check(b, "minimum"))


def where(cond, a, b):
    """``a`` where ``cond`` is true, else ``b`` (broadcasting); ``cond`` gets no gradient."""
    return Where.apply(_check(a, "where"), _check(b, "where"), cond=_data(cond))


def clip(x, a_min=None, a_max=None):
    """Clip to [a_min, a_max]; the gradient is passed where the input lies inside (bounds included)."""
    return Clip.apply(_check(x, "clip"), lo=_data(a_min), hi=_data(a_max))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``, computed on max-shifted values (finite for inputs of +-1000)."""
    return Softmax.apply(_check(x, "softmax"), axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) without forming the softmax: finite for inputs of +-1000."""
    return LogSoftmax.apply(_check(x, "log_softmax"), axis=axis)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum.apply(_check(x, "sum"), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return Mean.apply(_check(x, "mean"), axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum along ``axis``; tied maxima share the gradient equally."""
    return Max.apply(_check(x, "max"), axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum along ``axis``; tied minima share the gradient equally."""
    return Min.apply(_check(x, "min"), axis=axis, keepdims=keepdims)


def reshape(x, shape):
    return Reshape.apply(_check(x, "reshape"), shape=shape)


def transpose(x, axes=None):
    return Transpose.apply(_check(x, "transpose"), axes=axes)


def cast(x, dtype):
    return Cast.apply(_check(x, "cast"), dtype=np.dtype(dtype))


def concatenate(tensors, axis=0):
    """Join a sequence of Tensors along an existing axis."""
    tensors = [_check(t, "concatenate") for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one Tensor")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join a sequence of same-shape Tensors along a new axis."""
    tensors = [_check(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one Tensor")
    shapes = {np.shape(_data(t)) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs Tensors of one shape, got shapes {sorted(shapes)}")
    return Stack.apply(*tensors, axis=axis)


def split(x, indices_or_sections, axis=0):
    """numpy.split as a list of Tensors: ``indices_or_sections`` equal parts, or cuts at the given indices."""
    x = _check(x, "split")
    n = (x.data if isinstance(x, Tensor) else np.asarray(x)).shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(f"split: axis {axis} of size {n} cannot be split into {indices_or_sections} equal parts")
        bounds = tuple(range(0, n + 1, n // indices_or_sections))
    else:
        bounds = (0, *[builtins.min(builtins.max(int(i), 0), n) for i in indices_or_sections], n)
        if any(lo > hi for lo, hi in zip(bounds[:-1], bounds[1:])):
            raise ValueError(f"split: indices must be increasing, got {list(indices_or_sections)}")
    return list(Split.apply(x, axis=axis, bounds=bounds))


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis`` (that axis dropped), as a list of Tensors: the inverse of ``stack``."""
    return list(Split.apply(_check(x, "unstack"), axis=axis, squeeze=True))


def softplus(x):
    """log(1 + exp(x)), finite for any input; its derivative is sigmoid(x)."""
    return Softplus.apply(_check(x, "softplus"))


# ============================================================ Tensor operators

def _binary_method(fn, reflected=False):
    def method(self, other):
        if not (isinstance(other, (Tensor, np.ndarray)) or isinstance(other, _SCALARS)):
            return NotImplemented  # Python then raises "unsupported operand type(s)" naming both types
        return fn.apply(other, self) if reflected else fn.apply(self, other)
    return method


def _getitem(self, index):
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = np.asarray(index)
    return GetItem.apply(self, index=index)


def _transpose_method(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    return Transpose.apply(self, axes=axes or None)


def _reshape_method(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(self, shape=shape)


Tensor.__add__ = _binary_method(Add)
Tensor.__radd__ = _binary_method(Add, reflected=True)
Tensor.__sub__ = _binary_method(Sub)
Tensor.__rsub__ = _binary_method(Sub, reflected=True)
Tensor.__mul__ = _binary_method(Mul)
Tensor.__rmul__ = _binary_method(Mul, reflected=True)
Tensor.__truediv__ = _binary_method(Div)
Tensor.__rtruediv__ = _binary_method(Div, reflected=True)
Tensor.__pow__ = _binary_method(Pow)
Tensor.__rpow__ = _binary_method(Pow, reflected=True)
Tensor.__matmul__ = _binary_method(MatMul)
Tensor.__rmatmul__ = _binary_method(MatMul, reflected=True)
Tensor.__neg__ = lambda self: Neg.apply(self)
Tensor.__getitem__ = _getitem
Tensor.sum = lambda self, axis=None, keepdims=False: Sum.apply(self, axis=axis, keepdims=keepdims)
Tensor.mean = lambda self, axis=None, keepdims=False: Mean.apply(self, axis=axis, keepdims=keepdims)
Tensor.max = lambda self, axis=None, keepdims=False: Max.apply(self, axis=axis, keepdims=keepdims)
Tensor.min = lambda self, axis=None, keepdims=False: Min.apply(self, axis=axis, keepdims=keepdims)
Tensor.reshape = _reshape_method
Tensor.transpose = _transpose_method
Tensor.T = property(lambda self: Transpose.apply(self))
Tensor.exp = exp
Tensor.log = log
Tensor.tanh = tanh
Tensor.sigmoid = sigmoid
Tensor.relu = relu
Tensor.sqrt = sqrt
Tensor.abs = abs
Tensor.clip = clip
# comparisons give plain boolean arrays: they have no gradient
Tensor.__lt__ = lambda self, other: self.data < _data(other)
Tensor.__le__ = lambda self, other: self.data <= _data(other)
Tensor.__gt__ = lambda self, other: self.data > _data(other)
Tensor.__ge__ = lambda self, other: self.data >= _data(other)
