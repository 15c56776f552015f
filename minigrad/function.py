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
A gradient may be returned in the broadcast shape; the engine reduces it to the input's shape and dtype. Any other
shape, or a number of gradients that is not the number of positional inputs, raises ``RuntimeError``.

Differentiating a backward (second and higher derivatives, ``create_graph=True``). ``backward`` works on ndarrays
and is all that first order uses. A reverse pass that must itself be recorded needs one of:

* ``graph_backward(ctx, *grads)``: the same VJP written with minigrad ops. The cotangents are Tensors,
  ``ctx.inputs`` holds the input Tensors (None where a non-Tensor was passed; read such constants from what
  ``forward`` saved), and it returns Tensors::

        @staticmethod
        def graph_backward(ctx, g):
            (x,) = ctx.inputs
            return 3 * x ** 2 * g

* ``reference_forward(*args, **options)``: the op's forward written with minigrad ops (Tensors in, Tensor or tuple
  out). Under ``create_graph`` the engine re-runs it on the node's inputs and differentiates that instead
  (recompute-and-differentiate). A caller can also hand a reference to one application:
  ``Op.apply_with_reference(reference, *args, **options)``, as a fused kernel is given its op-by-op form.

An op with neither still works to first order, and under ``create_graph`` its gradients are computed with
``backward``; a reverse pass that then reaches them raises ``RuntimeError`` naming the op.
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
    ``backward(ctx, *cotangents)``, and for higher-order derivatives ``graph_backward`` or ``reference_forward``
    (module docstring)."""
    graph_backward = None      # staticmethod(ctx, *Tensor cotangents) -> Tensor gradients, or None
    reference_forward = None   # staticmethod(*args, **options) -> Tensor(s) built with minigrad ops, or None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("backward")
        if own is not None and not cls.__module__.startswith("minigrad."):
            # a user's backward is checked for one gradient per input (the op table's own rules are tested
            # instead, so that the reverse pass pays nothing for the check)
            raw = own.__func__ if isinstance(own, staticmethod) else own

            def backward(ctx, *grads):
                return _t.as_gradient_tuple(ctx, raw(ctx, *grads))
            backward.__doc__, backward.__wrapped__ = raw.__doc__, raw
            cls.backward = staticmethod(backward)
        ref = cls.__dict__.get("reference_forward")
        if ref is not None:  # every application keeps its arguments, so the reference can be re-run on them
            ref = ref.__func__ if isinstance(ref, staticmethod) else ref

            def apply(op, *args, **options):
                return op.apply_with_reference(_bind_options(ref, options), *args, **options)
            apply.__doc__ = Function.apply.__doc__
            cls.apply = classmethod(apply)

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
        try:
            out = cls.forward(ctx, *arrays, **kwargs)
        except ValueError as e:  # numpy's broadcasting message names no op: say which op and which shapes
            if "could not be broadcast" in str(e):
                raise ValueError(f"{cls.__name__}: operands of shapes {', '.join(str(np.shape(a)) for a in arrays)} "
                                 "do not broadcast together") from None
            raise
        multi = isinstance(out, tuple)
        if multi:
            if record:
                node.n_out = len(out)
                node.output_meta = tuple([(o.shape, o.dtype) for o in out])
            results = tuple([_result(o, node, i) for i, o in enumerate(out)])
        else:
            results = _result(out, node, 0)
        if _t._hook is not None:  # minigrad.inspect: tag the op / check it for NaN and Inf; minigrad.scan: trace it
            _t._hook.on_forward(cls, ctx, args, results if multi else (results,), kwargs)
        return results

    @classmethod
    def apply_with_reference(cls, reference, *args, **options):
        """``apply``, giving this one application a reference forward: ``reference(*args)`` computes the same
        outputs with minigrad ops (it receives the same positional arguments, Tensors where Tensors were given).
        First-order passes use ``backward`` as usual; a ``create_graph`` pass re-runs ``reference`` and
        differentiates it, so the op can be differentiated to any order. The reference must compute from its
        arguments only (a Tensor it reaches through a closure gets no gradient from this op); randomness such as
        dropout masks must be fixed in it (drawn before, captured by the closure)."""
        if not callable(reference):
            raise TypeError(f"{cls.__name__}.apply_with_reference: reference must be callable, got "
                            f"{type(reference).__name__}")
        out = Function.apply.__func__(cls, *args, **options)
        node = next((o._node for o in (out if isinstance(out, tuple) else (out,)) if o._node is not None), None)
        if node is not None:
            node.reference, node.reference_args = reference, args
        return out


def _bind_options(fn, options):
    if not options:
        return fn
    return lambda *args: fn(*args, **options)


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
