"""The tape made visible: tables of recorded ops, op tagging by scope and timestep, and NaN/Inf tracking.

    y = mg.tanh(x @ w).sum()
    print(mg.tape_table(y))            # one row per recorded op: op, input shapes, output shape

    with mg.track_ops():               # tag every op with its scope and timestep (an unrolled RNN tags its steps)
        out = layer(x)
    print(mg.tape_table(out))          # ... now with columns t and scope

    with mg.detect_anomaly():          # raise AnomalyError at the first op whose forward or backward is not finite
        loss = model_loss(x)
        loss.backward()

Both context managers switch on one monitor object that ``Function.apply`` and the reverse pass call once per op;
when neither is active the monitor is None and the only cost is that None test. Tags are stored on the op's
context (``ctx._origin = (scope, timestep, where)``), so the graph structure itself is unchanged.

Imports only numpy, minigrad and the standard library; drawing lives in ``layers.tools`` (matplotlib).
"""
import contextlib
import os
import sys

import numpy as np

from . import tensor as _t
from .tensor import Tensor, toposort

__all__ = ["AnomalyError", "detect_anomaly", "track_ops", "scope", "tag_timesteps", "current_timestep",
           "tape", "tape_table", "print_tape", "tape_graph", "TapeEntry"]

_MINIGRAD_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError):
    """An op produced a NaN or Inf under ``detect_anomaly()``.

    Attributes: op (the op's class name), phase ('forward' or 'backward'), timestep (int or None: the tag of an
    unrolled recurrent step), scope (str or None: e.g. the layer's name), where ('file:line in function' of the
    first caller outside minigrad, or None), index (tuple: first non-finite element), argument (which output
    (forward) or input gradient (backward) held it).
    """

    def __init__(self, message, op, phase, timestep=None, scope=None, where=None, index=None, argument=None):
        super().__init__(message)
        self.op, self.phase, self.timestep, self.scope, self.where = op, phase, timestep, scope, where
        self.index, self.argument = index, argument


class _Monitor:
    """The state behind track_ops/detect_anomaly; installed as ``minigrad.tensor._hook`` while either is on."""

    def __init__(self):
        self.tracking = 0      # nesting depth of track_ops/detect_anomaly blocks
        self.anomaly = 0       # nesting depth of detect_anomaly blocks
        self.scopes = []       # the scope names pushed by scope()/tag_timesteps(), innermost last
        self.timestep = None

    # ---- tagging
    def origin(self):
        return ("/".join(self.scopes) or None, self.timestep, _caller())

    def on_forward(self, fn, ctx, args, outs, options=None):
        tag = self.origin()
        ctx._origin = tag
        if self.anomaly:
            for k, o in enumerate(outs):
                d = o.data
                if d.dtype.kind in "fc" and not np.isfinite(d).all():
                    raise _forward_error(fn, args, k, d, tag)

    def on_backward(self, node, in_grads):
        if not self.anomaly:
            return
        for k, g in enumerate(in_grads):
            if g is None:
                continue
            g = np.asarray(g)
            if g.dtype.kind in "fc" and not np.isfinite(g).all():
                raise _backward_error(node, k, g)


_monitor = _Monitor()


def _caller():
    """'file:line in function' of the innermost frame outside minigrad: the line of user or layer code that ran
    the op."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_MINIGRAD_DIR):
        f = f.f_back
    if f is None:
        return None
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno} in {f.f_code.co_name}"


def _sync():
    _t._hook = _monitor if _monitor.tracking else None


@contextlib.contextmanager
def track_ops():
    """Context manager: every op run inside records its scope (see ``scope``), timestep (see ``tag_timesteps``; an
    unrolled recurrent layer tags its steps) and the source line that ran it, for ``tape_table`` and
    ``layers.tools.draw_graph``."""
    saved = (list(_monitor.scopes), _monitor.timestep)
    _monitor.tracking += 1
    _sync()
    try:
        yield
    finally:
        _monitor.tracking -= 1
        _monitor.scopes[:], _monitor.timestep = saved
        _sync()


@contextlib.contextmanager
def detect_anomaly():
    """Context manager: raise ``AnomalyError`` at the first op that produces a NaN or Inf, in the forward pass (its
    output) or in the backward pass (the gradient it passes to an input). The error names the op, its timestep
    and scope (when tagged: an unrolled recurrent layer tags its steps), the source line that ran it, and the
    first bad element. Run both the forward and the backward inside the block: the backward check names the
    timestep recorded at forward time. Costs a finiteness test per op while on, nothing when off."""
    saved = (list(_monitor.scopes), _monitor.timestep)
    _monitor.tracking += 1
    _monitor.anomaly += 1
    _sync()
    try:
        yield
    finally:
        _monitor.tracking -= 1
        _monitor.anomaly -= 1
        _monitor.scopes[:], _monitor.timestep = saved
        _sync()


@contextlib.contextmanager
def scope(name):
    """Context manager: ops run inside are tagged with ``name`` (nested scopes join with '/') while
    ``track_ops``/``detect_anomaly`` is on; free otherwise."""
    if _t._hook is None:
        yield
        return
    _monitor.scopes.append(str(name))
    try:
        yield
    finally:
        _monitor.scopes.pop()


def tag_timesteps(steps, scope=None):
    """Iterate over ``steps`` (timestep indices), tagging the ops of each iteration with that timestep (and
    ``scope``) while ``track_ops``/``detect_anomaly`` is on. When off, returns ``steps`` itself: a recurrent loop
    written ``for t in tag_timesteps(order, name):`` costs nothing then."""
    if _t._hook is None:
        return steps
    return _tagged_steps(steps, scope)


def _tagged_steps(steps, name):
    saved = (len(_monitor.scopes), _monitor.timestep)
    if name is not None:
        _monitor.scopes.append(str(name))
    try:
        for t in steps:
            _monitor.timestep = int(t)
            yield t
    finally:
        del _monitor.scopes[saved[0]:]
        _monitor.timestep = saved[1]


def current_timestep():
    """The timestep ops are being tagged with right now (None outside a tagged loop or when tracking is off)."""
    return _monitor.timestep if _t._hook is not None else None


# ============================================================ anomaly messages

def _origin_text(tag):
    scope_, step, where = tag if tag is not None else (None, None, None)
    parts = []
    if step is not None:
        parts.append(f"timestep {step}")
    if scope_:
        parts.append(f"scope {scope_!r}")
    if where:
        parts.append(f"at {where}")
    return f" ({', '.join(parts)})" if parts else ""


def _first_bad(arr):
    bad = ~np.isfinite(arr)
    idx = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
    desc = f"{int(np.isnan(arr).sum())} NaN, {int(np.isinf(arr).sum())} Inf of {arr.size}"
    if arr.ndim >= 3:  # a (batch, timesteps, ...) sequence, as a fused recurrent op makes: the first bad step
        desc += f"; first bad entry along axis 1 (the timestep of a sequence): {int(np.argwhere(bad)[:, 1].min())}"
    return idx, desc


def _describe_value(a):
    if isinstance(a, Tensor):
        a = a.data
    if isinstance(a, np.ndarray) and a.dtype.kind in "fiu" and a.size:
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            return f"shape {a.shape}, already non-finite"
        return f"shape {a.shape}, min {np.min(a):.4g}, max {np.max(a):.4g}"
    if isinstance(a, (int, float, np.number)):
        return f"scalar {a!r}"
    return type(a).__name__


def _forward_error(fn, args, k, data, tag):
    idx, desc = _first_bad(data)
    ins = "; ".join(f"input {i}: {_describe_value(a)}" for i, a in enumerate(args))
    name = fn.__name__
    msg = (f"detect_anomaly: {name}{_origin_text(tag)} produced a non-finite value in the forward pass: output {k} "
           f"of shape {data.shape} has {desc}; first at index {idx}. Its inputs: {ins}")
    scope_, step, where = tag
    return AnomalyError(msg, name, "forward", step, scope_, where, idx, k)


def _backward_error(node, k, g):
    idx, desc = _first_bad(g)
    tag = getattr(node.ctx, "_origin", None)
    scope_, step, where = tag if tag is not None else (None, None, None)
    hint = "" if tag is not None else " (run the forward pass inside detect_anomaly() too, to learn its timestep)"
    msg = (f"detect_anomaly: the backward of {node.name}{_origin_text(tag)} produced a non-finite gradient for its "
           f"input {k}: shape {g.shape}, {desc}; first at index {idx}. The cotangents it received were finite.{hint}")
    return AnomalyError(msg, node.name, "backward", step, scope_, where, idx, k)


# ============================================================ the tape as data

class TapeEntry:
    """One recorded op, in the order the ops ran.

    index: its position on the tape; op: the op's name; node: the ``Node``; inputs: one (kind, ref, shape) per
    positional argument, kind 'op' (ref = (entry index, output number)), 'leaf' (ref = the Tensor's name or None;
    a Tensor with requires_grad=True), 'const' (a Tensor without grad) or 'arg' (an ndarray or number, shape None);
    outputs: one (shape, dtype) per output (None for an unused output of unknown shape); timestep, scope, where:
    the tags of ``track_ops`` (None when not tracked).
    """
    __slots__ = ("index", "op", "node", "inputs", "outputs", "timestep", "scope", "where")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def __repr__(self):
        return f"TapeEntry(#{self.index} {self.op}, inputs={[i[2] for i in self.inputs]}, outputs={self.outputs})"


def _roots(tensors):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a minigrad Tensor (or a list of them), got {type(t).__name__}")
    return tensors


def tape(tensors):
    """The recorded ops that ``tensors`` (a Tensor or a list) depend on, in the order they ran, as ``TapeEntry``s.

    A Tensor computed under no_grad, or from inputs that need no gradient, has an empty tape.
    """
    roots = _roots(tensors)
    order = toposort([t._node for t in roots if t._node is not None])
    position = {id(n): i for i, n in enumerate(order)}
    shapes = {}  # (node id, output number) -> (shape, dtype), learnt from the Tensors that consumers hold
    for t in roots:
        if t._node is not None:
            shapes[(id(t._node), t._index)] = (t.shape, t.dtype)
    for node in order:
        for t in node.inputs:
            if t is not None and t._node is not None:
                shapes[(id(t._node), t._index)] = (t.shape, t.dtype)
    entries = []
    for i, node in enumerate(order):
        ins = []
        for t in node.inputs:
            if t is None:
                ins.append(("arg", None, None))
            elif t._node is not None:
                ins.append(("op", (position[id(t._node)], t._index), t.shape))
            elif t.requires_grad:
                ins.append(("leaf", t.name, t.shape))
            else:
                ins.append(("const", t.name, t.shape))
        meta = getattr(node.ctx, "output_meta", None)
        outs = [shapes.get((id(node), k)) or (meta[k] if meta is not None else None) for k in range(node.n_out)]
        scope_, step, where = getattr(node.ctx, "_origin", None) or (None, None, None)
        entries.append(TapeEntry(index=i, op=node.name, node=node, inputs=ins, outputs=outs, timestep=step,
                                 scope=scope_, where=where))
    return entries


def _shape_text(shape):
    return "?" if shape is None else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _input_text(kind, ref, shape):
    if kind == "op":
        i, k = ref
        return f"#{i}{'' if k == 0 else f'[{k}]'} {_shape_text(shape)}"
    if kind == "leaf":
        return f"{ref if ref else 'leaf'} {_shape_text(shape)}"
    if kind == "const":
        return f"const {_shape_text(shape)}"
    return "const"


def tape_table(tensors, max_rows=None, max_inputs=4, width=64):
    """The tape of ``tensors`` (a Tensor or a list) as a text table, one row per recorded op in the order they ran:

        #  op       inputs                     output
        0  MatMul   x (4, 3), w (3, 2)         (4, 2)
        1  Tanh     #0 (4, 2)                  (4, 2)
        2  Sum      #1 (4, 2)                  ()

    An input is '#i' (the output of row i; '#i[k]' for its k-th output), a leaf's name (or 'leaf'), or 'const'
    (a Tensor or array that needs no gradient); shapes follow. Columns 't' (timestep) and 'scope' appear when the
    ops were recorded under ``track_ops()``. max_rows: show only the first and last rows of a long tape (an
    unrolled sequence records thousands); max_inputs: inputs listed per row (the rest are counted); width: the
    inputs column is cut to this many characters.
    """
    entries = tape(tensors)
    tagged = any(e.timestep is not None or e.scope is not None for e in entries)
    rows = []
    for e in entries:
        ins = [_input_text(*i) for i in e.inputs]
        if len(ins) > max_inputs:
            ins = ins[:max_inputs - 1] + [f"... (+{len(ins) - max_inputs + 1})"]
        ins = ", ".join(ins)
        if len(ins) > width:
            ins = ins[:width - 3] + "..."
        outs = ", ".join(_shape_text(o[0] if o else None) for o in e.outputs)
        row = [str(e.index), e.op, ins, outs]
        if tagged:
            row += ["" if e.timestep is None else str(e.timestep), e.scope or ""]
        rows.append(row)
    header = ["#", "op", "inputs", "output"] + (["t", "scope"] if tagged else [])
    skipped = 0
    if max_rows is not None and len(rows) > max_rows:
        head = (max_rows + 1) // 2
        tail = max_rows - head
        skipped = len(rows) - max_rows
        rows = rows[:head] + [None] + (rows[-tail:] if tail else [])
    widths = [max([len(header[c])] + [len(r[c]) for r in rows if r is not None]) for c in range(len(header))]

    def fmt(r):
        cells = [r[0].rjust(widths[0])] + [r[c].ljust(widths[c]) for c in range(1, len(r))]
        return "  ".join(cells).rstrip()

    lines = [fmt(header)]
    for r in rows:
        lines.append(f"{'...'.rjust(widths[0])}  ({skipped} more ops)" if r is None else fmt(r))
    n_leaves = len({id(t) for e in entries for t in e.node.inputs
                    if t is not None and t._node is None and t.requires_grad})
    lines.append(f"{len(entries)} ops, {n_leaves} leaves that require grad")
    return "\n".join(lines)


def print_tape(tensors, file=None, **kwargs):
    """Print ``tape_table(tensors, **kwargs)`` (to ``file``, default stdout)."""
    print(tape_table(tensors, **kwargs), file=file if file is not None else sys.stdout)


def tape_graph(tensors):
    """The recorded graph of ``tensors`` as plain data, for drawing (``layers.tools.draw_graph``).

    Returns {'nodes': [...], 'edges': [(src, dst), ...]}. Each node is a dict with 'id' (its position in 'nodes'),
    'kind' ('op', 'leaf' or 'const'), 'label' (op name, or the leaf's name), 'shape' (the op's first output's shape),
    'timestep', 'scope' and, for ops, 'tape_index'. Leaves and const Tensors come first, then ops in tape order;
    an edge goes from an input to the op that consumed it.
    """
    entries = tape(tensors)
    nodes, edges, leaf_ids = [], [], {}
    for e in entries:
        for t in e.node.inputs:
            if t is not None and t._node is None and id(t) not in leaf_ids:
                leaf_ids[id(t)] = len(nodes)
                nodes.append({"id": len(nodes), "kind": "leaf" if t.requires_grad else "const",
                              "label": t.name or ("leaf" if t.requires_grad else "const"), "shape": t.shape,
                              "timestep": None, "scope": None})
    op_ids = {}
    for e in entries:  # tape order: every op's inputs already have ids
        op_ids[e.index] = len(nodes)
        first = e.outputs[0] if e.outputs else None
        nodes.append({"id": len(nodes), "kind": "op", "label": e.op, "shape": first[0] if first else None,
                      "timestep": e.timestep, "scope": e.scope, "tape_index": e.index})
        for (kind, ref, _), t in zip(e.inputs, e.node.inputs):
            if kind == "op":
                edges.append((op_ids[ref[0]], op_ids[e.index]))
            elif t is not None:
                edges.append((leaf_ids[id(t)], op_ids[e.index]))
    return {"nodes": nodes, "edges": edges}
