"""Gradient flow through time: how much of the loss's gradient reaches each timestep of a recurrent layer.

    flow = gradient_flow(layer, x, loss='mse', y=y)        # a layer alone, or model=... containing it
    flow.dh_norm            # (T,) ||dL/dh_t|| over the batch; a SimpleRNN's falls geometrically with t -> 0
    flow.shares['recurrent_kernel']   # (T, units, k*units): step t's contribution to dL/dR
    plot_gradient_flow({'SimpleRNN': f1, 'LSTM': f2}, path='flow.png')

How it is measured: the layer runs on its unrolled path (unroll=True, every step on the tape) with identity ops
("probes") inserted at three places; each probe's backward hands its cotangent to the tool and passes it on
unchanged, so the gradients themselves are exactly those of ordinary training:

* on the states each step returns: dL/dh_t (and dL/dc_t for an LSTM), the total derivative through every later
  step and output. An LSTM's c_t is used once more inside its own step, by h_t = o_t act(c_t), before the step
  returns it; a probe on the activation's input catches that path, and the two cotangents add up to dL/dc_t;
* on the input projection z = x W + b (all steps and gates at once): dL/dz^g_t, the cotangent of the gate's
  pre-activation at step t, from which step t's share of the kernel and bias gradients follow:
  dW_g|_t = x_t^T dz^g_t and db_g|_t = sum over the batch of dz^g_t (with x_t dropout-masked as the step saw it);
* on the recurrent kernel as step t reads it: step t's share of dL/dR directly, whatever the cell's equations.

Summed over t, the shares are the full gradients (``flow.grads``). The probes are installed on the layer instance
for the duration of one forward/backward pass and removed afterwards; the weights' ``.grad`` are left as they were.
"""
import contextlib
import functools

import numpy as np

import minigrad as mg

from ..recurrent import RNN
from ._common import (
    as_float_tensor,
    grads_preserved,
    make_loss,
    scalar,
    short_name,
    states_preserved,
)

__all__ = ["GradientFlow", "gradient_flow"]


class _Probe(mg.Function):
    """Identity; its backward hands the cotangent to ``sink`` and passes it on unchanged. (How a tool reads the
    gradient at an intermediate point without a retain-grad mechanism in the core.)"""

    @staticmethod
    def forward(ctx, a, sink=None):
        ctx.sink = sink
        return a

    @staticmethod
    def backward(ctx, g):
        ctx.sink(g)
        return g


def _probe(t, sink):
    return _Probe.apply(t, sink=sink)


def _cells(cell):
    """The cell and every cell it stacks."""
    yield cell
    for inner in getattr(cell, "cells", []):
        yield from _cells(inner)


def _weight_attributes(cell):
    """(owner, attribute name) for every weight of the cell that a cell (or a cell it stacks) holds as an attribute:
    how a step reads its weights, so a probe swapped in there sees that step's use."""
    ids = {id(w) for w in cell.weights}
    return [(c, name) for c in _cells(cell) for name, v in list(vars(c).items())
            if isinstance(v, mg.Tensor) and id(v) in ids]


def _tensors(item):
    """The Tensors of a step input (a Tensor or nested lists/tuples of them), in order."""
    if isinstance(item, mg.Tensor):
        return [item]
    if isinstance(item, (list, tuple)):
        return [t for x in item for t in _tensors(x)]
    return []


def _rebuild(item, tensors):
    """``item`` with its Tensors replaced, in order, by ``tensors`` (an iterator)."""
    if isinstance(item, mg.Tensor):
        return next(tensors)
    if isinstance(item, (list, tuple)):
        return type(item)(_rebuild(x, tensors) for x in item)
    return item


class _Recorder:
    def __init__(self):
        self.calls, self.steps = 0, 0
        self.x = self.dropout_masks = None
        self.d_inputs = {}   # (input index, position) -> cotangent of that Tensor of the step input
        self.dw = {}         # (step, weight key) -> cotangent of the weight as step n read it
        self.ds = {}         # (state number, step) -> cotangent of the state the step returned
        self.act = {}        # (step, call number) -> cotangent at the input of a cell activation
        self.inner = {}      # (state number, step) -> call number whose input was that state

    def add(self, table, key, g):
        table[key] = table.get(key, 0) + np.asarray(g, dtype=np.float64)

    def total(self, i, n, zeros):
        """dL/d(state i after step n): its uses after the step, plus its use inside the step by one of the cell's
        activations (LSTM: h = o act(c))."""
        g = self.ds.get((i, n), zeros)
        j = self.inner.get((i, n))
        return g if j is None or (n, j) not in self.act else g + self.act[(n, j)]


@contextlib.contextmanager
def _instrumented(layer, rec):
    """Run ``layer`` on its tape path through its public step protocol (``step_inputs``, ``step_constants``,
    ``step``), with probes on each step's input, on every weight as each step reads it (the cells' weight attributes
    swapped for probes, and the step's constants made again from them), on the cell's activations, and on the
    states each step returns."""
    cell = layer.cell
    weights = _weight_attributes(cell)
    acts = [(c, name) for c in _cells(cell) for name in ("activation", "recurrent_activation")
            if callable(vars(c).get(name))]
    step_inputs, step_constants, step = layer.step_inputs, layer.step_constants, layer.step

    def probed_step_inputs(x, dropout_masks=None):
        rec.calls += 1
        if rec.calls > 1:
            raise ValueError(f"gradient_flow: layer {layer.name!r} ran more than once in one forward pass (a shared "
                             "layer); its timesteps would be ambiguous")
        rec.x, rec.dropout_masks = x, dropout_masks
        items = step_inputs(x, dropout_masks)
        return [_rebuild(item, iter([_probe(v, functools.partial(rec.add, rec.d_inputs, (t, j)))
                                     for j, v in enumerate(_tensors(item))])) for t, item in enumerate(items)]

    def probed_step(step_input, states, constants, training=False):
        n = rec.steps
        rec.steps += 1
        originals = [(c, name, getattr(c, name)) for c, name in weights]
        originals += [(c, name, getattr(c, name)) for c, name in acts]
        seen = []  # the Tensors a cell activation was applied to in this step, in call order

        def probed(fn):
            def activation(a):
                seen.append(a)
                return fn(_probe(a, functools.partial(rec.add, rec.act, (n, len(seen) - 1))))
            return activation

        try:
            for c, name in weights:
                w = getattr(c, name)
                setattr(c, name, _probe(w, functools.partial(rec.add, rec.dw, (n, id(w)))))
            for c, name in acts:
                setattr(c, name, probed(getattr(c, name)))
            fresh = step_constants(rec.dropout_masks)  # what the step reads of the weights: from the probes
            out, new = step(step_input, states, fresh, training)
        finally:
            for c, name, v in originals:
                setattr(c, name, v)
        for i, s in enumerate(new):
            for j, a in enumerate(seen):
                if a is s:  # the step applied an activation to the very state it returns (LSTM: act(c_t))
                    rec.inner[(i, n)] = j
        probed_states = [_probe(s, functools.partial(rec.add, rec.ds, (i, n))) for i, s in enumerate(new)]
        return (probed_states[0] if out is new[0] else out), probed_states

    unroll = layer.unroll
    layer.unroll = True
    # instance attributes shadow the methods for one pass
    layer.step_inputs, layer.step = probed_step_inputs, probed_step
    try:
        yield
    finally:
        del layer.step_inputs, layer.step
        layer.unroll = unroll


class GradientFlow:
    """Per-timestep gradients of one recurrent layer for one batch and loss.

    Timesteps are in processing order (n = 0 is the first step computed; with go_backwards=True that step read
    input index T-1: ``input_index[n]`` maps back). B = batch, T = timesteps, U = units, k = gates, D = input_dim.

    loss: float. state_names: the layer's state names, ('h',) or ('h', 'c') for the built-in cells.
    state_grads: {name: (B, T, size)}: dL/ds_t for each state s, the total derivative through all later steps
        (and through the cell's own activation of s within step t, as an LSTM's h_t = o_t act(c_t)).
    dh: the first state's (B, T, U); dc: the state named 'c' (an LSTM's cell state), else None.
    dh_norm, dc_norm: (T,) Frobenius norm over batch and units; dh_norm_per_sample, dc_norm_per_sample: (B, T).
    shares: {weight name: (T, *weight shape)}: step t's contribution to each weight's gradient (the built-in
        cells: 'kernel' (T, D, kU), 'recurrent_kernel' (T, U, kU), 'bias' (T, kU) unless use_bias=False; stacked
        cells' weights are named '<cell name>/<weight>'); share_norms: {name: (T,)} their norms.
    grads: {name: array}: the full gradients, equal to the shares summed over t.
    At a masked timestep the step's result is discarded, so its entries are 0.
    """

    def __init__(self, layer, loss, state_grads, shares, grads, input_index):
        self.layer_name, self.units = layer.name, layer.state_size[0]
        self.cell = type(layer).__name__ if hasattr(type(layer), "cell_class") else \
            f"{type(layer).__name__}({type(layer.cell).__name__})"
        self.state_names = tuple(layer.state_names)
        self.truncate_gradient = getattr(layer, "truncate_gradient", -1)
        self.state_grads = state_grads
        dh, dc = state_grads[self.state_names[0]], state_grads.get("c")
        self.loss, self.dh, self.dc = loss, dh, dc
        self.shares, self.grads, self.input_index = shares, grads, input_index
        self.dh_norm_per_sample = np.sqrt((dh ** 2).sum(axis=2))
        self.dh_norm = np.sqrt((dh ** 2).sum(axis=(0, 2)))
        self.dc_norm_per_sample = None if dc is None else np.sqrt((dc ** 2).sum(axis=2))
        self.dc_norm = None if dc is None else np.sqrt((dc ** 2).sum(axis=(0, 2)))
        self.share_norms = {k: np.sqrt((v.reshape(v.shape[0], -1) ** 2).sum(axis=1)) for k, v in shares.items()}

    @property
    def timesteps(self):
        return self.dh.shape[1]

    def state_grad(self, name="h"):
        """(B, T, size) cotangents of state ``name`` ('h', 'c', or any of ``state_names``)."""
        if name == "h" and name not in self.state_grads:
            return self.dh
        if name not in self.state_grads:
            raise ValueError(f"{self.cell} has states {self.state_names}, not {name!r}")
        return self.state_grads[name]

    def unit_map(self, quantity="h"):
        """(U', T) map over (unit, timestep) for a heatmap: mean over the batch of |dL/dh_{t,u}| for a state
        ('h', 'c'); for a weight name, the norm of step t's share over each column (gate unit), U' = k*units."""
        if quantity in ("h", "c") or quantity in self.state_grads:
            return np.abs(self.state_grad(quantity)).mean(axis=0).T
        if quantity not in self.shares:
            raise ValueError(f"unknown quantity {quantity!r}; expected 'h', 'c' or one of {sorted(self.shares)}")
        s = self.shares[quantity]
        s = s[:, None, :] if s.ndim == 2 else s
        return np.sqrt((s ** 2).sum(axis=1)).T

    def curve(self, quantity="h"):
        """(T,) norms over time: ||dL/dh_t|| ('h'), ||dL/dc_t|| ('c') or the norm of step t's share of a weight."""
        if quantity == "h":
            return self.dh_norm
        if quantity == "c":
            self.state_grad("c")
            return self.dc_norm
        if quantity not in self.share_norms:
            raise ValueError(f"unknown quantity {quantity!r}; expected 'h', 'c' or one of {sorted(self.shares)}")
        return self.share_norms[quantity]

    def __repr__(self):
        n = self.dh_norm
        return (f"GradientFlow({self.cell} {self.layer_name!r}, T={self.timesteps}, loss={self.loss:.4g}, "
                f"||dL/dh_0||={n[0]:.3g}, ||dL/dh_T||={n[-1]:.3g})")


def gradient_flow(layer, x, loss=None, y=None, model=None, training=False, initial_state=None, mask=None, seed=0):
    """Per-timestep gradients of ``layer`` (any RNN: SimpleRNN, GRU, LSTM, RNN over a user's cell) for the batch
    ``x``; returns a ``GradientFlow``.

    layer: the recurrent layer to observe. model: None to run the layer alone on ``x`` ((batch, timesteps,
        input_dim), with ``initial_state`` and ``mask`` passed on); or a model containing it (a Sequential or Model,
        or any callable ``model(x, training=...)`` that calls the layer once), run on ``x``.
    loss: a callable out -> scalar Tensor; a loss name ('mse', ...) or callable (y_true, y_pred) with targets
        ``y``; or None: L = sum(v * out) with a fixed random v (seeded by ``seed``), every output weighted alike.
    training: run in training mode (dropout masks drawn as in training).
    The layer runs on its tape path (its ``unroll`` is restored afterwards), so any truncate_gradient applies. A
    stateful layer starts from its carried states and keeps them: the pass does not advance them. The layer is
    observed through its public step protocol (``RNN.step_inputs`` / ``step_constants`` / ``step``) and its cell's
    weight and activation attributes, so a user's cell is observed like a built-in one.
    """
    if not isinstance(layer, RNN):
        raise TypeError(f"gradient_flow observes a recurrent layer (an RNN: SimpleRNN, GRU, LSTM, RNN(cell)), got "
                        f"{type(layer).__name__}")
    loss_fn = make_loss(loss, y, "gradient_flow")
    rec = _Recorder()
    carriers = [layer] + list(getattr(model, "layers", []) if model is not None else [])
    with states_preserved(carriers), _instrumented(layer, rec), mg.enable_grad():
        if model is None:
            out = layer(x if isinstance(x, mg.Tensor) else as_float_tensor(x, layer.dtype), training=training,
                        initial_state=initial_state, mask=mask)
        else:
            out = model(x, training=training)
        if loss_fn is None:
            outs = out if isinstance(out, (list, tuple)) else [out]
            rng = np.random.default_rng(seed)
            L = None
            for o in outs:
                term = (o * rng.standard_normal(o.shape)).sum()
                L = term if L is None else L + term
        else:
            L = scalar(loss_fn(out), "gradient_flow")
    if rec.calls == 0:
        raise ValueError(f"gradient_flow: layer {layer.name!r} did not run in the forward pass of the model")
    weights = _named_weights(layer)
    with grads_preserved(mg.leaves([L]) + list(weights.values())):
        if L.requires_grad:
            L.backward()
        grads = {k: np.zeros(w.shape) if w.grad is None else np.array(w.grad, dtype=np.float64)
                 for k, w in weights.items()}
    return _assemble(layer, rec, float(L.data), grads, weights)


def _named_weights(layer):
    """{name: weight}: short names ('kernel', ...) when they are unique, else the names after the layer's prefix
    (stacked cells: '<cell name>/kernel')."""
    ws = layer.weights
    short = [short_name(w) for w in ws]
    if len(set(short)) == len(short):
        return dict(zip(short, ws))
    names = [w.name or f"weight_{i}" for i, w in enumerate(ws)]
    return {(name.split("/", 1)[-1] if name.count("/") > 1 else name): w for name, w in zip(names, ws)}


def _projection_shares(layer, rec, weights, T):
    """Step t's share of the weights that ``step_inputs`` reads once for all steps (the built-in cells: the input
    product x W + b): the vector-Jacobian product of the step inputs of timestep t alone, seeded with their
    cotangents from the pass (a step input depends on its own timestep only). {(input index, id(w)): array}."""
    cell = layer.cell
    if not callable(getattr(cell, "step_inputs", None)) or not rec.d_inputs:
        return {}
    out = {}
    for t in range(T):
        with grads_preserved(list(weights.values())), mg.enable_grad():
            x_t = mg.Tensor(np.ascontiguousarray(rec.x.data[:, t:t + 1].transpose(1, 0, 2)))  # time-major
            (item,) = cell.step_inputs(x_t, rec.dropout_masks)
            total = None
            for j, v in enumerate(_tensors(item)):
                g = rec.d_inputs.get((t, j))
                if g is not None and v.requires_grad:
                    term = (v * g).sum()
                    total = term if total is None else total + term
            if total is None:
                continue
            total.backward()
            for w in weights.values():
                if w.grad is not None:
                    out[(t, id(w))] = np.array(w.grad, dtype=np.float64)
    return out


def _assemble(layer, rec, loss, grads, weights):
    rows, T = rec.x.shape[:2]                 # the sequence the layer ran (k copies of the batch if truncated)
    order = np.arange(T - 1, -1, -1) if layer.go_backwards else np.arange(T)
    k = layer.truncate_gradient
    copies = k if layer.return_sequences and 0 < k < T else 1   # a truncated layer runs k copies of the batch
    B = rows // copies

    def per_sample(g, size):
        g = np.asarray(g, dtype=np.float64)
        return g.reshape(copies, B, size).sum(axis=0) if copies > 1 else g

    state_grads = {}
    for i, (name, size) in enumerate(zip(layer.state_names, layer.state_size)):
        zeros = np.zeros((rows, size))
        state_grads[name] = np.stack([per_sample(rec.total(i, n, zeros), size) for n in range(T)], axis=1)
    projected = _projection_shares(layer, rec, weights, T)
    shares = {}
    for key, w in weights.items():
        steps = []
        for n in range(T):
            share = np.zeros(w.shape)
            if (n, id(w)) in rec.dw:
                share = share + rec.dw[(n, id(w))]
            if (order[n], id(w)) in projected:
                share = share + projected[(order[n], id(w))]
            steps.append(share)
        shares[key] = np.stack(steps)
    return GradientFlow(layer, loss, state_grads, shares, grads, order)
