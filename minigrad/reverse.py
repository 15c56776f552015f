"""``gradients``: the general reverse pass, for chosen inputs and, on request, recorded on the tape.

    gx, gw = mg.gradients(loss, [x, w])                       # d loss / d x, d loss / d w, as Tensors
    gx, = mg.gradients(loss, [x], create_graph=True)          # recorded: gx can be differentiated again
    hv, = mg.gradients((gx * v).sum(), [x])                   # a Hessian-vector product

``Tensor.backward`` (``tensor.run_backward``) is the first-order pass tuned for training: it accumulates into the
leaves' ``.grad`` and keeps cotangents on the nodes. This pass leaves every ``.grad`` alone, keeps its cotangents
in a dict of its own (so passes can nest: a reference forward differentiated in the middle of another pass), visits
only the nodes that lie between the inputs and the outputs, and returns the gradients.

With ``create_graph=False`` each node runs its numpy ``backward``. With ``create_graph=True`` the cotangents are
Tensors and each node runs the rule written with minigrad ops, so the pass records the gradient's own graph:

* the op's ``reference`` (given to one application by ``Function.apply_with_reference``, or by the class's
  ``reference_forward``): the engine re-runs the reference forward on the node's inputs and differentiates it;
* else the op's ``graph_backward``;
* else (a user op with a numpy-only backward) its ``backward`` on arrays, wrapped in a node that raises
  ``RuntimeError`` naming the op if a later pass tries to differentiate through it.
"""
import numpy as np

from . import tensor as _t
from .function import Function
from .tensor import Tensor, _as_array, as_gradient_tuple, check_gradient_shape, enable_grad, unbroadcast


def gradients(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """d outputs / d inputs: the vector-Jacobian product of ``outputs`` with ``grad_outputs``, for each input.

    outputs: a Tensor or a list of Tensors (each must require grad).
    inputs: a Tensor or a list of Tensors that require grad (leaves or intermediate results).
    grad_outputs: the cotangents, one per output, each of its output's shape (an ndarray, a number or a Tensor;
        a Tensor that requires grad is differentiated through under ``create_graph``). None (or a None entry)
        seeds a single-element output with 1; a larger output needs an explicit cotangent.
    create_graph: record the pass, so the returned gradients require grad and can be differentiated again.
    allow_unused: an input the outputs do not depend on gets None; otherwise it raises RuntimeError.
    Returns a tuple with one gradient per input: a Tensor of the input's shape and dtype (constant unless
    create_graph). Leaves' ``.grad`` is neither read nor written.
    """
    outputs = _tensor_list(outputs, "outputs")
    inputs = _tensor_list(inputs, "inputs")
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"gradients: inputs[{k}] (shape {t.shape}) does not require grad, so there is no "
                               "gradient with respect to it; create it with requires_grad=True")
    for k, o in enumerate(outputs):
        if not o.requires_grad:
            raise RuntimeError(f"gradients: outputs[{k}] (shape {o.shape}) does not require grad: it does not "
                               "depend on any Tensor that requires grad (or was computed under no_grad())")
    seeds = _seeds(outputs, grad_outputs, create_graph)
    if create_graph:
        with enable_grad():
            grads, used = reverse(outputs, seeds, inputs, True)
    else:
        grads, used = reverse(outputs, seeds, inputs, False)
    first = {}
    for k, t in enumerate(inputs):  # an input listed twice gets its gradient twice
        j = first.setdefault(id(t), k)
        grads[k], used[k] = grads[j], used[j]
    result = []
    for k, (t, g) in enumerate(zip(inputs, grads)):
        if not used[k]:
            if not allow_unused:
                raise RuntimeError(f"gradients: inputs[{k}] (shape {t.shape}) is not used to compute the outputs; "
                                   "pass allow_unused=True to get None for it")
            result.append(None)
            continue
        if g is None:  # reached, but every path to it carried no gradient
            g = np.zeros(t.shape, t.dtype)
        result.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(result)


def _tensor_list(x, what):
    items = [x] if isinstance(x, Tensor) else x
    if not isinstance(items, (list, tuple)) or not items:
        raise TypeError(f"gradients: {what} must be a Tensor or a non-empty list of Tensors, got "
                        f"{type(x).__name__}{' (empty)' if isinstance(x, (list, tuple)) else ''}")
    for k, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"gradients: {what}[{k}] must be a minigrad.Tensor, got {type(t).__name__}")
    return list(items)


def _seeds(outputs, grad_outputs, create_graph):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray, int, float, np.number)):
        grad_outputs = [grad_outputs]
    elif not isinstance(grad_outputs, (list, tuple)):
        raise TypeError(f"gradients: grad_outputs must be None, an array or a list with one entry per output, got "
                        f"{type(grad_outputs).__name__}")
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"gradients: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    seeds = []
    for k, (o, s) in enumerate(zip(outputs, grad_outputs)):
        if s is None:
            if o.size != 1:
                raise RuntimeError(f"gradients: outputs[{k}] has shape {o.shape}, not a single element: pass its "
                                   f"cotangent in grad_outputs (e.g. np.ones({o.shape}))")
            s = np.ones(o.shape, o.dtype)
        if isinstance(s, Tensor):
            arr = _as_array(s.data, what=f"gradients: grad_outputs[{k}]")
        else:
            s = arr = _as_array(s, what=f"gradients: grad_outputs[{k}]")
        if arr.shape != o.shape:
            raise ValueError(f"gradients: grad_outputs[{k}] has shape {arr.shape} but outputs[{k}] has shape "
                             f"{o.shape}")
        if create_graph:
            s = s if isinstance(s, Tensor) else Tensor(arr)
            if s.dtype != o.dtype:
                s = _ops().cast(s, o.dtype)
        else:
            s = arr.astype(o.dtype, copy=False)
        seeds.append(s)
    return seeds


def _ops():
    from . import ops  # ops imports this package's function module; imported late to avoid a cycle
    return ops


def _collect(roots, stop):
    """The nodes ``roots`` depend on in tape order, not descending past the Tensors whose ids are in ``stop``."""
    seen = {r for r in roots if r is not None}
    stack = list(seen)
    while stack:
        for t in stack.pop().inputs:
            if t is not None and id(t) not in stop:
                child = t._node
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append(child)
    return sorted(seen, key=_t._by_position)


def reverse(outputs, seeds, targets, create_graph, stop_at_targets=False):
    """The reverse pass from ``outputs`` (cotangents ``seeds``) to ``targets``.

    Returns (gradients, used): one gradient per target (an array, a Tensor under create_graph, or None when no
    cotangent reached it) and whether the target lies on the graph of the outputs at all. With
    ``stop_at_targets`` the walk does not go through a target to what produced it: each target's gradient is then
    the partial derivative with the targets held independent (the VJP of one op, for its reference forward).
    """
    position = {}
    for k, t in enumerate(targets):
        position.setdefault(id(t), k)
    stop = position if stop_at_targets else {}
    order = _collect([o._node for o in outputs], stop)
    used = [False] * len(targets)
    # forward sweep: a node matters if one of its inputs is a target or comes from a node that matters
    relevant = set()
    for node in order:
        hit = False
        for t in node.inputs:
            if t is None or not t.requires_grad:
                continue
            k = position.get(id(t))
            if k is not None:
                used[k] = hit = True
            elif t._node in relevant:
                hit = True
        if hit:
            relevant.add(node)
    grads = [None] * len(targets)
    cot = {}

    def deliver(t, g):
        k = position.get(id(t))
        if k is not None:
            used[k] = True
            prev = grads[k]
            grads[k] = g if prev is None else prev + g
            if stop_at_targets:
                return
        node = t._node
        if node is not None and node in relevant:
            if node.n_out == 1:
                prev = cot.get(node)
                cot[node] = g if prev is None else prev + g
            else:
                slots = cot.get(node)
                if slots is None:
                    cot[node] = slots = [None] * node.n_out
                prev = slots[t._index]
                slots[t._index] = g if prev is None else prev + g

    for o, s in zip(outputs, seeds):
        deliver(o, s)
    hook = _t._hook
    for node in reversed(order):
        if node not in relevant:
            continue
        gs = cot.pop(node, None)
        if gs is None:
            continue
        gs = [gs] if node.n_out == 1 else _materialize(node, gs, create_graph)
        in_grads = _graph_vjp(node, gs) if create_graph else node.fn.backward(node, *gs)
        in_grads = as_gradient_tuple(node, in_grads)
        if hook is not None:
            hook.on_backward(node, in_grads)
        for position_in_op, (t, g) in enumerate(zip(node.inputs, in_grads)):
            if g is None or t is None or not t.requires_grad:
                continue
            deliver(t, _fit(node, position_in_op, t, g, create_graph))
    return grads, used


def _materialize(node, gs, create_graph):
    if not getattr(node.fn, "materialize_grads", True):
        return gs
    zeros = [None if g is not None else np.zeros(s, d) for g, (s, d) in zip(gs, node.output_meta)]
    return [g if g is not None else (Tensor(z) if create_graph else z) for g, z in zip(gs, zeros)]


def _fit(node, position, t, g, create_graph):
    """The gradient ``g`` of input ``t`` brought to ``t``'s shape (summing broadcast axes) and dtype."""
    if create_graph:
        if not isinstance(g, Tensor):
            g = Tensor(_as_array(g, what=f"{node.name}: the gradient of input {position}"))
        data = g.data
    else:
        g = data = np.asarray(g)
    if data.shape != t.shape:
        check_gradient_shape(node, position, data.shape, t.shape)
        g = _ops().sum_to(g, t.shape) if create_graph else unbroadcast(g, t.shape)
    if data.dtype != t.dtype:
        if data.dtype.kind not in "fbiu":
            raise RuntimeError(f"{node.name}.backward returned a gradient of dtype {data.dtype} for input "
                               f"{position} of dtype {t.dtype}: gradients must be real numbers")
        g = _ops().cast(g, t.dtype) if create_graph else g.astype(t.dtype)
    return g


# ============================================================ the three graph rules

def _graph_vjp(node, gs):
    """A node's VJP as recorded minigrad ops: its reference forward, its graph_backward, or a guarded numpy rule."""
    if getattr(node, "reference", None) is not None:
        return _reference_vjp(node, gs)
    rule = node.fn.graph_backward
    if rule is not None:
        return rule(node, *gs)
    return _numpy_vjp(node, gs)


def _reference_vjp(node, gs):
    """Recompute-and-differentiate: re-run the op's reference forward on its inputs, differentiate that."""
    outs = node.reference(*node.reference_args)
    outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
    if len(outs) != node.n_out or not all(isinstance(o, Tensor) for o in outs):
        raise RuntimeError(f"{node.name}: its reference forward returned {len(outs)} value(s) "
                           f"({', '.join(type(o).__name__ for o in outs)}) where the op has {node.n_out} Tensor "
                           "output(s)")
    pairs = [(o, g) for o, g in zip(outs, gs) if g is not None and o.requires_grad]
    wanted = [k for k, t in enumerate(node.inputs) if t is not None and t.requires_grad and node.needs_input_grad[k]]
    in_grads = [None] * len(node.inputs)
    if not pairs or not wanted:
        return tuple(in_grads)
    targets = [node.inputs[k] for k in wanted]
    grads, _ = reverse([o for o, _ in pairs], [g for _, g in pairs], targets, True, stop_at_targets=True)
    given = set()
    for k, t, g in zip(wanted, targets, grads):
        if id(t) not in given:  # an input passed twice gets its whole gradient once
            given.add(id(t))
            in_grads[k] = g
    return tuple(in_grads)


def _numpy_vjp(node, gs):
    """A user op with a numpy-only backward: its gradients, as Tensors whose own backward refuses to run."""
    arrays = [g.data if isinstance(g, Tensor) else g for g in gs]
    in_grads = as_gradient_tuple(node, node.fn.backward(node, *arrays))
    present = [k for k, g in enumerate(in_grads) if g is not None]
    if not present:
        return in_grads
    args = [t for t in node.inputs if t is not None] + [g for g in gs if isinstance(g, Tensor)]
    values = tuple(np.asarray(in_grads[k]) for k in present)
    outs = NumpyOnlyBackward.apply(*args, values=values, op=node.name)
    result = list(in_grads)
    for k, o in zip(present, outs):
        result[k] = o
    return tuple(result)


class NumpyOnlyBackward(Function):
    """The gradients a numpy-only ``backward`` computed under ``create_graph``: values on the graph whose own
    derivative is unknown, so a pass that reaches them raises instead of returning a wrong (zero) answer."""

    @staticmethod
    def forward(ctx, *tensors, values=(), op=None):
        ctx.op = op
        return values

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(
            f"{ctx.op} cannot be differentiated twice: its backward is written with numpy, so the gradient it "
            "returned has no derivative. Give the op a graph_backward (its backward written with minigrad ops) or "
            "a reference_forward (its forward written with minigrad ops); see minigrad.Function")
