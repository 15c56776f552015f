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
An op may keep anything on ``ctx`` for its backward (``ctx.axis = axis``) except the tape entry's own fields:
``fn``, ``inputs``, ``n_out``, ``grads``, ``seq``, ``name`` (a recorded op's ``ctx`` is its ``Node``).
A gradient may be returned in the broadcast shape; the engine reduces it to the input's shape and dtype.
"""
import numpy as np

from . import tensor as _t
from .tensor import Node, Tensor


class Context:
    """Scratch space of an op applied without recording (no input needs a gradient, or under ``no_grad``). A
    recorded op gets its tape entry, a ``Node``, as its context instead: the two offer the same interface."""
    __slots__ = ("saved_tensors", "needs_input_grad", "output_meta", "__dict__")

    def __init__(self, needs_input_grad=()):
        self.saved_tensors = ()
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


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
        arrays, inputs, needs = [], [], []  # one pass over the arguments (this is every op's hot path)
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                inputs.append(a)
                needs.append(a.requires_grad)
                record = record or a.requires_grad
            else:
                arrays.append(a)
                inputs.append(None)
                needs.append(False)
        record = record and _t._grad_enabled
        ctx = node = Node(cls, tuple(inputs), tuple(needs)) if record else None
        if not record:
            ctx = Context((False,) * len(args))
        out = cls.forward(ctx, *arrays, **kwargs)
        multi = isinstance(out, tuple)
        if multi:
            if record:
                node.n_out = len(out)
                node.output_meta = tuple([(o.shape, o.dtype) for o in out])
            results = tuple([_result(o, node, i) for i, o in enumerate(out)])
        else:
            results = _result(out, node, 0)
        if _t._hook is not None:  # minigrad.inspect: tag the op (scope, timestep) / check it for NaN and Inf
            _t._hook.on_forward(cls, ctx, args, results if multi else (results,))
        return results


_new_tensor = Tensor.__new__


def _result(data, node, index):
    """An op's output as a Tensor, without ``Tensor.__init__``'s checks (forward already made an ndarray). It takes
    part in the graph (``node``) only if it is floating-point."""
    t = _new_tensor(Tensor)
    t.data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad = t.name = None
    t._index = index
    if node is not None and t.data.dtype.kind == "f":
        t.requires_grad, t._node = True, node
    else:
        t.requires_grad, t._node = False, None
    return t
