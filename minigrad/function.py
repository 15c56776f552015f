"""``Function``: how an op is declared, with its forward and its vector-Jacobian product side by side.

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):          # ndarrays in, ndarray (or tuple of ndarrays) out
            ctx.save_for_backward(x)
            return x ** 3
        @staticmethod
        def backward(ctx, g):         # one cotangent per output in, one gradient per positional input out
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    y = Cube.apply(t)                 # records one tape entry when t requires grad

An op with several outputs gets a zero cotangent for each output that received none, unless it sets the class
attribute ``materialize_grads = False``: then it gets ``None`` there (and saves allocating zeros).

Keyword arguments of ``apply`` are passed to ``forward`` as non-differentiable options (axis, shape, ...).
A gradient may be returned in the broadcast shape; the engine reduces it to the input's shape and dtype.
"""
import numpy as np

from . import tensor as _t
from .tensor import Node, Tensor


class Context:
    """Scratch space of one op application; lives on the tape until the graph is dropped."""
    __slots__ = ("saved_tensors", "needs_input_grad", "output_meta", "__dict__")

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


def _unwrap(a):
    return a.data if type(a) is Tensor or isinstance(a, Tensor) else a


class Function:
    """Base class of every op. Subclasses define static ``forward(ctx, *arrays, **options)`` and
    ``backward(ctx, *cotangents)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the inputs' arrays; record a tape entry if any input Tensor requires grad."""
        ctx = Context()
        record = False
        if _t._grad_enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    record = True
                    break
        if record:
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        out = cls.forward(ctx, *[_unwrap(a) for a in args], **kwargs)
        if isinstance(out, tuple):
            outs = tuple(Tensor(o) for o in out)
            if record:
                ctx.output_meta = tuple((o.shape, o.dtype) for o in outs)
                node = Node(cls, ctx, tuple(a if isinstance(a, Tensor) else None for a in args), len(outs))
                for i, o in enumerate(outs):
                    if o.data.dtype.kind == "f":
                        o.requires_grad, o._node, o._index = True, node, i
            if _t._hook is not None:
                _t._hook.on_forward(cls, ctx, args, outs)
            return outs
        result = Tensor.__new__(Tensor)  # skip __init__'s checks: forward already produced an ndarray
        result.data = out if isinstance(out, np.ndarray) else np.asarray(out)
        result.grad, result.name, result.constraint, result.regularizer = None, None, None, None
        result._index = 0
        if record and result.data.dtype.kind == "f":
            result.requires_grad = True
            result._node = Node(cls, ctx, tuple(a if isinstance(a, Tensor) else None for a in args), 1)
        else:
            result.requires_grad, result._node = False, None
        if _t._hook is not None:  # minigrad.inspect: tag the op (scope, timestep) / check it for NaN and Inf
            _t._hook.on_forward(cls, ctx, args, (result,))
        return result
