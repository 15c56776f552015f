"""Gradient checking: the tape's gradients against central differences, replayed in float64.

Three modes; each compares what the tape computes (analytic) with central differences of ``f`` (numeric):

* ``'vjp'`` (default): one vector-Jacobian product. A non-scalar output is reduced to the scalar
  phi(x) = sum(v * f(x)) with a seeded random cotangent v; every element of d phi / d x is checked.
  Cost: one reverse pass, 2 evaluations of ``f`` per input element.
* ``'full'``: the whole Jacobian, entry by entry: one reverse pass per output element (one-hot cotangents)
  against one column of differences per input element. Cost: m reverse passes for m output elements, 2
  evaluations of ``f`` per input element (each evaluation gives every output at once).
* ``'projection'``: random directional derivatives of phi: <d phi / d x, u> against
  (phi(x + eps u) - phi(x - eps u)) / (2 eps), for ``n_projections`` seeded unit directions u per input.
  Cost: 2 evaluations of ``f`` per direction whatever the input's size, for inputs too large to check element by
  element.

float64 replay: while checking, every float input Tensor's ``.data`` is replaced by a float64 copy (``replay_dtype``),
restored afterwards together with its ``.grad``. A float32 model is so checked in float64, where central differences
with eps=1e-6 are accurate to ~1e-10; in float32 they would be noise (the rounding of x + 1e-6 alone is ~1e-7 x).
``f`` may reach the same Tensors through a closure (a layer reaching its weights): pass the weights in ``inputs`` so
they are replayed too, and ``wrt=`` to check only some of them.

``gradgradcheck`` checks second derivatives the same way: the function it checks is f's VJP,
G(x, v) = d sum(v * f(x)) / d x, computed by a recorded reverse pass (``create_graph=True``), and its gradients with
respect to both x and the cotangent v are compared with central differences of G, where G is evaluated by the
first-order (numpy) rules. So each op's graph rule is checked against its numpy rule, and its derivative against
differences.

Every random draw (the cotangent v, the directions u) comes from ``np.random.default_rng(seed)`` in a fixed order,
so the same seed reproduces the same check; a failure's message prints the seed.
"""
import numpy as np

from .tensor import Tensor, enable_grad, is_grad_enabled, leaves, no_grad

MODES = ("vjp", "full", "projection")


class GradcheckError(AssertionError):
    """A tape gradient disagrees with central differences; the message names the input, element and both values.

    ``.report`` holds the full ``GradcheckReport`` (every input's analytic and numeric arrays).
    """

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


# ============================================================ the report

class GradcheckEntry:
    """One compared entry (a record, not an exception). ``index``: the input element (a tuple); ``output_index``:
    in mode 'full', the output element as (output number, index tuple), else None; ``projection``: in mode
    'projection', the direction's number (``index`` is then None); ``timestep``: index[time_axis] for a
    (batch, timesteps, ...) input, else None.
    ``rel_error`` is |a - n| / |n|, ``sym_rel_error`` is |a - n| / max(|a|, |n|) (bounded by 2, finite at n = 0)."""
    __slots__ = ("index", "output_index", "projection", "timestep", "analytic", "numeric", "abs_error",
                 "rel_error", "sym_rel_error", "excess", "ratio")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))

    def where(self):
        if self.projection is not None:
            return f"direction {self.projection}"
        if self.output_index is not None:
            k, idx = self.output_index
            return f"in {self.index}, out[{k}]{list(idx)}"
        return str(self.index)

    def __repr__(self):
        t = "" if self.timestep is None else f", timestep={self.timestep}"
        return (f"GradcheckEntry({self.where()}{t}, analytic={self.analytic:.6g}, numeric={self.numeric:.6g}, "
                f"abs_error={self.abs_error:.3g}, rel_error={self.rel_error:.3g})")


class InputCheck:
    """The check of one input Tensor.

    analytic, numeric: float64 arrays of the compared quantities, shaped
        mode 'vjp':        input.shape                 (d phi / d x)
        mode 'full':       (m,) + input.shape          (the Jacobian; m = total number of output elements)
        mode 'projection': (n_projections,)            (<d phi / d x, u_p>)
    abs_error, rel_error (|a-n|/|n|), sym_rel_error (|a-n|/max(|a|,|n|)), excess (abs_error - tolerance; > 0 fails),
    ratio (abs_error / tolerance; > 1 fails): arrays of that same shape; excess and ratio are inf where a value is
    not finite. tolerance = atol + rtol * |numeric|.
    worst: the ``n_worst`` entries with the largest ratio, worst first (``GradcheckEntry``): the failures, or, when
    all pass, the entries closest to failing.
    """

    def __init__(self, position, tensor, mode, analytic, numeric, atol, rtol, time_axis, n_worst, out_shapes):
        self.position, self.name, self.shape, self.mode = position, tensor.name, tuple(tensor.shape), mode
        self.analytic, self.numeric = analytic, numeric
        a, n = analytic, numeric
        finite = np.isfinite(a) & np.isfinite(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.abs_error = np.abs(a - n)
            self.rel_error = np.where(self.abs_error == 0, 0.0, self.abs_error / np.abs(n))
            self.sym_rel_error = np.where(self.abs_error == 0, 0.0,
                                          self.abs_error / np.maximum(np.abs(a), np.abs(n)))
            tol = atol + rtol * np.abs(n)
            self.excess = np.where(finite, self.abs_error - tol, np.inf)
            self.ratio = np.where(finite, np.where(self.abs_error == 0, 0.0, self.abs_error / tol), np.inf)
        self.n_bad = int(np.sum(self.excess > 0))
        self.passed = self.n_bad == 0
        self.n_checked = int(self.excess.size)
        order = np.argsort(-self.ratio, axis=None, kind="stable")[:n_worst]
        self.worst = [self._element(int(k), time_axis, out_shapes) for k in order]

    def _element(self, flat, time_axis, out_shapes):
        full = np.unravel_index(flat, self.excess.shape)
        index = output_index = projection = timestep = None
        if self.mode == "projection":
            projection = int(full[0])
        elif self.mode == "full":
            index = tuple(int(j) for j in full[1:])
            k, within = _locate_output(int(full[0]), out_shapes)
            output_index = (k, within)
        else:
            index = tuple(int(j) for j in full)
        if index is not None and time_axis is not None and len(self.shape) >= 3:
            timestep = index[time_axis]  # a (batch, timesteps, ...) sequence: name the step, not just the index
        f = lambda arr: float(arr[full])  # noqa: E731
        return GradcheckEntry(index=index, output_index=output_index, projection=projection, timestep=timestep,
                              analytic=f(self.analytic), numeric=f(self.numeric), abs_error=f(self.abs_error),
                              rel_error=f(self.rel_error), sym_rel_error=f(self.sym_rel_error),
                              excess=f(self.excess), ratio=f(self.ratio))

    @property
    def timestep(self):
        """The timestep of the worst entry (sequence inputs only), else None."""
        return self.worst[0].timestep if self.worst else None

    def label(self):
        return f"input {self.position}" + (f" ({self.name!r})" if self.name else "")


def _locate_output(flat, out_shapes):
    for k, shape in enumerate(out_shapes):
        size = int(np.prod(shape, dtype=np.int64))
        if flat < size:
            return k, tuple(int(j) for j in np.unravel_index(flat, shape))
        flat -= size
    raise IndexError(flat)


class GradcheckReport:
    """Everything one gradient check measured; ``str(report)`` prints it as a table.

    passed: bool. inputs: one ``InputCheck`` per checked input, in input order. seed, mode, eps, atol, rtol,
    replay_dtype: the settings (the same seed reproduces the same check). cotangents: the output cotangents v
    (modes 'vjp' and 'projection'). projections: {input position: array (n_projections, *input.shape)} of the unit
    directions u (mode 'projection').
    """

    def __init__(self, checks, mode, seed, eps, atol, rtol, replay_dtype, cotangents, projections):
        self.inputs, self.mode, self.seed = checks, mode, seed
        self.eps, self.atol, self.rtol, self.replay_dtype = eps, atol, rtol, replay_dtype
        self.cotangents, self.projections = cotangents, projections
        self.passed = all(c.passed for c in checks)

    def __bool__(self):
        return self.passed

    @property
    def first_failure(self):
        """The first failing ``InputCheck`` (in input order), or None."""
        return next((c for c in self.inputs if not c.passed), None)

    def message(self):
        """The one-paragraph failure message ``gradcheck`` raises (empty string when passed)."""
        c = self.first_failure
        if c is None:
            return ""
        w = c.worst[0]
        tol = f"(atol={self.atol}, rtol={self.rtol})"
        vals = (f"analytic {w.analytic:.10g}, numeric {w.numeric:.10g}, abs error {w.abs_error:.3g}, "
                f"rel error {w.rel_error:.3g} {tol}")
        if c.mode == "projection":
            head = (f"gradcheck failed for {c.label()} of shape {c.shape} along random direction {w.projection}: "
                    f"<grad, u> {vals}; {c.n_bad} of {c.n_checked} directions out of tolerance")
        else:
            what = "Jacobian entries" if c.mode == "full" else "elements"
            head = (f"gradcheck failed for {c.label()} of shape {c.shape} at index {w.index}: {vals}; "
                    f"{c.n_bad} of {c.n_checked} {what} out of tolerance")
            if w.output_index is not None:
                head += f"; worst entry is d output[{w.output_index[0]}]{list(w.output_index[1])} / d input"
            if w.timestep is not None:
                head += f"; worst element at timestep {w.timestep}"
        return head + f". mode={self.mode!r}, seed={self.seed}: the same seed reproduces this check"

    def __str__(self):
        replay = "own dtypes" if self.replay_dtype is None else f"{np.dtype(self.replay_dtype).name} replay"
        lines = [f"gradcheck report: {'passed' if self.passed else 'FAILED'} (mode={self.mode!r}, seed={self.seed}, "
                 f"eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}, {replay})"]
        for c in self.inputs:
            lines.append(f"{c.label()} {c.shape}: {c.n_bad} of {c.n_checked} out of tolerance; max abs error "
                         f"{_fmt(np.max(c.abs_error, initial=0))}, max |a-n|/|n| {_fmt(np.max(c.rel_error, initial=0))}"
                         f", max |a-n|/max(|a|,|n|) {_fmt(np.max(c.sym_rel_error, initial=0))}")
            lines.append(f"    {'where':<28} {'t':>4} {'analytic':>13} {'numeric':>13} {'abs err':>9} {'a-n/n':>9} "
                         f"{'a-n/max':>9}")
            for w in c.worst:
                t = "" if w.timestep is None else str(w.timestep)
                mark = " !" if w.excess > 0 else ""
                lines.append(f"    {w.where():<28} {t:>4} {w.analytic:>13.6g} {w.numeric:>13.6g} "
                             f"{_fmt(w.abs_error):>9} {_fmt(w.rel_error):>9} {_fmt(w.sym_rel_error):>9}{mark}")
        return "\n".join(lines)

    __repr__ = __str__

    def raise_if_failed(self):
        if not self.passed:
            raise GradcheckError(self.message(), self)
        return True


def _fmt(v):
    return f"{v:.2e}" if np.isfinite(v) else str(v)


# ============================================================ the check

def _outputs(out):
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: the function must return a Tensor or a list of Tensors, got "
                            f"{type(o).__name__}")
    return outs


def _checked_inputs(inputs, wrt, who):
    """(inputs as a list, the sorted positions to check), or a clear error."""
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    inputs = list(inputs)
    if wrt is None:
        checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    else:
        positions = [wrt] if isinstance(wrt, (int, np.integer)) else wrt
        if not isinstance(positions, (list, tuple)) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in positions):
            raise TypeError(f"{who}: wrt must be an int or a list of ints, got {wrt!r}")
        for i in positions:
            if not -len(inputs) <= i < len(inputs):
                raise IndexError(f"{who}: wrt names input {i}, but there are {len(inputs)} inputs")
        checked = sorted({int(i) % len(inputs) for i in positions})
        for i in checked:
            if not (isinstance(inputs[i], Tensor) and inputs[i].requires_grad):
                raise ValueError(f"{who}: wrt names input {i}, which is not a Tensor with requires_grad=True")
    if not checked:
        raise ValueError(f"{who}: no input is a Tensor with requires_grad=True, so there is nothing to check")
    return inputs, checked


def _check_settings(who, eps, atol, rtol, seed, n_worst):
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not np.isfinite(value) or value < 0 or (positive and value == 0):
            bound = "> 0" if positive else ">= 0"
            raise ValueError(f"{who}: {name} must be a finite number {bound}, got {value!r}")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"{who}: seed must be None or a non-negative integer, got {seed!r}")
    if isinstance(n_worst, (bool, np.bool_)) or not isinstance(n_worst, (int, np.integer)) or n_worst < 1:
        raise ValueError(f"{who}: n_worst must be a positive integer, got {n_worst!r}")


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, mode="vjp", n_projections=8,
              replay_dtype=np.float64, wrt=None, time_axis=1):
    """Check the tape's gradient of ``f(*inputs)`` for every input Tensor with ``requires_grad=True``.

    f: a function of Tensors returning a Tensor (any shape) or a list of Tensors. In modes 'vjp' and 'projection' a
       non-scalar output is reduced to the scalar sum(v * f(x)) with a fixed random cotangent v (seeded by ``seed``),
       so every vector-Jacobian product the tape computes is exercised; mode 'full' checks every Jacobian entry.
    inputs: a Tensor or a list of Tensors/arrays/numbers, passed to ``f`` positionally. While checking, each float
       Tensor's ``.data`` is replaced by a copy in ``replay_dtype`` (float64; None keeps each input's own dtype),
       restored afterwards with its ``.grad`` (the ``.grad`` of leaves ``f`` reaches through a closure too), so
       ``f`` may also reach the same Tensors through a closure, as a layer reaches its weights.
    mode: 'vjp' | 'full' | 'projection' (module docstring); n_projections: directions per input in 'projection'.
    wrt: positions (int or list of ints) of the inputs to check; default every Tensor with requires_grad=True.
    seed: seeds the cotangent and the directions; None draws a fresh seed (printed on failure).
    time_axis: for inputs of ndim >= 3, read as (batch, timesteps, ...), the axis whose index a failure reports as
       the timestep.
    Passes when |analytic - numeric| <= atol + rtol * |numeric| for every compared entry. Returns True, or raises
    ``GradcheckError`` naming the input, the worst element's index (and timestep), both values, the error and the
    seed; the error's ``.report`` is the full ``GradcheckReport`` (see ``gradcheck_report``).
    """
    report = gradcheck_report(f, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, mode=mode,
                              n_projections=n_projections, replay_dtype=replay_dtype, wrt=wrt, time_axis=time_axis)
    return report.raise_if_failed()


def gradcheck_report(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, mode="vjp", n_projections=8,
                     replay_dtype=np.float64, wrt=None, time_axis=1, n_worst=5):
    """Like ``gradcheck`` (same arguments), but never raises on a mismatch: returns a ``GradcheckReport`` with the
    analytic and numeric arrays of every checked input, both relative-error conventions, and the ``n_worst`` worst
    entries (index, timestep, values). ``report.passed`` says whether ``gradcheck`` would pass."""
    if mode not in MODES:
        raise ValueError(f"gradcheck: unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    if mode == "projection" and (not isinstance(n_projections, (int, np.integer)) or n_projections < 1):
        raise ValueError(f"gradcheck: n_projections must be a positive integer, got {n_projections!r}")
    inputs, checked = _checked_inputs(inputs, wrt, "gradcheck")
    _check_settings("gradcheck", eps, atol, rtol, seed, n_worst)
    if seed is None:  # a fresh seed, still reported, so a failure found by chance can be replayed
        seed = int(np.random.SeedSequence().entropy % (2 ** 32))
    saved = {i: (inputs[i].data, inputs[i].grad) for i in range(len(inputs)) if isinstance(inputs[i], Tensor)}
    saved_leaves = []
    try:
        for i in saved:
            if inputs[i].data.dtype.kind == "f":
                # always a C-ordered copy: the caller's array is never perturbed, and reshape(-1) below is a view
                dt = inputs[i].data.dtype if replay_dtype is None else replay_dtype
                inputs[i].data = np.array(inputs[i].data, dtype=dt, order="C")
            inputs[i].grad = None
        rng = np.random.default_rng(seed)
        with enable_grad():
            outs = _outputs(f(*inputs))
        saved_leaves = [(t, t.grad) for t in leaves(outs) if all(t is not inputs[i] for i in saved)]
        for t, _ in saved_leaves:
            t.grad = None  # backward would add into the saved array in place
        out_shapes = [o.shape for o in outs]
        cotangents = [np.ones(o.shape) if o.size == 1 else rng.standard_normal(o.shape) for o in outs]
        projections = {}
        if mode == "projection":
            for i in checked:
                u = rng.standard_normal((n_projections,) + inputs[i].shape)
                norms = np.sqrt((u.reshape(n_projections, -1) ** 2).sum(axis=1))
                projections[i] = u / np.maximum(norms, 1e-300).reshape((-1,) + (1,) * inputs[i].ndim)

        def evaluate():  # outputs as float64 arrays, nothing recorded
            with no_grad():
                return [np.asarray(o.data, dtype=np.float64) for o in _outputs(f(*inputs))]

        def phi():
            return float(sum(np.sum(o * v) for o, v in zip(evaluate(), cotangents)))

        analytic = {}
        if mode == "full":
            analytic = _jacobian_by_reverse_passes(outs, [inputs[i] for i in checked], checked)
        else:
            with enable_grad():
                total = None
                for o, v in zip(outs, cotangents):
                    if o.requires_grad:
                        term = (o * v).sum()
                        total = term if total is None else total + term
                if total is not None:
                    total.backward()
            for i in checked:
                g = inputs[i].grad
                analytic[i] = np.zeros(inputs[i].shape) if g is None else np.asarray(g, dtype=np.float64)

        checks = []
        for i in checked:
            t = inputs[i]
            if mode == "projection":
                a = np.array([np.sum(analytic[i] * u) for u in projections[i]])
                n = np.empty(n_projections)
                orig = t.data.copy()
                for p, u in enumerate(projections[i]):
                    t.data[...] = orig + eps * u
                    plus = phi()
                    t.data[...] = orig - eps * u
                    minus = phi()
                    n[p] = (plus - minus) / (2 * eps)
                t.data[...] = orig
            else:
                flat = t.data.reshape(-1)  # a view: perturbing it perturbs the input
                cols = []
                for k in range(flat.size):
                    orig = flat[k]
                    flat[k] = orig + eps
                    plus = evaluate() if mode == "full" else phi()
                    flat[k] = orig - eps
                    minus = evaluate() if mode == "full" else phi()
                    flat[k] = orig
                    if mode == "full":
                        cols.append(np.concatenate([(p - m).reshape(-1) for p, m in zip(plus, minus)]) / (2 * eps))
                    else:
                        cols.append((plus - minus) / (2 * eps))
                if mode == "full":
                    m_out = sum(int(np.prod(s, dtype=np.int64)) for s in out_shapes)
                    n = (np.stack(cols, axis=1) if cols else np.zeros((m_out, 0))).reshape((m_out,) + t.shape)
                else:
                    n = np.array(cols, dtype=np.float64).reshape(t.shape)
                a = analytic[i]
            checks.append(InputCheck(i, t, mode, a, n, atol, rtol, time_axis, n_worst, out_shapes))
        return GradcheckReport(checks, mode, seed, eps, atol, rtol, replay_dtype,
                               cotangents if mode != "full" else None, projections)
    finally:
        for i, (data, g) in saved.items():
            inputs[i].data, inputs[i].grad = data, g
        for t, g in saved_leaves:
            t.grad = g


def _jacobian_by_reverse_passes(outs, tensors, positions):
    """{position: (m, *shape)} Jacobian of the concatenated flattened outputs, one reverse pass per output element."""
    m = sum(o.size for o in outs)
    jac = {i: np.zeros((m,) + t.shape) for i, t in zip(positions, tensors)}
    row = 0
    for o in outs:
        for j in range(o.size):
            if o.requires_grad:
                for t in tensors:
                    t.grad = None
                seed = np.zeros(o.shape, dtype=o.dtype)
                seed.reshape(-1)[j] = 1
                o.backward(seed)
                for i, t in zip(positions, tensors):
                    if t.grad is not None:
                        jac[i][row] = t.grad
            row += 1
    for t in tensors:
        t.grad = None
    return jac


def gradgradcheck(f, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, mode="vjp",
                  n_projections=8, wrt=None):
    """Check the second derivatives of ``f``: the gradients of its VJP, in float64, against central differences.

    f, inputs, eps, atol, rtol, seed, mode, n_projections, wrt: as in ``gradcheck``. grad_outputs: the cotangents v
    of f's outputs (arrays of the outputs' shapes); None draws them from ``seed``. The checked function is
    G(x, v) = d sum(v * f(x)) / d x for the inputs x that require grad (or ``wrt``), differentiated with respect to
    x and to v. Returns True, or raises ``GradcheckError`` (message and ``.report`` as ``gradcheck``'s; the cotangent
    inputs are named ``grad_outputs[k]``).
    """
    from .reverse import gradients

    inputs, checked = _checked_inputs(inputs, wrt, "gradgradcheck")
    _check_settings("gradgradcheck", eps, atol, rtol, seed, 1)
    if mode not in MODES:
        raise ValueError(f"gradgradcheck: unknown mode {mode!r}; expected one of {', '.join(map(repr, MODES))}")
    n = len(inputs)
    with no_grad():
        shapes = [o.shape for o in _outputs(f(*inputs))]
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [rng.standard_normal(s) for s in shapes]
    elif isinstance(grad_outputs, (np.ndarray, Tensor, int, float)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(shapes):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(shapes)} outputs")
    cotangents = []
    for k, (v, s) in enumerate(zip(grad_outputs, shapes)):
        v = np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float64)
        if v.shape != s:
            raise ValueError(f"gradgradcheck: grad_outputs[{k}] has shape {v.shape} but output {k} has shape {s}")
        cotangents.append(Tensor(v, requires_grad=True, name=f"grad_outputs[{k}]"))

    def vjp_of_f(*args):
        xs, vs = args[:n], args[n:]
        create = is_grad_enabled()  # recorded when gradcheck differentiates G; plain numpy when it evaluates G
        with enable_grad():
            outs = _outputs(f(*xs))
            active = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
            targets = [xs[i] for i in checked]
            grads = (None,) * len(targets)
            if active:
                grads = gradients([o for o, _ in active], targets, grad_outputs=[v for _, v in active],
                                  create_graph=create, allow_unused=True)
        return [Tensor(np.zeros(t.shape, t.dtype)) if g is None else g for g, t in zip(grads, targets)]

    report = gradcheck_report(vjp_of_f, inputs + cotangents, eps=eps, atol=atol, rtol=rtol, seed=seed, mode=mode,
                              n_projections=n_projections, wrt=checked + list(range(n, n + len(cotangents))))
    if not report.passed:
        raise GradcheckError("gradgradcheck (second derivatives: the gradient of f's VJP): " + report.message(),
                             report)
    return True
