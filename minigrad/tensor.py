"""Tensor, the recorded graph, and the reverse pass.

Every differentiable op that touches a Tensor with ``requires_grad=True`` appends one ``Node`` to the graph: the op,
its saved context, and its input Tensors. The graph *is* the tape: its nodes in topological order are the order in
which ops ran. ``backward()`` orders them (iteratively, so a graph of any depth works) and walks them in reverse,
calling each op's vector-Jacobian product and accumulating the results.
"""
import contextlib
import itertools
import operator

import numpy as np

_grad_enabled = True
# The debugging monitor of ``minigrad.inspect`` (op tagging, NaN/Inf detection), or None. Function.apply and
# run_backward test it once per op, so it costs one attribute load when off.
_hook = None


@contextlib.contextmanager
def no_grad():
    """Context manager: ops inside record nothing and their results do not require grad."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Context manager: turn recording back on inside a ``no_grad`` block."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, True
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled():
    return _grad_enabled


_tape_position = itertools.count()


class Node:
    """One tape entry: which op ran (``fn``), on which inputs, with how many outputs; it is also the op's context
    (the ``ctx`` its forward and backward receive: ``save_for_backward``, ``saved_tensors``, ``needs_input_grad`` and
    any attribute the op sets), as in PyTorch, so that a recorded op costs one object, not two.

    ``seq`` is the entry's position on the tape (ops are numbered as they run), so sorting by it orders any set of
    entries after everything that fed them. ``grads`` collects the cotangents of the node's outputs during a
    reverse pass and is emptied afterwards.
    """
    __slots__ = ("fn", "inputs", "needs_input_grad", "n_out", "grads", "seq", "saved_tensors", "output_meta",
                 "__dict__")

    def __init__(self, fn, inputs, needs_input_grad=None, n_out=1):
        self.fn, self.inputs, self.n_out = fn, inputs, n_out
        # one bool per positional input of the op: does it need a gradient
        self.needs_input_grad = (tuple([t is not None and t.requires_grad for t in inputs])
                                 if needs_input_grad is None else needs_input_grad)
        self.grads = None
        self.saved_tensors = ()
        self.seq = next(_tape_position)

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    @property
    def ctx(self):
        """The op's context: the node itself (kept as a name for tools that read ``node.ctx``)."""
        return self

    @property
    def name(self):
        return self.fn.__name__


def _as_array(data, dtype=None, what="Tensor data"):
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == dtype):
        arr = data
    else:
        try:
            arr = np.asarray(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what} must be numeric, got {type(data).__name__} that numpy cannot convert: {e}") \
                from None
    kind = arr.dtype.kind
    if kind not in "fbiu":
        if kind == "c":
            raise TypeError(f"{what} must be real: minigrad differentiates real functions, got dtype {arr.dtype}")
        raise TypeError(f"{what} must be numeric (bool, integer or floating-point), got dtype {arr.dtype}")
    return arr


class Tensor:
    """An ndarray with an optional gradient and the op that made it.

    data: ndarray of any shape; float32 and float64 are kept as given, Python floats become float64, integers stay
    integers (data that needs no gradient, such as token ids).
    """
    __slots__ = ("data", "grad", "requires_grad", "_node", "_index", "name", "__weakref__")
    __array_priority__ = 1000  # so ``ndarray op Tensor`` defers to Tensor's reflected operators
    # numpy ufuncs refuse Tensors (``np.tanh(t)`` raises TypeError) instead of silently dropping the graph, and
    # ``ndarray op Tensor`` defers to Tensor's reflected operators; np.asarray(t) gives the data (``__array__``).
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point Tensors can require gradients, got dtype {self.data.dtype}")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None       # the Node that produced this Tensor (None for leaves)
        self._index = 0         # which output of that Node this is
        self.name = name

    # ---- array-like attributes ----
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    is_leaf = property(lambda self: self._node is None)

    def __len__(self):
        return len(self.data)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(t)``: the numeric array (no gradient goes with it)."""
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self.data
        if copy is False:
            raise ValueError(f"np.asarray(tensor, dtype={dtype}, copy=False): a Tensor of dtype {self.dtype} "
                             "needs a copy")
        return self.data.astype(dtype)

    def numpy(self):
        """The underlying ndarray (not a copy)."""
        return self.data

    def item(self):
        return self.data.item()

    def detach(self):
        """A new leaf Tensor sharing this one's data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self):
        self.grad = None

    def astype(self, dtype):
        from . import ops
        return ops.cast(self, dtype=np.dtype(dtype))

    def __repr__(self):
        flag = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{flag})"

    def __bool__(self):
        return bool(self.data)

    def __hash__(self):
        return id(self)

    # ---- the reverse pass ----
    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf), times ``grad``, into ``.grad`` of every leaf that requires grad.

        grad: the seed cotangent, of this Tensor's shape; may be omitted only for a single-element Tensor.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a Tensor that does not require grad "
                               "(no input had requires_grad=True, or it was computed under no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() needs a seed gradient for a non-scalar Tensor of shape {self.shape}; "
                                   "pass grad=np.ones(shape) or reduce to a scalar first (e.g. .sum())")
            grad = np.ones_like(self.data)
        else:
            grad = _as_array(grad, what="the seed gradient")
            if grad.shape != self.shape:
                raise ValueError(f"seed gradient has shape {grad.shape} but the Tensor has shape {self.shape}")
            grad = grad.astype(self.dtype, copy=False)
        if self._node is None:
            _accumulate_leaf(self, grad)
            return
        run_backward([(self, grad)])


def _accumulate_leaf(t, g):
    if t.grad is None:
        t.grad = np.array(g, dtype=t.dtype, copy=True)  # a private copy: later in-place += must not alias
    else:
        t.grad += g


def toposort(roots):
    """The tape entries that ``roots`` depend on, in the order they were recorded (each after all that feed it).

    A plain stack walk collects them (no recursion, so a 50,000-step unrolled sequence is fine); their tape
    positions then give the order.
    """
    seen = {root for root in roots if root is not None}
    stack = list(seen)
    pop, push, add = stack.pop, stack.append, seen.add  # bound once: this loop runs once per tape entry
    while stack:
        for t in pop().inputs:
            if t is not None:
                child = t._node
                if child is not None and child not in seen:
                    add(child)
                    push(child)
    return sorted(seen, key=_by_position)


_by_position = operator.attrgetter("seq")


def leaves(tensors):
    """The leaf Tensors with ``requires_grad=True`` that ``tensors`` depend on (those among ``tensors`` included),
    each once: whose ``.grad`` a reverse pass from ``tensors`` would write."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"leaves: expected Tensors, got {type(t).__name__} at position {i}")
    found = {id(t): t for t in tensors if t.requires_grad and t._node is None}
    for node in toposort([t._node for t in tensors if t._node is not None]):
        for t in node.inputs:
            if t is not None and t.requires_grad and t._node is None:
                found[id(t)] = t
    return list(found.values())


def unbroadcast(g, shape):
    """Sum ``g`` over the axes along which an operand of ``shape`` was broadcast (the one place this is done)."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def broadcasts_to(shape, target):
    """Can an array of ``target`` shape be the broadcast of one of ``shape`` (a legal gradient shape)?"""
    extra = len(target) - len(shape)
    if extra < 0:
        return False
    return all(n == m or n == 1 for n, m in zip(shape, target[extra:]))


def check_gradient_shape(node, position, g_shape, t_shape):
    """A backward's gradient must have its input's shape or a shape that input broadcasts to."""
    if not broadcasts_to(t_shape, g_shape):
        raise RuntimeError(f"{node.name}.backward returned a gradient of shape {tuple(g_shape)} for input "
                           f"{position}, which has shape {tuple(t_shape)}: a gradient must have the input's shape "
                           f"(or a shape the input broadcasts to)")


def cast_gradient(node, t, g):
    """A gradient in the input's dtype; a complex or non-numeric one is an error, not a silent truncation."""
    if g.dtype.kind not in "fbiu":
        raise RuntimeError(f"{node.name}.backward returned a gradient of dtype {g.dtype} for input "
                           f"{node.inputs.index(t)} of dtype {t.dtype}: gradients must be real numbers")
    return g.astype(t.dtype)


def as_gradient_tuple(node, in_grads):
    """One gradient per positional input, or a RuntimeError naming the op and both counts."""
    if type(in_grads) is list:
        in_grads = tuple(in_grads)
    elif type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if len(in_grads) != len(node.inputs):
        raise RuntimeError(f"{node.name}.backward returned {len(in_grads)} gradient(s) but the op has "
                           f"{len(node.inputs)} positional input(s): return one per input, None for an input "
                           f"that gets no gradient")
    return in_grads


def _add_cotangent(t, g):
    """Accumulate the cotangent ``g`` of Tensor ``t`` into its node's ``grads``: the array itself for a single-output
    node (most of them), a list with one slot per output otherwise."""
    node = t._node
    if node.n_out == 1:
        prev = node.grads
        node.grads = g if prev is None else prev + g
        return
    grads = node.grads
    if grads is None:
        node.grads = grads = [None] * node.n_out
    prev = grads[t._index]
    grads[t._index] = g if prev is None else prev + g


def run_backward(seeds):
    """Reverse pass from ``[(tensor, cotangent), ...]``; the tape walker behind ``Tensor.backward``."""
    for t, g in seeds:
        _add_cotangent(t, g)
    order = toposort([t._node for t, _ in seeds])
    hook = _hook
    try:
        for node in reversed(order):
            gs = node.grads
            if gs is None:
                continue
            node.grads = None
            if node.n_out == 1:
                in_grads = node.fn.backward(node, gs)
            elif getattr(node.fn, "materialize_grads", True):
                gs = [np.zeros(s, d) if g is None else g for g, (s, d) in zip(gs, node.output_meta)]
                in_grads = node.fn.backward(node, *gs)
            else:  # the op asked for None in place of the zero cotangents of unused outputs
                in_grads = node.fn.backward(node, *gs)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if hook is not None:
                hook.on_backward(node, in_grads)
            for t, g in zip(node.inputs, in_grads):  # (user ops' gradient counts are checked by Function)
                if g is None or t is None or not t.requires_grad:
                    continue
                data = t.data
                if type(g) is not np.ndarray:
                    g = np.asarray(g)
                if g.shape != data.shape:
                    check_gradient_shape(node, node.inputs.index(t), g.shape, data.shape)
                    g = unbroadcast(g, data.shape)
                if g.dtype is not data.dtype and g.dtype != data.dtype:  # builtin dtypes are singletons
                    g = cast_gradient(node, t, g)
                child = t._node
                if child is None:
                    _accumulate_leaf(t, g)
                elif child.n_out == 1:  # inline: this is the hot path of the reverse pass
                    prev = child.grads
                    child.grads = g if prev is None else prev + g
                else:
                    _add_cotangent(t, g)
    finally:
        for node in order:  # a failed pass must not leave half-filled buffers behind
            node.grads = None
