"""The op table: each primitive with its forward and its vector-Jacobian product side by side.

Read a ``backward`` as a row of a table of derivatives: ``d(a*b)/da = g * b``. Gradients may come out in the
broadcast shape; the engine (``tensor.unbroadcast``) reduces them to each operand's shape, so no rule here deals
with broadcasting. Derived ops (``sub`` of a scalar, ``softplus``, ``split`` ...) are written in terms of primitives
and need no gradient code of their own.

Each op has two rules for its VJP. ``backward`` works on ndarrays: the only one a first-order pass runs (fast).
``graph_backward`` is the same derivative written with minigrad ops on Tensors (``ctx.inputs``), run only by a
``create_graph`` pass, which records it so it can be differentiated again. Where the numpy rule is already valid
for Tensors (it multiplies the cotangent by constants: ``g * mask``) the class says ``graph_backward = backward``.
Three primitives exist for the graph rules: ``SumTo`` (the differentiable ``unbroadcast``), ``BroadcastTo`` and
``ScatterAdd`` (the VJP of indexing). Axes are normalised once, in ``forward``, so every backward sees
non-negative axes.
"""
import builtins
import numbers

import numpy as np

from . import tensor as _t
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


def _operands(ctx):
    """The op's inputs for a graph rule: the input Tensors, with the saved arrays standing in for non-Tensor
    arguments (the op saves its operands first, in order)."""
    return tuple(s if t is None else t for t, s in zip(ctx.inputs, ctx.saved_tensors))


def _axis(axis, ndim, op):
    """``axis`` as an index in range(ndim), or AxisError naming the op, the axis and the valid range."""
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, first (ops on the unrolled path call this)
        return axis % ndim
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        valid = f"{-ndim} to {ndim - 1}" if ndim else "none: the input is 0-d"
        raise np.exceptions.AxisError(f"{op}: axis {axis} is out of range for a {ndim}-d input (valid: {valid})")
    return int(axis) % ndim


def _axes(axis, ndim, op):
    """None, or ``axis`` (an int or a sequence of ints) as a sorted tuple of distinct non-negative axes."""
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        axes = tuple(sorted(_axis(a, ndim, op) for a in axis))
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: repeated axis in {tuple(axis)}")
        return axes
    return (_axis(axis, ndim, op),)


def _kept_shape(shape, axes):
    """The shape of a reduction over ``axes`` with keepdims=True (what a reduced cotangent is reshaped to)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ============================================================ elementwise binary

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g

    graph_backward = backward  # the same rule on Tensors


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return g, -g

    graph_backward = backward


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

    @staticmethod
    def graph_backward(ctx, g):
        a, b = _operands(ctx)
        need_a, need_b = ctx.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.divide(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        _, b, out = ctx.saved_tensors
        ga = g / b
        return ga, (-ga * out if ctx.needs_input_grad[1] else None)

    @staticmethod
    def graph_backward(ctx, g):
        a, b = _operands(ctx)
        ga = g / b
        return ga, (-(ga * a) / b if ctx.needs_input_grad[1] else None)


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

    @staticmethod
    def graph_backward(ctx, g):
        a, b = _operands(ctx)
        need_a, need_b = ctx.needs_input_grad
        ga = g * b * a ** (b - 1) if need_a else None
        gb = None
        if need_b:
            positive = np.asarray(ctx.saved_tensors[0]) > 0
            gb = where(positive, g * a ** b * log(where(positive, a, 1.0)), 0.0)
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

    graph_backward = backward  # g times a constant mask


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(np.less_equal(a, b))
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        (a_wins,) = ctx.saved_tensors
        return g * a_wins, g * ~a_wins

    graph_backward = backward  # g times a constant mask


class Where(Function):
    @staticmethod
    def forward(ctx, a, b, cond):
        cond = np.asarray(cond, dtype=bool)
        ctx.save_for_backward(cond)
        try:
            return np.where(cond, a, b)
        except ValueError:
            raise ValueError(f"where: the condition of shape {cond.shape} and the operands of shapes {np.shape(a)} and "
                             f"{np.shape(b)} do not broadcast together") from None

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        return np.where(cond, g, 0), np.where(cond, 0, g)

    @staticmethod
    def graph_backward(ctx, g):
        (cond,) = ctx.saved_tensors
        return Where.apply(g, 0.0, cond=cond), Where.apply(0.0, g, cond=cond)


# ============================================================ elementwise unary

class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g

    graph_backward = backward


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]

    @staticmethod
    def graph_backward(ctx, g):
        return g * exp(ctx.inputs[0])


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        return g / ctx.saved_tensors[0]

    @staticmethod
    def graph_backward(ctx, g):
        return g / ctx.inputs[0]


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return g / (2 * ctx.saved_tensors[0])

    @staticmethod
    def graph_backward(ctx, g):
        return g / (2 * sqrt(ctx.inputs[0]))


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(np.sign(a))
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]

    graph_backward = backward


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

    @staticmethod
    def graph_backward(ctx, g):
        y = tanh(ctx.inputs[0])
        return g * (1 - y * y)


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

    @staticmethod
    def graph_backward(ctx, g):
        s = sigmoid(ctx.inputs[0])
        return g * (s * (1 - s))


class Softplus(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.logaddexp(0, a).astype(np.result_type(a, np.float32), copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * Sigmoid.forward(Context(), ctx.saved_tensors[0])

    @staticmethod
    def graph_backward(ctx, g):
        return g * sigmoid(ctx.inputs[0])


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

    @staticmethod
    def graph_backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (((out > 0) & (out < 1)) * 0.2)  # a constant slope: its own derivative is 0


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a > 0)
        return np.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.saved_tensors[0]

    graph_backward = backward


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

    graph_backward = backward


class Identity(Function):
    """The input itself, as a new node: a handle through which a gradient with respect to one use of a Tensor
    can be asked for (nested ``grad`` differentiates with respect to its argument, not every use of the Tensor)."""

    @staticmethod
    def forward(ctx, a):
        return a

    @staticmethod
    def backward(ctx, g):
        return g

    graph_backward = backward


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype=None):
        return np.asarray(a).astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g  # the engine casts back to the input's dtype

    graph_backward = backward


# ============================================================ along an axis

def max_keepdims(a, axis):
    """``a.max(axis=axis, keepdims=True)`` of an ndarray, ``axis`` a tuple of normalised axes (as ``_axes`` gives).

    Along one axis of many short rows (the classes of a batch of timesteps), numpy's max reduction works row by row;
    np.argmax and a gather give the same values (NaN included: argmax stops at the first) in half the time or less
    (1280 rows of 45: 69 -> 40 us; 4096 rows of 8: 166 -> 38 us). Small or long-rowed arrays keep the reduction."""
    if len(axis) == 1 and a.size >= 4096 and a.shape[axis[0]] <= 512:
        return np.take_along_axis(a, np.expand_dims(a.argmax(axis=axis[0]), axis[0]), axis=axis[0])
    return a.max(axis=axis, keepdims=True)


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        axis = _axes(axis, np.ndim(a), "softmax")
        e = np.exp(a - max_keepdims(a, axis))  # shifted: exp never overflows
        out = e / e.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))

    @staticmethod
    def graph_backward(ctx, g):
        s = Softmax.apply(ctx.inputs[0], axis=ctx.axis)
        return s * (g - (g * s).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, a, axis=-1):
        axis = _axes(axis, np.ndim(a), "log_softmax")
        shifted = a - max_keepdims(a, axis)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * g.sum(axis=ctx.axis, keepdims=True)

    @staticmethod
    def graph_backward(ctx, g):
        out = LogSoftmax.apply(ctx.inputs[0], axis=ctx.axis)
        return g - exp(out) * g.sum(axis=ctx.axis, keepdims=True)


# ============================================================ reductions

def _expand(g, shape, axes, keepdims):
    """Bring a reduced cotangent back to broadcastable form against the input of ``shape``."""
    if keepdims:
        return g
    return np.reshape(g, _kept_shape(shape, axes))


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        shape = np.shape(a)
        ctx.shape, ctx.axis, ctx.keepdims = shape, _axes(axis, len(shape), "sum"), keepdims
        return np.sum(a, axis=ctx.axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(_expand(g, ctx.shape, ctx.axis, ctx.keepdims), ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        return broadcast_to(g.reshape(_kept_shape(ctx.shape, ctx.axis)), ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        shape = np.shape(a)
        ctx.shape, ctx.axis, ctx.keepdims = shape, _axes(axis, len(shape), "mean"), keepdims
        out = np.mean(a, axis=ctx.axis, keepdims=keepdims)
        ctx.count = np.size(a) / np.size(out) if np.size(out) else 1.0
        return out

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.shape, ctx.axis, ctx.keepdims) / ctx.count
        return np.broadcast_to(g, ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        return broadcast_to(g.reshape(_kept_shape(ctx.shape, ctx.axis)) / ctx.count, ctx.shape)


class Max(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.axis, ctx.keepdims = _axes(axis, np.ndim(a), "max"), keepdims
        out = np.max(a, axis=ctx.axis, keepdims=keepdims)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        return _expand(g, ctx.saved_tensors[0].shape, ctx.axis, ctx.keepdims) * _winner_share(ctx)

    @staticmethod
    def graph_backward(ctx, g):
        a = ctx.saved_tensors[0]
        return g.reshape(_kept_shape(a.shape, ctx.axis)) * _winner_share(ctx)


def _winner_share(ctx):
    """Where the input equals the reduced extremum, 1/(number of ties); 0 elsewhere (a constant of the input's
    shape: the derivative of max/min is piecewise constant)."""
    a, out = ctx.saved_tensors
    winners = a == _expand(out, a.shape, ctx.axis, ctx.keepdims)  # ties share the gradient equally
    return winners / winners.sum(axis=ctx.axis, keepdims=True)


class Min(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        ctx.axis, ctx.keepdims = _axes(axis, np.ndim(a), "min"), keepdims
        out = np.min(a, axis=ctx.axis, keepdims=keepdims)
        ctx.save_for_backward(a, out)
        return out

    backward = Max.backward  # the same rule: the gradient goes to the elements equal to the result
    graph_backward = Max.graph_backward


class SumTo(Function):
    """Sum over the broadcast axes down to ``shape``: ``tensor.unbroadcast`` as an op, so that reducing a
    broadcast gradient is itself differentiable (its VJP is ``BroadcastTo``)."""

    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.shape = np.shape(a)
        return np.ascontiguousarray(_t.unbroadcast(np.asarray(a), tuple(shape)))

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(g, ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        return broadcast_to(g, ctx.shape)


class BroadcastTo(Function):
    """numpy.broadcast_to as an op (a copy, so the result is writable); its VJP is ``SumTo``."""

    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.shape = np.shape(a)
        return np.array(np.broadcast_to(a, shape))

    @staticmethod
    def backward(ctx, g):
        return _t.unbroadcast(g, ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        return sum_to(g, ctx.shape)


# ============================================================ linear algebra

def _swap_last(x):
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    n = x.ndim
    return Transpose.apply(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


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
        if a.ndim > 2 or b.ndim > 2:
            try:
                np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise ValueError(f"matmul: the batch axes of shapes {a.shape} and {b.shape} do not broadcast: "
                                 f"{a.shape[:-2]} and {b.shape[:-2]}") from None
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
        # promote 1-D operands to matrices (a row on the left, a column on the right) so one rule covers every case
        a2, b2, g2 = _as_matrices(a, b, np.asarray(g))
        ga = gb = None
        if need_a:
            ga = _t.unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if need_b:
            gb = _t.unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb

    @staticmethod
    def graph_backward(ctx, g):
        a, b = _operands(ctx)
        need_a, need_b = ctx.needs_input_grad
        a2, b2, g2 = _as_matrices(a, b, g)
        ga = sum_to(matmul(g2, _swap_last(b2)), a2.shape).reshape(a.shape) if need_a else None
        gb = sum_to(matmul(_swap_last(a2), g2), b2.shape).reshape(b.shape) if need_b else None
        return ga, gb


def _as_matrices(a, b, g):
    """a as (..., n, k), b as (..., k, m) and the cotangent g as (..., n, m): 1-D operands become a row (left)
    or a column (right), and g gets back the axes matmul dropped for them."""
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    dropped = (a.ndim == 1) + (b.ndim == 1)
    batch = g.shape[:g.ndim - (2 - dropped)]
    return a2, b2, g.reshape(batch + (a2.shape[-2], b2.shape[-1]))


# ============================================================ movement

class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.shape = np.shape(a)
        return np.reshape(a, shape)

    @staticmethod
    def backward(ctx, g):
        return np.reshape(g, ctx.shape)

    @staticmethod
    def graph_backward(ctx, g):
        return Reshape.apply(g, shape=ctx.shape)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes=None):
        if axes is not None:
            ndim = np.ndim(a)
            try:
                axes = tuple(axes)
            except TypeError:
                raise TypeError(f"transpose: axes must be a sequence of integers, got {axes!r}") from None
            normal = tuple(_axis(i, ndim, "transpose") for i in axes)
            if sorted(normal) != list(range(ndim)):
                raise ValueError(f"transpose: axes {axes} are not a permutation of the {ndim} axes of an input of "
                                 f"shape {np.shape(a)}")
            axes = normal
        ctx.axes = axes
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, None if ctx.axes is None else np.argsort(ctx.axes))

    @staticmethod
    def graph_backward(ctx, g):
        return Transpose.apply(g, axes=None if ctx.axes is None else tuple(np.argsort(ctx.axes).tolist()))


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]

    @staticmethod
    def backward(ctx, g):
        return _scatter_add(g, ctx.shape, ctx.dtype, ctx.index)

    @staticmethod
    def graph_backward(ctx, g):
        return ScatterAdd.apply(g, shape=ctx.shape, index=ctx.index)


def _scatter_add(g, shape, dtype, index):
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        return _add_rows(g, shape, dtype, index)
    out = np.zeros(shape, dtype)
    if _is_basic_index(index):
        out[index] += g
    else:
        np.add.at(out, index, g)  # repeated fancy indices must add up, not overwrite
    return out


def _add_rows(g, shape, dtype, ids):
    """Zeros of ``shape`` with the rows of ``g`` (shape ``ids.shape + shape[1:]``) added at the integer ``ids``
    along axis 0, repeated ids adding up: the VJP of ``x[ids]``, an embedding lookup.

    ``np.add.at`` does this one element at a time; these two forms take 5-10x less time (measured on 1280 ids of
    rows of 32 to 128): a product with the one-hot matrix of the ids when the table is small, else the rows sorted
    by id and summed per id with ``np.add.reduceat``, which touches only the rows that occur."""
    vocab, n = shape[0], ids.size
    width = int(np.prod(shape[1:], dtype=np.int64))
    rows = np.reshape(g, (n, width))
    flat = ids.reshape(n)
    if n == 0 or width == 0:
        return np.zeros(shape, dtype)
    if vocab <= 64 or vocab * n <= 1 << 16:
        one_hot = np.zeros((vocab, n), rows.dtype)
        one_hot[flat, np.arange(n)] = 1  # a negative id counts from the end, as in the lookup
        out = one_hot @ rows
    else:
        if flat.dtype.kind == "i" and flat.min() < 0:
            flat = np.where(flat < 0, flat + vocab, flat)
        order = np.argsort(flat, kind="stable")
        ordered = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        out = np.zeros((vocab, width), rows.dtype)
        out[ordered[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out.reshape(shape).astype(dtype, copy=False)


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``a`` added at ``index`` (repeated indices add up): the VJP of ``x[index]``, as an
    op so that it can be differentiated again (its own VJP is indexing)."""

    @staticmethod
    def forward(ctx, a, shape=None, index=None):
        ctx.index = index
        return _scatter_add(a, shape, np.result_type(a, np.float32), index)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]

    @staticmethod
    def graph_backward(ctx, g):
        return GetItem.apply(g, index=ctx.index)


def _is_basic_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ndim = np.ndim(arrays[0])
        axis = _axis(axis, ndim, "concatenate")
        ctx.axis = axis
        ctx.bounds = np.cumsum([np.shape(a)[axis] for a in arrays])[:-1]
        try:
            return np.concatenate(arrays, axis=axis)
        except ValueError as e:
            raise ValueError(f"concatenate: {e} (shapes {[np.shape(a) for a in arrays]})") from None

    @staticmethod
    def backward(ctx, g):
        return tuple(np.split(g, ctx.bounds, axis=ctx.axis))

    @staticmethod
    def graph_backward(ctx, g):
        bounds = (0, *ctx.bounds.tolist(), g.shape[ctx.axis])
        return Split.apply(g, axis=ctx.axis, bounds=bounds)


class Split(Function):
    """Cut along ``axis`` at ``bounds`` (n+1 increasing offsets) into n pieces, as ONE tape entry; with
    ``squeeze=True`` the pieces are single indices with the axis dropped (``unstack``). Its backward writes each
    piece's cotangent into one array, where n separate slices would each scatter into a zero array of full size."""
    materialize_grads = False  # pieces that got no gradient arrive as None

    @staticmethod
    def forward(ctx, a, axis=0, bounds=None, squeeze=False):
        if type(axis) is not int or not 0 <= axis < a.ndim:  # split() passes it normalised already
            axis = _axis(axis, a.ndim, "unstack" if squeeze else "split")
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

    @staticmethod
    def graph_backward(ctx, *grads):
        axis = len(ctx.lead)
        pieces = []
        for i, g in enumerate(grads):
            if g is None:  # a piece that got no gradient: zeros of its shape, a constant
                shape = list(ctx.shape)
                if ctx.squeeze:
                    del shape[axis]
                else:
                    shape[axis] = ctx.bounds[i + 1] - ctx.bounds[i]
                g = np.zeros(shape, ctx.dtype)
            pieces.append(g)
        return (Stack if ctx.squeeze else Concatenate).apply(*pieces, axis=axis)


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = _axis(axis, np.ndim(arrays[0]) + 1, "stack")
        return np.stack(arrays, axis=ctx.axis)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.moveaxis(g, ctx.axis, 0))

    @staticmethod
    def graph_backward(ctx, g):
        return Split.apply(g, axis=ctx.axis, squeeze=True)


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
    lo, hi = _bound(a_min, "a_min"), _bound(a_max, "a_max")
    if lo is not None and hi is not None and np.any(lo > hi):
        raise ValueError(f"clip: a_min ({a_min}) is greater than a_max ({a_max})")
    return Clip.apply(_check(x, "clip"), lo=lo, hi=hi)


def _bound(b, name):
    if b is None:
        return None
    arr = np.asarray(_data(b))
    if arr.dtype.kind not in "fiub" or np.isnan(arr).any():
        raise TypeError(f"clip: {name} must be None, a number or a numeric array (no NaN), got {b!r}")
    return _data(b)


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
    """``x`` converted to ``dtype`` (bool, integer or floating-point); the gradient is cast back."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"cast: {dtype!r} is not a numpy dtype") from None
    if dtype.kind not in "fiub":
        raise TypeError(f"cast: can only cast to bool, integer or floating-point dtypes, got {dtype}")
    return Cast.apply(_check(x, "cast"), dtype=dtype)


def _sequence(tensors, op):
    if isinstance(tensors, (Tensor, np.ndarray, str)) or not hasattr(tensors, "__iter__"):
        raise TypeError(f"{op} takes a sequence (list or tuple) of Tensors, got {type(tensors).__name__}")
    tensors = [_check(t, op) for t in tensors]
    if not tensors:
        raise ValueError(f"{op} needs at least one Tensor")
    return tensors


def concatenate(tensors, axis=0):
    """Join a sequence of Tensors along an existing axis."""
    tensors = _sequence(tensors, "concatenate")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join a sequence of same-shape Tensors along a new axis."""
    tensors = _sequence(tensors, "stack")
    shapes = {np.shape(_data(t)) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs Tensors of one shape, got shapes {sorted(shapes)}")
    return Stack.apply(*tensors, axis=axis)


def split(x, indices_or_sections, axis=0):
    """numpy.split as a list of Tensors: ``indices_or_sections`` equal parts, or cuts at the given indices."""
    x = _check(x, "split")
    shape = (x.data if isinstance(x, Tensor) else np.asarray(x)).shape
    axis = _axis(axis, len(shape), "split")
    n = shape[axis]
    if type(indices_or_sections) is int or (isinstance(indices_or_sections, (int, np.integer))
                                            and not isinstance(indices_or_sections, (bool, np.bool_))):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: axis {axis} of size {n} cannot be split into {k} equal parts")
        bounds = tuple(i * (n // k) for i in range(k + 1))
    elif not isinstance(indices_or_sections, (list, tuple, np.ndarray)):
        raise TypeError(f"split: indices_or_sections must be an int or a sequence of ints, got {indices_or_sections!r}")
    else:
        cuts = list(indices_or_sections)
        for i in cuts:
            if not isinstance(i, (int, np.integer)) or isinstance(i, (bool, np.bool_)):
                raise TypeError(f"split: indices must be integers, got {i!r} in {cuts}")
        # numpy's reading: a negative index counts from the end, an index past the end cuts there
        bounds = (0, *[builtins.min(builtins.max(int(i) + n if i < 0 else int(i), 0), n) for i in cuts], n)
        if any(lo > hi for lo, hi in zip(bounds[:-1], bounds[1:])):
            raise ValueError(f"split: indices must be increasing, got {cuts}")
    return list(Split.apply(x, axis=axis, bounds=bounds))


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis`` (that axis dropped), as a list of Tensors: the inverse of ``stack``."""
    return list(Split.apply(_check(x, "unstack"), axis=axis, squeeze=True))


def sum_to(x, shape):
    """Sum ``x`` over the axes along which an array of ``shape`` would have been broadcast to ``x.shape``."""
    x = _check(x, "sum_to")
    shape = tuple(shape)
    if np.shape(_data(x)) == shape:
        return x if isinstance(x, Tensor) else Tensor(x)
    if not _t.broadcasts_to(shape, np.shape(_data(x))):
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the input's shape {np.shape(_data(x))}")
    return SumTo.apply(x, shape=shape)


def broadcast_to(x, shape):
    """numpy.broadcast_to, differentiable (the gradient is summed back over the broadcast axes)."""
    x = _check(x, "broadcast_to")
    shape = tuple(shape)
    if not _t.broadcasts_to(np.shape(_data(x)), shape):
        raise ValueError(f"broadcast_to: an input of shape {np.shape(_data(x))} does not broadcast to {shape}")
    return BroadcastTo.apply(x, shape=shape)


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
