"""``scan``: a loop of identical steps, traced once and replayed over time as ONE tape entry.

    carry, ys = mg.scan(step, init, xs)        # step(carry, x) -> (new_carry, y), once per timestep

computes what this loop computes, and differentiates like it (as JAX's ``lax.scan`` and Theano's ``scan``)::

    carry = init
    for t in range(T):                         # reverse=True: t = T-1, ..., 0
        carry, y = step(carry, [x[t] for x in xs])
        ys[t] = y                              # ys: each y stacked along a new first axis, (T, ...)

Recorded op by op, one step of a small LSTM is about 14 tape entries, each a few microseconds of Python in forward
and again in reverse: at small sizes that bookkeeping, not the arithmetic, is the time. A scan does it once:

1. **Trace.** The step runs for the first two timesteps with a monitor on the op hook (``tensor._hook``) that
   records each op application: the op, its options, and where each argument comes from (the step's slice of
   xs, the carry, a Tensor the step reaches through its closure such as a weight, a constant, or an earlier op of
   the same step). The two traces must agree op for op, option for option and constant for constant; otherwise
   the step is not one fixed program and the loop runs op by op (see "Which steps can be scanned").
2. **Plan.** Each op of the step is placed once:

   * *once*: ops on loop-invariant values only (``R[:, :u]``): computed once per sequence;
   * *over time*: elementwise ops and products with a weight that read only the step's input and loop-invariant
     values (``x_t @ W``, ``+ b``): run once on all timesteps, (T, ...) arrays: one large product, not T small;
   * *per step*: everything the carry reaches, replayed in a generated loop that calls each op's numpy
     ``forward`` with a light context: no Tensor and no tape entry per op.

   In reverse, each per-step op's numpy ``backward`` runs step by step, in reverse, with the plan fixed: which
   cotangents meet where, which inputs need a gradient, where a gradient must be reduced to its input's shape.
   The gradient of a weight in a per-step product or sum (``h_t @ R``, ``+ b``) is moved out of the loop: the
   per-step cotangents are kept as they pass, and after the loop it is one large product (``H^T G``) or sum.
3. **Replay.** The whole loop is one tape entry, ``Scan``, whose inputs are xs, the initial carry and the
   loop-invariant Tensors the trace found. Under ``mg.gradients(..., create_graph=True)`` it is differentiated
   through its op-by-op form (its reference forward), so a scan can be differentiated to any order.

Which steps can be scanned: any step written with minigrad ops whose sequence of ops, options and constants is
the same at every timestep, that reads loop-invariant values through Tensors or arrays made before the loop (not
written in place during it), and that keeps the carry's shapes and dtypes. Caught by the comparison of the two
traced steps, which then run op by op: a Tensor or array made afresh inside the step and passed to an op (an
array computed from the step's values, ``mg.where(h.data > 0, a, b)``; a random draw; ``mg.Tensor(np.ones(..))``
built at every call), and ops that change from one step to the next. Not caught when the first two steps happen
to agree: Python numbers read out of the step's values (``float(h.data.max())``) and Python control flow on them;
run such a step op by op (``unroll=True``). Ops whose results the step does not return are not replayed, and the
step itself runs only twice (side effects of the step's Python code, such as counting calls, happen twice).

``mg.scan_plan(step, init, xs)`` returns the plan (``print(plan)`` lists every op and where it runs;
``plan.source`` the generated loops) or raises ``NotScannable`` with the reason.
"""
import copy

import numpy as np

from . import ops as _ops
from . import tensor as _t
from .buffers import BufferPool
from .function import Context, Function
from .tensor import Tensor, check_gradient_shape, unbroadcast

__all__ = ["NotScannable", "Scan", "ScanPlan", "scan", "scan_plan"]

ONCE, OVER_TIME, PER_STEP = 0, 1, 2          # where an op runs (the levels of the plan)
_LEVEL_NAMES = {ONCE: "once", OVER_TIME: "over time", PER_STEP: "per step"}

# Ops that act element by element (numpy broadcasting): run on time-stacked operands, they give the stack of
# their per-step results, and their backward, the sum over time of the loop-invariant operands' gradients.
_ELEMENTWISE = frozenset([
    _ops.Add, _ops.Sub, _ops.Mul, _ops.Div, _ops.Pow, _ops.Maximum, _ops.Minimum, _ops.Where, _ops.Neg, _ops.Exp,
    _ops.Log, _ops.Sqrt, _ops.Abs, _ops.Tanh, _ops.Sigmoid, _ops.Softplus, _ops.HardSigmoid, _ops.Relu, _ops.Clip,
    _ops.Identity, _ops.Cast])
# Ops that save no arrays and keep on their context only what their input's shape and their options give: with
# constant options, one context serves every step.
_SHARED_CONTEXT = frozenset([_ops.Add, _ops.Sub, _ops.Neg, _ops.Identity, _ops.Cast, _ops.Split, _ops.Concatenate,
                             _ops.Stack, _ops.Reshape, _ops.Transpose, _ops.Sum, _ops.Mean])


class NotScannable(ValueError):
    """The step is not the same program at every timestep (or the loop is too short to tell): the reason."""


# ============================================================================================ the trace

class _Recorder:
    """The op monitor installed while one step is traced: every op application, with its arguments and options."""

    def __init__(self):
        self.calls = []

    def on_forward(self, fn, ctx, args, outs, options=None):
        self.calls.append((fn, args, options or {}, outs))

    def on_backward(self, node, in_grads):
        pass


class _Trace:
    """One traced step. Every Tensor or array the step's ops read or make is a *value*, numbered in order of first
    appearance: ``('x', i)`` the step's slice of xs[i], ``('c', i)`` carry i, ``('i', i)`` a loop-invariant Tensor
    that requires grad (``invariants[i]``), ``('k', obj)`` a constant, ``('o', j, k)`` output k of op j.
    ``ops[j] = (fn, args, options, outs)``: args ``((value, differentiable), ...)``, options ``((name, value),
    ...)``, outs ``(value, ...)``."""

    def __init__(self):
        self.values, self.shapes, self.dtypes = [], [], []
        self.invariants, self.ops = [], []
        self._tensors, self._arrays, self._invariant_index = {}, {}, {}
        self.carry_out = self.ys = None

    def _new(self, kind, shape=None, dtype=None):
        self.values.append(kind)
        self.shapes.append(shape)
        self.dtypes.append(dtype)
        return len(self.values) - 1

    def add_tensor(self, kind, t):
        v = self._new(kind, t.shape, t.dtype)
        self._tensors[id(t)] = v
        self._arrays[id(t.data)] = v
        return v

    def _constant(self, obj):
        shape = np.shape(obj) if isinstance(obj, (np.ndarray, np.generic, int, float, bool)) else None
        return self._new(("k", obj), shape)

    def tensor_arg(self, t):
        """(value, differentiable) of a Tensor argument."""
        v = self._tensors.get(id(t))
        if v is not None:
            return v, True
        if t.requires_grad:  # a loop-invariant Tensor the step reaches through its closure (a weight)
            v = self._invariant_index.get(id(t))
            if v is None:
                self.invariants.append(t)
                v = self._invariant_index[id(t)] = self._new(("i", len(self.invariants) - 1), t.shape, t.dtype)
            return v, True
        return self._constant(t.data), False  # a Tensor without gradient is a constant array

    def array_arg(self, a):
        """The value of an ndarray argument or option: a value of the step when it is one's data, else a constant."""
        if isinstance(a, np.ndarray):
            v = self._arrays.get(id(a))
            if v is not None:
                return v
        return self._constant(a)

    def output(self, t):
        """The value a step returns (a Tensor)."""
        if id(t) in self._tensors:
            return self._tensors[id(t)]
        return self.tensor_arg(t)[0]

    def structure_only(self):
        """A copy without the constants and Tensors (each constant replaced by its type)."""
        tr = _Trace()
        tr.values = [(k[0], type(k[1])) if k[0] == "k" else k for k in self.values]
        tr.shapes, tr.dtypes, tr.ops, tr.carry_out, tr.ys = self.shapes, self.dtypes, self.ops, self.carry_out, self.ys
        return tr


def _trace_step(step, carry, x):
    """Run one step with the recorder on the op hook; returns (trace, new carry Tensors, y Tensors, y form)."""
    recorder = _Recorder()
    previous, _t._hook = _t._hook, recorder
    try:
        result = step(list(carry), list(x))
    finally:
        _t._hook = previous
    new_carry, y, y_form = _step_result(result, len(carry))
    tr = _Trace()
    for i, t in enumerate(x):
        tr.add_tensor(("x", i), t)
    for i, t in enumerate(carry):
        tr.add_tensor(("c", i), t)
    for fn, args, options, outs in recorder.calls:
        j = len(tr.ops)
        arg_values = tuple(tr.tensor_arg(a) if isinstance(a, Tensor) else (tr.array_arg(a), False) for a in args)
        option_values = tuple((name, tr.array_arg(value)) for name, value in options.items())
        out_values = tuple(tr.add_tensor(("o", j, k), o) for k, o in enumerate(outs))
        tr.ops.append((fn, arg_values, option_values, out_values))
    tr.carry_out = tuple(tr.output(t) for t in new_carry)
    tr.ys = tuple(tr.output(t) for t in y)
    return tr, new_carry, y, y_form


def _step_result(result, n_carry):
    """(new_carry list, y list, y's form: 'tensor' | 'list' | 'none') from what a step returned, checked."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"scan: step(carry, x) must return (new_carry, y), got {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    new_carry, y = result
    new_carry = [new_carry] if isinstance(new_carry, Tensor) else new_carry
    if not isinstance(new_carry, (list, tuple)) or len(new_carry) != n_carry:
        raise ValueError(f"scan: the step must return a carry of {n_carry} Tensor(s), like init, got "
                         f"{len(new_carry) if isinstance(new_carry, (list, tuple)) else type(new_carry).__name__}")
    form = "tensor" if isinstance(y, Tensor) else "none" if y is None else "list"
    y = [] if y is None else [y] if isinstance(y, Tensor) else y
    if not isinstance(y, (list, tuple)):
        raise TypeError(f"scan: the step's y must be a Tensor, a list of Tensors or None, got {type(y).__name__}")
    for what, items in (("carry", new_carry), ("y", y)):
        for k, item in enumerate(items):
            if not isinstance(item, Tensor):
                raise TypeError(f"scan: the step returned a {type(item).__name__} as {what}[{k}]; a step returns "
                                "minigrad Tensors")
    return list(new_carry), list(y), form


def _root(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _same_array(a, b):
    """The same memory seen the same way: the same array, or two equal views of one buffer (``masks[g]`` made
    afresh at every step reads the same numbers)."""
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and a.strides == b.strides
                      and a.ctypes.data == b.ctypes.data and _root(a) is _root(b))


def _same_constant(a, b):
    """Constants of two traced steps: arrays compared by identity (their numbers could have come from the step's
    data), other objects by type and value."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and _same_array(a, b)
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_constant(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_constant(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _difference(a, b):
    """Why two traced steps are not the same program, or None when they are."""
    if len(a.ops) != len(b.ops):
        return f"the two traced steps ran {len(a.ops)} and {len(b.ops)} ops"
    for j, (p, q) in enumerate(zip(a.ops, b.ops)):
        if p[0] is not q[0] or p[1] != q[1] or p[2] != q[2] or p[3] != q[3]:
            return f"op {j} differs between the traced steps ({p[0].__name__} vs {q[0].__name__})"
    if len(a.values) != len(b.values):
        return "the traced steps read different values"
    for v, (p, q) in enumerate(zip(a.values, b.values)):
        if p[0] != q[0] or a.shapes[v] != b.shapes[v] or a.dtypes[v] != b.dtypes[v]:
            return f"value {v} differs between the traced steps ({p[0]} vs {q[0]})"
        if p[0] == "k" and not _same_constant(p[1], q[1]):
            return (f"a constant made at every step ({type(p[1]).__name__} read by op "
                    f"{_reader(a, v)}): an array or Tensor computed inside the step, or a number that changes")
        if p[0] == "i" and a.invariants[p[1]] is not b.invariants[q[1]]:
            return f"op {_reader(a, v)} reads a different Tensor at each step"
        if p[0] in "xco" and p[1:] != q[1:]:
            return f"value {v} comes from different places in the traced steps"
    if a.carry_out != b.carry_out or a.ys != b.ys:
        return "the step returns different values at the two traced steps"
    return None


def _reader(tr, v):
    for j, (fn, args, options, _) in enumerate(tr.ops):
        if any(w == v for w, _ in args) or any(w == v for _, w in options):
            return f"{j} ({fn.__name__})"
    return "(returned)"


# ============================================================================================ the plan

def _trusted(fn):
    """minigrad's own ops: deterministic, with the gradient shapes documented in ops.py."""
    return fn.__module__ == _ops.__name__


class _PlannedOp:
    """One op of the plan: the traced op (``j``, ``fn``, ``args``, ``options``, ``outs``) and the plan's decisions
    about it (``ScanPlan``)."""
    __slots__ = ("args", "backward", "context", "deferred", "flat", "fn", "j", "level", "multi", "options", "outs",
                 "per_step_needs")

    def __init__(self, j, fn, args, options, outs):
        self.j, self.fn, self.args, self.options, self.outs = j, fn, args, options, outs


class ScanPlan:
    """Where each op of a traced step runs and how its gradient flows (module docstring, "Plan").

    ``ops``: the live ops (those the step's results depend on) in the order the step ran them, each with
    ``level`` (``ONCE``, ``OVER_TIME`` or ``PER_STEP``) and ``deferred`` (argument positions whose gradient is
    one product after the loop).
    ``str(plan)`` lists them; ``plan.source`` is the generated forward and reverse loops.
    """

    def __init__(self, tr, n_x, n_carry, xs_need, init_need, reverse):
        self.tr, self.n_x, self.n_carry, self.reverse = tr, n_x, n_carry, reverse
        self.n_y, self.n_inv = len(tr.ys), len(tr.invariants)
        values, shapes, dtypes = tr.values, tr.shapes, tr.dtypes
        n = len(values)
        self.float = [d is not None and d.kind == "f" for d in dtypes]
        # ---- which values need a gradient: xs and invariants as given; the carry until nothing changes (a carry
        # that starts without gradient gets one from the weights after the first step)
        carry_need = list(init_need)
        while True:
            need = [False] * n
            for v, kind in enumerate(values):
                if kind[0] == "x":
                    need[v] = xs_need[kind[1]] and self.float[v]
                elif kind[0] == "c":
                    need[v] = carry_need[kind[1]] and self.float[v]
                elif kind[0] == "i":
                    need[v] = True
            for _fn, args, _options, outs in tr.ops:
                flows = any(need[v] for v, diff in args if diff)
                for o in outs:
                    need[o] = flows and self.float[o]
            grown = [c or need[tr.carry_out[i]] for i, c in enumerate(carry_need)]
            if grown == carry_need:
                break
            carry_need = grown
        self.need = need
        # ---- live ops: those the step's results depend on
        live = set(tr.carry_out) | set(tr.ys)
        keep = []
        for j in range(len(tr.ops) - 1, -1, -1):
            _, args, options, outs = tr.ops[j]
            if any(o in live for o in outs):
                keep.append(j)
                live.update(v for v, _ in args)
                live.update(v for _, v in options)
        keep.reverse()
        # ---- levels
        level = [None] * n
        for v, kind in enumerate(values):
            level[v] = {"x": OVER_TIME, "c": PER_STEP, "i": ONCE, "k": ONCE}.get(kind[0])
        self.level = level
        self.ops = []
        for j in keep:
            op = _PlannedOp(j, *tr.ops[j])
            operands = [v for v, _ in op.args] + [v for _, v in op.options]
            lv = max([level[v] for v in operands], default=ONCE)
            if lv == ONCE and not _trusted(op.fn):
                lv = PER_STEP          # a user's op may not give the same result twice: it runs at every step
            if lv == OVER_TIME and not self._batchable(op):
                lv = PER_STEP
            op.level = lv
            for o in op.outs:
                level[o] = lv
            op.multi = len(op.outs) > 1 or op.fn is _ops.Split
            op.flat = (lv == OVER_TIME and op.fn is _ops.MatMul and level[op.args[0][0]] == OVER_TIME
                       and level[op.args[1][0]] == ONCE and len(shapes[op.args[1][0]]) == 2)
            self.ops.append(op)
        # ---- the reverse pass: which values receive a cotangent, and how each per-step op passes it on
        cot = [False] * n
        for v in tr.carry_out + tr.ys:
            cot[v] = self.float[v]
        for op in reversed(self.ops):
            if any(cot[o] for o in op.outs):
                for v, diff in op.args:
                    if diff and need[v]:
                        cot[v] = True
        self.cot = cot
        for op in self.ops:
            grad_args = [p for p, (v, diff) in enumerate(op.args) if diff and need[v]]
            op.backward = bool(grad_args) and any(cot[o] for o in op.outs)
            op.deferred = ()
            if op.level == PER_STEP and op.backward and _trusted(op.fn) and self._batchable(op):
                op.deferred = tuple(p for p in grad_args if level[op.args[p][0]] == ONCE)
            op.per_step_needs = tuple(p in grad_args and p not in op.deferred for p in range(len(op.args)))
            op.context = _context_class(op.fn, op.per_step_needs)
        self.per_step = [op for op in self.ops if op.level == PER_STEP]
        self.hoisted = [op for op in self.ops if op.level != PER_STEP]
        # one context for every step, or one per step (kept for the reverse pass)
        self._shared = [op for op in self.per_step if op.fn in _SHARED_CONTEXT
                        and all(tr.values[v][0] == "k" for _, v in op.options)]
        self._stored = [op for op in self.per_step if op not in self._shared]
        self._keep_cotangents()
        # values the loop reads that are made before it: xs slices, over-time values (per-step views), and values
        # computed once (invariants, constants, ONCE ops)
        read = set(tr.carry_out) | set(tr.ys)
        for op in self.per_step:
            read.update(v for v, _ in op.args)
            read.update(v for _, v in op.options)
        self.loop_reads = sorted(read)
        self.xs_read = {tr.values[v][1] for v in self.loop_reads if tr.values[v][0] == "x"}
        # the loops' sources, generated once per plan (a plan serves every call whose step has its structure)
        self.sources = {"keep": self._forward_source(True), "infer": self._forward_source(False),
                        "backward": self._backward_source()}

    def _keep_cotangents(self):
        """Which per-step cotangents the reverse loop keeps for after it (``kept``: value -> the value whose
        cotangent it equals): the outputs of products and sums whose weight gradient is deferred, and the values
        made over time (their backward runs on all steps at once). A value whose only cotangent comes through a sum
        (``a + b`` passes its cotangent on unchanged) keeps its sum's: x W + h R + b keeps ONE array per step for
        dW, dR, db and dx. The loop copies each kept cotangent into a (T, ...) buffer that lives from one pass to
        the next (``K<value>``), so that the per-step arrays are freed as the loop goes (fresh memory faults)."""
        tr = self.tr
        deliveries = [0] * len(tr.values)
        for v in tr.carry_out + tr.ys:
            deliveries[v] += 1
        for op in self.per_step:
            for p, (v, _) in enumerate(op.args):
                if op.per_step_needs[p]:
                    deliveries[v] += 1
        same = list(range(len(tr.values)))  # same[v]: the value whose cotangent equals v's
        for op in reversed(self.per_step):
            if not op.backward or not _trusted(op.fn) or len(op.outs) != 1:
                continue
            o = op.outs[0]
            for p, (v, _) in enumerate(op.args):
                passes = op.fn in (_ops.Add, _ops.Identity) or (op.fn is _ops.Sub and p == 0)
                if (passes and op.per_step_needs[p] and deliveries[v] == 1 and tr.shapes[v] == tr.shapes[o]
                        and tr.dtypes[v] == tr.dtypes[o]):
                    same[v] = same[o]
        kept = {op.outs[0]: same[op.outs[0]] for op in self.per_step if op.deferred}
        kept.update({v: same[v] for v in range(len(tr.values)) if self.level[v] == OVER_TIME and tr.values[v][0] == "o"
                     and self.need[v] and deliveries[v]})
        self.kept = kept
        self.kept_roots = sorted(set(kept.values()))
        self.deliveries = deliveries

    def _batchable(self, op):
        """Does running ``op`` on time-stacked operands (T, ...) give the stack of its per-step results? Elementwise
        ops and products when every time-varying operand has the output's number of axes (numpy's broadcasting
        then lines the time axis up) and no loop-invariant operand has more."""
        if len(op.outs) != 1 or not (op.fn in _ELEMENTWISE or op.fn is _ops.MatMul):
            return False
        m = len(self.tr.shapes[op.outs[0]])
        operands = [v for v, _ in op.args] + [v for _, v in op.options]
        for v in operands:
            shape = self.tr.shapes[v]
            if self.level[v] == ONCE:
                kind = self.tr.values[v]
                if shape is None:
                    if kind[0] == "k" and not isinstance(kind[1], (str, np.dtype, type(None), type)):
                        return False   # an option numpy would broadcast in a way we cannot see
                    continue
                if len(shape) > m:
                    return False
            elif shape is None or len(shape) != m or (op.fn is _ops.MatMul and m < 2):
                return False
        return True

    # ------------------------------------------------------------ reading the plan
    def __str__(self):
        tr = self.tr
        once, over_time = (sum(op.level == level for op in self.ops) for level in (ONCE, OVER_TIME))
        lines = [(f"ScanPlan: {len(self.ops)} ops ({len(self.per_step)} per step, {over_time} over time, {once} "
                  f"once); {self.n_x} xs, {self.n_carry} carry, {self.n_y} ys, {self.n_inv} loop-invariant "
                  "Tensor(s)")]
        for op in self.ops:
            note = ""
            if op.deferred:
                note = f"   [gradient of argument(s) {', '.join(map(str, op.deferred))} after the loop]"
            args = ", ".join(self._describe(v) for v, _ in op.args)
            lines.append(f"  {op.j:3d} {op.fn.__name__:<12s} {_LEVEL_NAMES[op.level]:<9s} ({args})"
                         f" -> {tr.shapes[op.outs[0]]}{note}")
        lines.append("  carry out: " + ", ".join(self._describe(v) for v in tr.carry_out))
        lines.append("  y: " + (", ".join(self._describe(v) for v in tr.ys) or "none"))
        return "\n".join(lines)

    def _describe(self, v):
        kind = self.tr.values[v]
        if kind[0] == "o":
            return f"op {kind[1]}" + (f"[{kind[2]}]" if len(self.tr.ops[kind[1]][3]) > 1 else "")
        if kind[0] == "k":
            return "array" if isinstance(kind[1], np.ndarray) else repr(kind[1])
        return {"x": "x", "c": "carry", "i": "invariant"}[kind[0]] + f"[{kind[1]}]"

    @property
    def source(self):
        """The generated forward (keeping contexts) and reverse loops, as Python source."""
        return self.sources["keep"] + "\n" + self.sources["backward"]

    # ------------------------------------------------------------ the generated loops
    def _name(self, v):
        """The variable holding value v inside the per-step loop."""
        kind = self.tr.values[v]
        if kind[0] == "x":
            return f"x{kind[1]}"
        if kind[0] == "c":
            return f"c{kind[1]}"
        if self.level[v] == PER_STEP:
            return f"v{v}"
        if self.level[v] == OVER_TIME:
            return f"p{v}"
        return f"A{v}"

    def _forward_source(self, keep):
        tr = self.tr
        head = ["order", "CTX", "ndarray", "ONE"]
        head += [f"X{i}" for i in range(self.n_x)] + [f"c{i}" for i in range(self.n_carry)]
        head += [f"Y{k}" for k in range(self.n_y)]
        per_t = []
        for v in self.loop_reads:
            kind = tr.values[v]
            if kind[0] == "x":
                per_t.append(f"x{kind[1]} = X{kind[1]}[t]")
            elif kind[0] != "c" and self.level[v] == OVER_TIME:
                head.append(f"P{v}")
                per_t.append(f"p{v} = P{v}[t]")
            elif kind[0] != "c" and self.level[v] == ONCE:
                head.append(f"A{v}")
        for op in self.per_step:
            head += [f"F{op.j}", f"N{op.j}"]
        head += [f"C{op.j}" for op in self._shared]
        L = ["def forward(env):", "    " + ", ".join(head) + ", = env"]
        L += [f"    C{op.j} = N{op.j}()" for op in self._stored if not keep]
        L.append("    for t in order:")
        B = "        "
        L += [B + s for s in per_t]
        for op in self.per_step:
            if keep and op not in self._shared:
                L.append(B + f"C{op.j} = N{op.j}()")
            args = [self._name(v) for v, _ in op.args] + [f"{name}={self._name(v)}" for name, v in op.options]
            call = f"F{op.j}(C{op.j}, {', '.join(args)})"
            outs = [self._name(o) for o in op.outs]
            if op.multi:
                L.append(B + f"{', '.join(outs)}, = {call}")
            else:
                L.append(B + f"{outs[0]} = {call}" + f"    # {op.fn.__name__}")
                if not _trusted(op.fn) or not tr.shapes[op.outs[0]]:
                    L.append(B + f"if type({outs[0]}) is not ndarray: {outs[0]} = ONE({outs[0]})")
        if keep and self._stored:
            L.append(B + "CTX[t] = (" + ", ".join(f"C{op.j}" for op in self._stored) + ",)")
        for k, v in enumerate(tr.ys):
            L.append(B + f"Y{k}[t] = {self._name(v)}")
        if self.n_carry:
            L.append(B + ", ".join(f"c{i}" for i in range(self.n_carry)) + " = "
                     + ", ".join(self._name(v) for v in tr.carry_out))
        L.append("    return (" + "".join(f"c{i}, " for i in range(self.n_carry)) + ")")
        return "\n".join(L) + "\n"

    def _target(self, v):
        """The variable a cotangent of value v accumulates into in the reverse loop, or None (no gradient)."""
        if not self.need[v]:
            return None
        kind = self.tr.values[v]
        if kind[0] == "x":
            return f"gx{kind[1]}"
        if kind[0] == "c":
            return f"gcin{kind[1]}"
        if self.level[v] == PER_STEP:
            return f"g{v}"
        if self.level[v] == OVER_TIME:
            return f"gp{v}"
        return f"gA{v}"                  # a loop-invariant value: summed over the steps

    def _deliver(self, v, expr, B, checked, ctx="None", position=0):
        """Lines adding the cotangent ``expr`` (a local name) to value v's accumulator."""
        target = self._target(v)
        if target is None:
            return []
        self._targets[target] = v
        lines = []
        if checked:
            lines.append(B + f"if type({expr}) is not ndarray or {expr}.shape != S{v} or {expr}.dtype is not T{v}: "
                             f"{expr} = FIX({expr}, S{v}, T{v}, {ctx}, {position})")
        if self.deliveries[v] == 1 and not target.startswith("gA"):
            lines.append(B + f"{target} = {expr}")      # its only cotangent at this step
        else:
            lines.append(B + f"{target} = {expr} if {target} is None else {target} + {expr}")
        return lines

    def _unchecked(self, op, p):
        """Is the gradient op.backward returns for argument p already of that argument's shape and dtype (so the
        reverse loop needs no test)? For minigrad's elementwise ops without broadcasting and for a product with a
        weight matrix, in one dtype."""
        tr = self.tr
        if not _trusted(op.fn):
            return False
        v, o = op.args[p][0], op.outs[0]
        dts = {tr.dtypes[w] for w, _ in op.args} | {tr.dtypes[o]}
        if len(dts) != 1:
            return False
        if op.fn in _ELEMENTWISE:
            return tr.shapes[v] == tr.shapes[o]
        if op.fn is _ops.MatMul:
            a, b = (tr.shapes[w] for w, _ in op.args)
            return len(b) == 2 and len(a) >= 2
        return op.fn is _ops.Split

    def _backward_source(self):
        tr = self.tr
        head = ["rorder", "CTX", "ndarray", "FIX", "ZEROS"]
        head += [f"gc{i}" for i in range(self.n_carry)] + [f"DY{k}" for k in range(self.n_y)]
        head += [f"GX{i}" for i in range(self.n_x)]
        self._targets, shapes = {}, set()
        body = []
        B = "        "
        # seeds: the carry's cotangent from the step after (or the final carry's), and the y's at this step
        for i, v in enumerate(tr.carry_out):
            if self._target(v):
                body.append(B + f"if gc{i} is not None:")
                body += self._deliver(v, f"gc{i}", B + "    ", False)
        for k, v in enumerate(tr.ys):
            if self._target(v):
                body.append(B + f"if DY{k} is not None:")
                body.append(B + f"    dy = DY{k}[t]")
                body += self._deliver(v, "dy", B + "    ", False)
        for op in reversed(self.per_step):
            if not op.backward:
                continue
            gs = [f"g{o}" if self.cot[o] and self.level[o] == PER_STEP else "None" for o in op.outs]
            live = [g for g in gs if g != "None"]
            if not any(op.per_step_needs):
                continue
            body.append(B + "if " + " or ".join(f"{g} is not None" for g in live) + f":    # {op.fn.__name__}")
            inner = B + "    "
            if op.multi and getattr(op.fn, "materialize_grads", True):
                shapes.update(op.outs)
                gs = [f"({g} if {g} is not None else ZEROS(S{o}, T{o}))" if g != "None" else f"ZEROS(S{o}, T{o})"
                      for o, g in zip(op.outs, gs)]
            call = f"B{op.j}(C{op.j}, {', '.join(gs)})"
            n = len(op.args)
            if op.fn is _ops.Add:                # d(a + b) = (g, g): passed on without a call
                body.append(inner + f"r0 = r1 = {gs[0]}")
            elif n == 1:
                body.append(inner + f"r0 = {call}")
                if not _trusted(op.fn) or op.fn in (_ops.Concatenate, _ops.Stack):
                    body.append(inner + "if type(r0) is tuple: r0 = r0[0]")
            else:
                body.append(inner + ", ".join(f"r{p}" for p in range(n)) + f", = {call}")
            for p, (v, _diff) in enumerate(op.args):
                if not op.per_step_needs[p] or self._target(v) is None:
                    continue
                checked = not self._unchecked(op, p)
                if checked:
                    shapes.add(v)
                lines = self._deliver(v, f"r{p}", inner + ("    " if not _trusted(op.fn) else ""), checked,
                                      f"C{op.j}", p)
                if not _trusted(op.fn):  # a user's backward may give None for an input: no gradient
                    body.append(inner + f"if r{p} is not None:")
                body += lines
        # accumulators: per step (reset at every step), or summed over the steps (loop-invariant values)
        sums = {v: name for name, v in self._targets.items() if name.startswith("gA")}
        locals_ = sorted(name for name in self._targets if not name.startswith("gA"))
        head += [f"K{r}" for r in self.kept_roots] + ["COPY"]
        head += [f"B{op.j}" for op in self.per_step if op.backward and op.fn is not _ops.Add]
        head += [f"S{v}" for v in sorted(shapes)] + [f"T{v}" for v in sorted(shapes)]
        contexts = [f"C{op.j}" for op in self._stored]
        head += [f"C{op.j}" for op in self._shared]
        L = ["def backward(env):", "    " + ", ".join(head) + ", = env"]
        if sums:
            L.append("    " + " = ".join(sums.values()) + " = None")
        L.append("    for t in rorder:")
        if contexts:
            L.append(B + ", ".join(contexts) + ", = CTX[t]")
        if locals_:
            L.append(B + " = ".join(locals_) + " = None")
        L += body
        L += [B + f"GX{i}[t] = gx{i}" for i in range(self.n_x) if f"gx{i}" in locals_]   # (else: no gradient)
        for r in self.kept_roots:                # the cotangents kept for after the loop, into their buffers
            name = self._target(r)
            if name in self._targets:
                L.append(B + f"if {name} is not None: COPY(K{r}[t], {name})")
                L.append(B + f"else: K{r}[t] = 0")
            else:
                L.append(B + f"K{r}[t] = 0")
        if self.n_carry:
            L.append(B + ", ".join(f"gc{i}" for i in range(self.n_carry)) + " = "
                     + ", ".join(f"gcin{i}" if f"gcin{i}" in locals_ else "None" for i in range(self.n_carry)))
        L.append("    return (" + "".join(f"gc{i}, " for i in range(self.n_carry)) + "), {"
                 + ", ".join(f"{v}: {name}" for v, name in sums.items()) + "}")
        self._backward_shapes = sorted(shapes)
        return "\n".join(L) + "\n"

    def _compiled(self, kind):
        return _compile(self.sources[kind], kind)


_COMPILED = {}


def _compile(source, kind):
    """The generated function for ``source`` (compiled once per distinct source: the plan's data comes in
    through ``env``, so equal sources are the same function)."""
    fn = _COMPILED.get(source)
    if fn is None:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        namespace = {}
        exec(compile(source, f"<minigrad.scan {kind}>", "exec"), namespace)  # noqa: S102 - our own generated code
        fn = _COMPILED[source] = namespace["backward" if kind == "backward" else "forward"]
    return fn


class _StepContext:
    """The context an op's forward and backward receive inside a replayed step: the interface of a tape entry's
    context (``save_for_backward``, ``saved_tensors``, ``needs_input_grad``, and any attribute the op sets),
    without the tape entry. One subclass per op and set of needed gradients (``_context_class``). The saved arrays
    live in a slot: most ops set nothing else, so most contexts are one small object (the replay makes one per op
    and step, and Python's garbage collector walks each of them)."""
    __slots__ = ("__dict__", "saved_tensors")
    needs_input_grad = ()
    inputs = ()
    name = "op"

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class _UserStepContext:
    """The context of a user's op (which may read ``saved_tensors`` without having saved anything)."""
    saved_tensors = ()
    needs_input_grad = ()
    inputs = ()
    name = "op"

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


_CONTEXT_CLASSES = {}


def _context_class(fn, needs):
    key = (fn, needs)
    cls = _CONTEXT_CLASSES.get(key)
    if cls is None:
        if len(_CONTEXT_CLASSES) > 1024:
            _CONTEXT_CLASSES.clear()
        base = _StepContext if _trusted(fn) else _UserStepContext
        cls = _CONTEXT_CLASSES[key] = type(f"{fn.__name__}Context", (base,), {
            "needs_input_grad": needs, "inputs": (None,) * len(needs), "name": fn.__name__})
    return cls


def _one(out):
    """An op's single result as forward returned it (a 1-tuple, a number) -> ndarray, as ``Function.apply``."""
    if type(out) is tuple and len(out) == 1:
        out = out[0]
    return out if type(out) is np.ndarray else np.asarray(out)


def _fix(g, shape, dtype, ctx, position):
    """A per-step gradient brought to its input's shape and dtype, as the tape's reverse pass does."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.shape != shape:
        check_gradient_shape(ctx, position, g.shape, shape)
        g = unbroadcast(g, shape)
    if g.dtype != dtype:
        if g.dtype.kind not in "fbiu":
            raise RuntimeError(f"{ctx.name}.backward returned a gradient of dtype {g.dtype} for input {position} of "
                               f"dtype {dtype}: gradients must be real numbers")
        g = g.astype(dtype)
    return g


def _fit(g, shape, dtype):
    if g.shape != shape:
        g = unbroadcast(g, shape)
    return g if g.dtype == dtype else g.astype(dtype)


def _outputs(out, multi):
    if multi:
        return tuple(o if type(o) is np.ndarray else np.asarray(o) for o in out)
    return (_one(out),)


def _stack(items, shape, dtype, out=None):
    """The per-step arrays of ``items`` (None: no cotangent there, zeros) as one (T, ...) array (into ``out``), or
    None when every item is None."""
    if all(g is None for g in items):
        return None
    zero = None
    full = []
    for g in items:
        if g is None:
            if zero is None:
                zero = np.zeros(shape, dtype)
            g = zero
        full.append(g)
    return np.stack(full, out=out)


_POOL = BufferPool(max_bytes=64 << 20)  # work arrays kept from one reverse pass to the next


class _Stacks:
    """The per-step arrays one reverse pass stacks over time (saved arrays, cotangents), each list stacked once: a
    sum's cotangent reaches both of its operands as one array (x W + h R + b hands the same array to the bias, to
    h R and to x W). The stacks live in pool buffers, which go back to the pool when the pass ends; nothing the
    pass returns may be one of them (``owns``)."""

    def __init__(self):
        self.done, self.buffers = [], []

    def buffer(self, shape, dtype):
        buffer = _POOL.empty(tuple(shape), np.dtype(dtype))
        self.buffers.append(buffer)
        return buffer

    def __call__(self, items, shape, dtype):
        for seen, stacked in self.done:
            if len(seen) == len(items) and all(a is b for a, b in zip(seen, items)):
                return stacked
        if all(g is None for g in items):
            return None
        stacked = _stack(items, shape, dtype, out=self.buffer((len(items),) + tuple(shape), dtype))
        self.done.append((items, stacked))
        return stacked

    def owns(self, a):
        return any(np.may_share_memory(a, b) for b in self.buffers)

    def release(self):
        _POOL.recycle(*self.buffers)
        self.done, self.buffers = [], []


def _add(acc, key, g):
    acc[key] = g if acc.get(key) is None else acc[key] + g


# ============================================================================================ running a plan

class _Run:
    """What one replay keeps for its reverse pass: the length, the order of the steps, the values made before the
    loop, the contexts of the ops run once or over time, each step's contexts and the contexts shared by all steps."""
    __slots__ = ("T", "contexts", "loop", "order", "shared", "values")


def _hoisted_forward(plan, op, values, T):
    tr = plan.tr
    args = [values[v] for v, _ in op.args]
    options = {name: values[v] for name, v in op.options}
    ctx = Context(tuple(diff and plan.need[v] for v, diff in op.args))
    if op.flat:  # a product of the time-varying operand with a weight matrix: one (T*rows, k) x (k, n) product
        a = args[0]
        out = (_one(op.fn.forward(ctx, a.reshape(-1, a.shape[-1]), args[1])),)
        out = (out[0].reshape((T,) + tr.shapes[op.outs[0]]),)
    else:
        out = _outputs(op.fn.forward(ctx, *args, **options), op.multi)
    for o, value in zip(op.outs, out):
        values[o] = value
    return ctx


def _run_forward(plan, ctx, arrays):
    tr = plan.tr
    n_x, n_c = plan.n_x, plan.n_carry
    xs, init, invariants = arrays[:n_x], arrays[n_x:n_x + n_c], arrays[n_x + n_c:]
    T = xs[0].shape[0]
    order = range(T - 1, -1, -1) if plan.reverse else range(T)
    keep = any(ctx.needs_input_grad)
    values = {}
    for v, kind in enumerate(tr.values):
        if kind[0] == "k":
            values[v] = kind[1]
        elif kind[0] == "i":
            values[v] = invariants[kind[1]]
        elif kind[0] == "x":
            values[v] = xs[kind[1]]
    contexts = {op.j: _hoisted_forward(plan, op, values, T) for op in plan.hoisted}
    CTX = [None] * T
    Y = [[None] * T for _ in range(plan.n_y)]
    env = [order, CTX, np.ndarray, _one]
    env += [list(x) if i in plan.xs_read else None for i, x in enumerate(xs)] + list(init) + Y
    for v in plan.loop_reads:
        kind = tr.values[v]
        if kind[0] not in "xc" and plan.level[v] == OVER_TIME:
            env.append(list(values[v]))
        elif kind[0] not in "xc" and plan.level[v] == ONCE:
            env.append(values[v])
    for op in plan.per_step:
        env += [op.fn.forward, op.context]
    shared = {op.j: op.context() for op in plan._shared}
    env += list(shared.values())
    finals = plan._compiled("keep" if keep else "infer")(env)
    ys = tuple(np.stack(y) for y in Y)
    if keep:
        run = _Run()
        run.T, run.order, run.values, run.contexts, run.loop, run.shared = T, order, values, contexts, CTX, shared
        ctx.scan_run = run
    return ys + tuple(finals)


def _stacked_context(plan, op, run, positions, stacks):
    """A context holding op's saved arrays of every step stacked along a new first axis (loop-invariant ones as
    they are), needing the gradients of ``positions``; None when a saved value is neither the same at every step
    nor an array of the output's number of axes (then the steps are taken one by one)."""
    if op in plan._shared:  # nothing saved: one context for all steps
        steps = [run.shared[op.j]] * run.T
    else:
        k = plan._stored.index(op)
        steps = [c[k] for c in run.loop]
    m = len(plan.tr.shapes[op.outs[0]])
    saved = []
    for items in zip(*(getattr(c, "saved_tensors", ()) for c in steps)):
        first = items[0]
        if all(s is first for s in items):
            saved.append(first)
        elif all(isinstance(s, np.ndarray) and s.ndim == m for s in items):
            saved.append(stacks(items, first.shape, first.dtype))
        else:
            return None, steps
    ctx = Context(tuple(p in positions for p in range(len(op.args))))
    ctx.saved_tensors = tuple(saved)
    return ctx, steps


def _run_backward(plan, ctx, grads):
    run = ctx.scan_run
    tr, T = plan.tr, run.T
    loop = plan._compiled("backward")
    d_ys, d_finals = grads[:plan.n_y], grads[plan.n_y:]
    GX = [[None] * T for _ in range(plan.n_x)]
    # the ys' cotangents as per-step views; contiguous ones (often they arrive as a transposed view, and a numpy
    # call on a strided block costs several times one on a contiguous block)
    d_ys = [None if d is None else list(np.ascontiguousarray(d)) for d in d_ys]
    for k, op in enumerate(plan._stored):
        if op.fn is _ops.MatMul and op.per_step_needs[0] and plan.level[op.args[1][0]] == ONCE:
            _transposable_weight(run.loop, k, run.values[op.args[1][0]])
    stacks = _Stacks()                     # arrays stacked over time in this pass, in pool buffers
    try:
        kept = {r: stacks.buffer((T,) + tr.shapes[r], tr.dtypes[r]) for r in plan.kept_roots}
        env = [run.order[::-1], run.loop, np.ndarray, _fix, np.zeros, *d_finals, *d_ys, *GX]
        env += [kept[r] for r in plan.kept_roots] + [np.copyto]
        env += [op.fn.backward for op in plan.per_step if op.backward and op.fn is not _ops.Add]
        env += [tr.shapes[v] for v in plan._backward_shapes] + [tr.dtypes[v] for v in plan._backward_shapes]
        env += [run.shared[op.j] for op in plan._shared]
        d_init, acc = loop(env)            # acc: cotangents of loop-invariant values, summed over the steps
        for op in plan.per_step:
            if op.deferred:
                _deferred_gradients(plan, op, run, kept[plan.kept[op.outs[0]]], acc, stacks)
        d_xs = [_stack(items, tr.shapes[i], tr.dtypes[i]) for i, items in enumerate(GX)]   # returned: not pooled
        stacked = {v: kept[r] for v, r in plan.kept.items() if plan.level[v] == OVER_TIME}
        for op in reversed(plan.hoisted):
            _hoisted_backward(plan, op, run, stacked, acc, d_xs, stacks)
    finally:
        stacks.release()
    result = [d_xs[i] if plan.need[i] else None for i in range(plan.n_x)]
    result += list(d_init)
    result += [acc.get(tr._invariant_index[id(t)]) for t in tr.invariants]
    return tuple(result)


def _transposable_weight(contexts, k, w):
    """A product ``a_t @ w`` with a loop-invariant matrix w: its backward forms ``g @ w.T`` at every step. Each
    step's context gets the same numbers in Fortran order, so that ``w.T`` is one contiguous block (a small
    product with a transposed operand is up to 1.5x slower; the fused kernels keep R^T for the same reason)."""
    if not isinstance(w, np.ndarray) or w.ndim != 2 or not w.flags.c_contiguous or w.flags.f_contiguous:
        return
    wf = np.asfortranarray(w)
    for step in contexts:
        c = step[k]
        saved = getattr(c, "saved_tensors", ())
        if len(saved) == 2 and saved[1] is w:
            c.saved_tensors = (saved[0], wf)


def _deferred_gradients(plan, op, run, G, acc, stacks):
    """The gradients of op's loop-invariant arguments (a weight in h_t @ R) summed over the steps: one backward
    on the stacked saved arrays and the kept cotangents G (T, ...) (for a product, one large product)."""
    tr = plan.tr
    needs = tuple(p in op.deferred for p in range(len(op.args)))
    sctx, steps = _stacked_context(plan, op, run, op.deferred, stacks)
    pairs = [(sctx, G)] if sctx is not None else [(_with_needs(c, needs), g) for c, g in zip(steps, G)]
    for c, g in pairs:
        res = op.fn.backward(c, g)
        res = res if isinstance(res, tuple) else (res,)
        for p in op.deferred:
            v = op.args[p][0]
            _add(acc, v, _fit(np.asarray(res[p]), tr.shapes[v], tr.dtypes[v]))


def _hoisted_backward(plan, op, run, stacked, acc, d_xs, stacks):
    """Backward of an op run over time (cotangents (T, ...) in ``stacked``) or once (summed, in ``acc``)."""
    tr, T = plan.tr, run.T
    octx = run.contexts[op.j]
    gs = [(stacked if op.level == OVER_TIME else acc).get(o) for o in op.outs]
    if all(g is None for g in gs) or not any(octx.needs_input_grad):
        return
    if op.multi and getattr(op.fn, "materialize_grads", True):
        gs = [np.zeros(run.values[o].shape, run.values[o].dtype) if g is None else g for o, g in zip(op.outs, gs)]
    if op.flat:  # the product done as (T*rows, k) x (k, n)
        g = gs[0]
        ga, gb = op.fn.backward(octx, g.reshape(-1, g.shape[-1]))
        res = (None if ga is None else ga.reshape((T,) + tr.shapes[op.args[0][0]]), gb)
    else:
        res = op.fn.backward(octx, *gs)
        res = res if isinstance(res, tuple) else (res,)
    for p, (v, diff) in enumerate(op.args):
        if not (diff and plan.need[v]) or res[p] is None:
            continue
        g = np.asarray(res[p])
        if plan.level[v] == OVER_TIME:   # an xs slice or a value made over time: (T, ...) cotangents
            g = _fit(g, (T,) + tr.shapes[v], tr.dtypes[v])
            kind = tr.values[v]
            if kind[0] == "x":
                if stacks.owns(g):   # a sum passes its (pooled) cotangent on as it is: the input's gradient is a copy
                    g = g.copy()
                d_xs[kind[1]] = g if d_xs[kind[1]] is None else d_xs[kind[1]] + g
            else:
                _add(stacked, v, g)
        else:
            _add(acc, v, _fit(g, tr.shapes[v], tr.dtypes[v]))


def _with_needs(ctx, needs):
    """A copy of a step's context asking for the gradients ``needs``."""
    c = type(ctx)()
    if isinstance(ctx, _StepContext) and hasattr(ctx, "saved_tensors"):
        c.saved_tensors = ctx.saved_tensors
    c.__dict__.update(ctx.__dict__)
    c.needs_input_grad = needs
    return c


class Scan(Function):
    """A traced step replayed over time: ONE tape entry for a whole loop (module docstring).

    apply(*xs, *init, *invariants, plan=ScanPlan) -> (*ys, *final_carry)
    """
    materialize_grads = False  # outputs that got no gradient arrive as None

    @staticmethod
    def forward(ctx, *arrays, plan=None):
        ctx.plan = plan
        return _run_forward(plan, ctx, arrays)

    @staticmethod
    def backward(ctx, *grads):
        return _run_backward(ctx.plan, ctx, grads)


# ============================================================================================ the public functions

def _as_tensors(items, what):
    single = isinstance(items, (Tensor, np.ndarray))
    items = [items] if single else items
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"scan: {what} must be a Tensor or a list of Tensors, got {type(items).__name__}")
    out = []
    for k, t in enumerate(items):
        if isinstance(t, np.ndarray):
            t = Tensor(t)
        if not isinstance(t, Tensor):
            raise TypeError(f"scan: {what}[{k}] must be a minigrad Tensor (or an ndarray), got {type(t).__name__}")
        out.append(t)
    return out, single


def _check_xs(xs):
    if not xs:
        raise ValueError("scan: xs must hold at least one sequence (T, ...), the loop's length")
    for k, x in enumerate(xs):
        if x.ndim == 0:
            raise ValueError(f"scan: xs[{k}] is 0-d; each xs is a sequence of shape (T, ...)")
    lengths = {x.shape[0] for x in xs}
    if len(lengths) > 1:
        raise ValueError(f"scan: the xs have different lengths (first axes) {[x.shape[0] for x in xs]}")
    T = lengths.pop()
    if T == 0:
        raise ValueError("scan: xs have length 0: there is no step to run")
    return T


def scan(step, init, xs, reverse=False, unroll=False):
    """Run ``step`` over the first axis of ``xs``, carrying ``init`` from step to step.

    step: ``step(carry, x) -> (new_carry, y)``: carry a list of Tensors like init, x the list of this step's slices
        ``[xs[0][t], xs[1][t], ...]``, new_carry a list like carry (same shapes and dtypes), y a Tensor, a list of
        Tensors, or None. Written with minigrad ops.
    init: the carry before the first step: a Tensor or a list of Tensors.
    xs: a Tensor or array of shape (T, ...), or a list of them (all of length T).
    reverse: run t = T-1, ..., 0 (ys[t] still belongs to the step that read xs[t]).
    unroll: record every op of every step on the tape (the reference, and what a scan that cannot be replayed
        does).
    Returns ``(carry, ys)``: the carry after the last step (a Tensor if init was one, else a list) and the y of
    every step stacked along a new first axis, (T, ...) (a Tensor, a list, or None, as the step's y).

    The step runs twice to be traced, then the loop is replayed as one tape entry (module docstring); a step that
    is not the same program at every timestep runs op by op instead, with the same result.
    """
    if not callable(step):
        raise TypeError(f"scan: step must be callable, got {type(step).__name__}")
    init, single_carry = _as_tensors(init, "init")
    xs, _ = _as_tensors(xs, "xs")
    _check_xs(xs)
    result = None if unroll else replay(step, init, xs, reverse)
    if result is None:
        carry, ys, form = by_ops(step, init, xs, reverse)
    else:
        carry, ys, form = result
    carry = carry[0] if single_carry else carry
    ys = None if form == "none" else ys[0] if form == "tensor" else ys
    return carry, ys


def by_ops(step, init, xs, reverse):
    """The loop recorded op by op (every op of every step on the tape): (carry list, ys list, y's form)."""
    T = xs[0].shape[0]
    slices = [_ops.unstack(x) for x in xs]
    carry, columns, form = list(init), None, None
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        carry, y, y_form = _step_result(step(carry, [s[t] for s in slices]), len(init))
        for i, (new, old) in enumerate(zip(carry, init)):
            if new.shape != old.shape:
                raise ValueError(f"scan: the step changed carry[{i}] from shape {old.shape} to {new.shape}; the "
                                 "carry keeps its shape from step to step")
        if columns is None:
            columns, form = [[None] * T for _ in y], y_form
        elif len(y) != len(columns):
            raise ValueError(f"scan: the step returned {len(y)} y value(s) at one step and {len(columns)} at another")
        for k, value in enumerate(y):
            columns[k][t] = value
    return carry, [_ops.stack(c, axis=0) for c in columns], form


def _wrap(data, requires_grad):
    t = Tensor(data)
    t.requires_grad = bool(requires_grad) and t.dtype.kind == "f"
    return t


def _traced(step, init, xs, reverse):
    """The two traced steps; (trace of the second, y's form) or NotScannable."""
    T = xs[0].shape[0]
    if T < 2:
        raise NotScannable("a loop of one step has nothing to replay")
    t0, t1 = (T - 1, T - 2) if reverse else (0, 1)
    carry0 = [_wrap(c.data, c.requires_grad) for c in init]
    tr0, out0, _, form = _trace_step(step, carry0, [_wrap(x.data[t0], x.requires_grad) for x in xs])
    for i, (new, old) in enumerate(zip(out0, init)):
        if new.shape != old.shape or new.dtype != old.dtype:
            raise NotScannable(f"the step changes carry[{i}] from {old.shape} {old.dtype} to {new.shape} "
                               f"{new.dtype}")
    carry1 = [_wrap(c.data, c.requires_grad) for c in out0]
    tr1, _, _, _ = _trace_step(step, carry1, [_wrap(x.data[t1], x.requires_grad) for x in xs])
    reason = _difference(tr0, tr1)
    if reason is not None:
        raise NotScannable(reason)
    return tr1, form


_PLANS = {}


def _plan_for(tr, n_x, n_carry, xs_need, init_need, reverse):
    """The plan of a traced step: made once per structure of step (its ops, where their arguments come from, shapes
    and dtypes, which inputs need a gradient) and bound to this trace's constants and loop-invariant Tensors."""
    structure = (tuple((k[0], type(k[1]) if k[0] == "k" else k[1:]) for k in tr.values), tuple(tr.shapes),
                 tuple(tr.dtypes), tuple(tr.ops), tr.carry_out, tr.ys, n_x, n_carry, tuple(xs_need),
                 tuple(init_need), reverse)
    plan = _PLANS.get(structure)
    if plan is None:
        if len(_PLANS) >= 128:
            _PLANS.clear()
        plan = ScanPlan(tr, n_x, n_carry, xs_need, init_need, reverse)
        cached = copy.copy(plan)
        cached.tr = tr.structure_only()   # the cache keeps no constant, mask or weight alive
        _PLANS[structure] = cached
        return plan
    plan = copy.copy(plan)
    plan.tr = tr
    return plan


def scan_plan(step, init, xs, reverse=False):
    """The plan a scan would replay (``print(plan)`` lists each op and where it runs), or ``NotScannable`` with
    the reason it would run op by op. Arguments as ``scan``; the step runs twice."""
    init, _ = _as_tensors(init, "init")
    xs, _ = _as_tensors(xs, "xs")
    _check_xs(xs)
    tr, _ = _traced(step, init, xs, reverse)
    return _plan_for(tr, len(xs), len(init), [x.requires_grad for x in xs], [c.requires_grad for c in init], reverse)


def replay(step, init, xs, reverse=False):
    """The loop as one ``Scan`` tape entry: (carry list, ys list, y's form), or None when the step cannot be
    replayed (then run ``by_ops``, which also raises the errors of a malformed step). Under ``track_ops`` or
    ``detect_anomaly`` (an op monitor is on) it returns None: those tools look at every op."""
    if _t._hook is not None:
        return None
    try:
        tr, form = _traced(step, init, xs, reverse)
    except NotScannable:
        return None
    plan = _plan_for(tr, len(xs), len(init), [x.requires_grad for x in xs], [c.requires_grad for c in init], reverse)
    n_x, n_c = len(xs), len(init)

    def reference(*inputs):  # the op-by-op loop on the node's inputs: what create_graph differentiates
        carry, ys, _ = by_ops(step, list(inputs[n_x:n_x + n_c]), list(inputs[:n_x]), reverse)
        return tuple(ys) + tuple(carry)

    outs = Scan.apply_with_reference(reference, *xs, *init, *tr.invariants, plan=plan)
    outs = outs if isinstance(outs, tuple) else (outs,)
    return list(outs[plan.n_y:]), list(outs[:plan.n_y]), form
