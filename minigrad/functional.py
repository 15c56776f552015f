"""Functional forms of differentiation: transform a function of Tensors into a function of its derivatives.

    mg.grad(f)(x)                      # df/dx as an ndarray (f returns a single-element Tensor)
    mg.value_and_grad(f)(x)            # (f(x), df/dx)
    mg.vjp(f, x)                       # (f(x), vjp_fn): vjp_fn(v) = v^T J
    mg.jvp(f, x, t)                    # (f(x), J t): forward mode, by the double-VJP trick
    mg.hvp(f, x, v)                    # H v of a scalar f, reverse over reverse
    mg.hessian(f)(x)                   # the whole Hessian, shape x.shape + x.shape

``grad`` and ``value_and_grad`` nest: inside an enclosing differentiation (any function of this module evaluating
its ``f``) they return Tensors on the graph, recorded with ``create_graph=True``, so the enclosing one can
differentiate them; called at top level they return ndarrays. ``mg.grad(lambda x: mg.grad(f)(x).sum())`` is the
derivative of the gradient's sum. The others always return ndarrays.

Differentiated arguments may be ndarrays, numbers or Tensors; they become fresh leaf Tensors (float64 for integer
data), so the caller's Tensors are neither modified nor given a ``.grad``. The one exception is nesting: a Tensor
argument that requires grad, given to an inner ``grad`` inside an enclosing differentiation, is passed on through
an identity op, so the inner gradient (with respect to that argument alone, not to the Tensor's other uses) stays
connected to the outer graph.

Forward mode (``jvp``): the VJP u -> J^T u is linear in u, so differentiating <J^T u, t> with respect to u gives
J t. One forward pass, one recorded reverse pass, and one reverse pass over that record: a few times the cost of a
gradient, whatever the number of outputs.
"""
import contextlib

import numpy as np

from .ops import Identity
from .reverse import gradients
from .tensor import Tensor, enable_grad

_depth = 0  # how many transforms of this module are evaluating their function right now


@contextlib.contextmanager
def _differentiating():
    global _depth
    _depth += 1
    try:
        with enable_grad():
            yield
    finally:
        _depth -= 1


def _leaf(x, what):
    """A fresh float leaf Tensor holding ``x``'s values."""
    data = x.data if isinstance(x, Tensor) else x
    t = Tensor(data)  # validates: numeric, real
    data = t.data if t.dtype.kind == "f" else t.data.astype(np.float64)
    return Tensor(data, requires_grad=True)


def _argnums(argnums):
    if isinstance(argnums, (bool, np.bool_)) or not isinstance(argnums, (int, np.integer, tuple, list)):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else tuple(argnums)
    for i in nums:
        if not isinstance(i, (int, np.integer)) or isinstance(i, (bool, np.bool_)):
            raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if not nums:
        raise ValueError("argnums is empty: name at least one argument to differentiate")
    return single, nums


def _positions(nums, n_args):
    positions = []
    for i in nums:
        if not -n_args <= i < n_args:
            raise IndexError(f"argnums {i} is out of range for a call with {n_args} positional arguments")
        positions.append(int(i) % n_args)
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums {tuple(nums)} names the same argument twice; each argument's gradient is "
                         "returned once (pass distinct argnums)")
    return positions


def _scalar_output(out, what):
    if not isinstance(out, Tensor):
        raise TypeError(f"{what}: the differentiated function must return a minigrad.Tensor, got "
                        f"{type(out).__name__}")
    if out.size != 1:
        raise RuntimeError(f"{what} needs a scalar output, got shape {out.shape}")
    return out


def value_and_grad(f, argnums=0):
    """Return ``g(*args) -> (f(*args), df/d args[argnums])``.

    ``f`` must return a single-element Tensor. ``argnums`` is an int (one gradient) or a tuple of distinct ints (a
    tuple of gradients; naming an argument twice raises ValueError). Gradients are ndarrays of the arguments'
    shapes, or Tensors on the graph when called inside an enclosing differentiation (module docstring).
    """
    single, nums = _argnums(argnums)

    def wrapped(*args, **kwargs):
        positions = _positions(nums, len(args))
        nested = _depth > 0
        args = list(args)
        leaves = []
        for i in positions:
            a = args[i]
            if nested and isinstance(a, Tensor) and a.requires_grad:
                a = Identity.apply(a)  # on the outer graph, yet its own input: d f / d (this argument) only
            else:
                a = _leaf(a, f"argument {i}")
            args[i] = a
            leaves.append(a)
        with _differentiating():
            out = _scalar_output(f(*args, **kwargs), "grad")
            if out.requires_grad:
                grads = gradients(out, leaves, create_graph=nested, allow_unused=True)
            else:
                grads = (None,) * len(leaves)
        grads = tuple(_finish(g, t, nested) for g, t in zip(grads, leaves))
        return out, (grads[0] if single else grads)

    return wrapped


def _finish(g, t, as_tensor):
    if g is None:
        g = Tensor(np.zeros(t.shape, t.dtype))
    return g if as_tensor else g.data


def grad(f, argnums=0):
    """Return ``g(*args) -> df/d args[argnums]`` (see ``value_and_grad``)."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    return wrapped


# ============================================================ vjp, jvp, hvp, hessian

def _inputs(inputs, what):
    """(list of inputs, whether a single input was given rather than a tuple or list)."""
    if isinstance(inputs, (tuple, list)):
        if not inputs:
            raise ValueError(f"{what}: inputs is empty")
        return list(inputs), False
    return [inputs], True


def _outputs(out, what):
    single = isinstance(out, Tensor)
    outs = [out] if single else out
    if not isinstance(outs, (tuple, list)) or not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{what}: the function must return a minigrad.Tensor or a tuple of Tensors, got "
                        f"{type(out).__name__}")
    return list(outs), single


def _matching(values, inputs, single, what, name):
    """``values`` (tangents, vectors) in the structure of ``inputs``, as float arrays of the inputs' shapes."""
    values = [values] if single else values
    if not isinstance(values, (tuple, list)) or len(values) != len(inputs):
        got = type(values).__name__ + (f" of {len(values)}" if isinstance(values, (tuple, list)) else "")
        raise ValueError(f"{what}: {name} must match inputs: one array per input ({len(inputs)}), got {got}")
    arrays = []
    for k, (v, x) in enumerate(zip(values, inputs)):
        arr = Tensor(v.data if isinstance(v, Tensor) else v).data
        if arr.shape != x.shape:
            raise ValueError(f"{what}: {name}[{k}] has shape {arr.shape} but inputs[{k}] has shape {x.shape}")
        arrays.append(arr.astype(x.dtype, copy=False))
    return arrays


def vjp(f, *inputs):
    """Return ``(f(*inputs), vjp_fn)``: the value as ndarray(s) and ``vjp_fn(cotangent) -> v^T J``.

    f: a function of Tensors returning a Tensor or a tuple of Tensors. vjp_fn takes one cotangent per output (of
    its shape) and returns the gradient with respect to each input, ndarrays of the inputs' shapes (a single
    array for a single input). vjp_fn may be called any number of times (the forward is not re-run).
    """
    if not inputs:
        raise ValueError("vjp: give at least one input")
    leaves = [_leaf(x, f"inputs[{k}]") for k, x in enumerate(inputs)]
    with _differentiating():
        outs, single_out = _outputs(f(*leaves), "vjp")
    values = outs[0].data if single_out else tuple(o.data for o in outs)

    def vjp_fn(*cotangents):
        cots = cotangents[0] if single_out and len(cotangents) == 1 else cotangents
        cots = _matching(cots, outs, single_out, "vjp_fn", "cotangents")
        active = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
        grads = (None,) * len(leaves)
        if active:
            grads = gradients([o for o, _ in active], leaves, grad_outputs=[c for _, c in active],
                              allow_unused=True)
        grads = tuple(_finish(g, t, False) for g, t in zip(grads, leaves))
        return grads[0] if len(leaves) == 1 else grads

    return values, vjp_fn


def jvp(f, inputs, tangents):
    """Return ``(f(inputs), J t)``: the value and the directional derivative along ``tangents``, as ndarrays.

    inputs: an array (f takes one argument) or a tuple/list of arrays (f takes them positionally); tangents: the
    same structure, of the inputs' shapes. f returns a Tensor or a tuple of Tensors; J t has the same structure.
    Computed by the double-VJP trick (module docstring).
    """
    inputs, single = _inputs(inputs, "jvp")
    leaves = [_leaf(x, f"inputs[{k}]") for k, x in enumerate(inputs)]
    tangents = _matching(tangents, leaves, single, "jvp", "tangents")
    with _differentiating():
        outs, single_out = _outputs(f(*leaves), "jvp")
        dummies = [Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) for o in outs]  # u: any value will do
        active = [k for k, o in enumerate(outs) if o.requires_grad]
        jt = [None] * len(outs)
        if active:
            vjps = gradients([outs[k] for k in active], leaves, grad_outputs=[dummies[k] for k in active],
                             create_graph=True, allow_unused=True)
            inner = None  # <J^T u, t>, linear in u
            for g, t in zip(vjps, tangents):
                if g is not None and g.requires_grad:
                    term = (g * t).sum()
                    inner = term if inner is None else inner + term
            if inner is not None:
                found = gradients(inner, [dummies[k] for k in active], allow_unused=True)
                for k, g in zip(active, found):
                    jt[k] = g
    jt = [np.zeros(o.shape, o.dtype) if g is None else g.data for g, o in zip(jt, outs)]
    if single_out:
        return outs[0].data, jt[0]
    return tuple(o.data for o in outs), tuple(jt)


def hvp(f, inputs, vectors):
    """The Hessian-vector product H v of a scalar function ``f``, reverse over reverse.

    inputs: an array or a tuple/list of arrays (f's positional arguments); vectors: the same structure and shapes.
    Returns an ndarray (a tuple for several inputs): sum_j d^2 f / d x_i d x_j v_j for each input i.
    """
    inputs, single = _inputs(inputs, "hvp")
    leaves = [_leaf(x, f"inputs[{k}]") for k, x in enumerate(inputs)]
    vectors = _matching(vectors, leaves, single, "hvp", "vectors")
    with _differentiating():
        out = _scalar_output(f(*leaves), "hvp")
        hv = (None,) * len(leaves)
        if out.requires_grad:
            gs = gradients(out, leaves, create_graph=True, allow_unused=True)
            inner = None  # <grad f, v>
            for g, v in zip(gs, vectors):
                if g is not None and g.requires_grad:
                    term = (g * v).sum()
                    inner = term if inner is None else inner + term
            if inner is not None:
                hv = gradients(inner, leaves, allow_unused=True)
    hv = tuple(_finish(g, t, False) for g, t in zip(hv, leaves))
    return hv[0] if single else hv


def hessian(f, argnums=0):
    """Return ``h(*args) -> d^2 f / d x^2`` for x = args[argnums], an ndarray of shape x.shape + x.shape.

    ``f`` returns a single-element Tensor; argnums is one int. One recorded gradient, then one reverse pass over
    it per element of x.
    """
    if isinstance(argnums, (bool, np.bool_)) or not isinstance(argnums, (int, np.integer)):
        raise TypeError(f"hessian: argnums must be one int, got {argnums!r}")

    def wrapped(*args, **kwargs):
        (i,) = _positions((argnums,), len(args))
        args = list(args)
        x = args[i] = _leaf(args[i], f"argument {i}")
        h = np.zeros(x.shape + x.shape, x.dtype)
        with _differentiating():
            out = _scalar_output(f(*args, **kwargs), "hessian")
            if out.requires_grad:
                (g,) = gradients(out, [x], create_graph=True, allow_unused=True)
                if g is not None and g.requires_grad:
                    flat = g.reshape(-1)
                    rows = h.reshape((x.size,) + x.shape)
                    for j in range(x.size):
                        entry = flat[j]
                        if entry.requires_grad:
                            (row,) = gradients(entry, [x], allow_unused=True)
                            if row is not None:
                                rows[j] = row.data
        return h

    return wrapped
