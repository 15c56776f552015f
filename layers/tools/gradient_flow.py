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

from ..recurrent import Recurrent
from ._common import as_float_tensor, graph_leaves, grads_preserved, make_loss, scalar, short_name, states_preserved

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


class _Recorder:
    def __init__(self):
        self.calls, self.steps = 0, 0
        self.x = self.x_masks = None
        self.dz = None       # dL/dz, z = x W + b: (B, T, kU) by input index
        self.dR, self.ds = {}, {}
        self.act = {}        # (step, call number) -> cotangent at the input of the cell's activation
        self.inner = {}      # (state number, step) -> call number whose input was that state

    def set_dz(self, g):  # g: the projection's cotangent, time-major (T, B, kU)
        self.dz = np.asarray(g, dtype=np.float64).transpose(1, 0, 2)

    def state(self, i, n, g):
        # a truncated layer (truncate_gradient) carries (copies, batch, units) states: the copies' cotangents add up
        self.ds[(i, n)] = self.ds.get((i, n), 0) + (g.sum(axis=0) if g.ndim == 3 else g)

    def activation_input(self, n, j, g):
        self.act[(n, j)] = g.sum(axis=0) if g.ndim == 3 else g

    def total(self, i, n, zeros):
        """dL/d(state i after step n): its uses after the step, plus its use inside the step (LSTM: h = o act(c))."""
        g = self.ds.get((i, n), zeros)
        j = self.inner.get((i, n))
        return g if j is None or (n, j) not in self.act else g + self.act[(n, j)]


@contextlib.contextmanager
def _instrumented(layer, rec):
    """Run ``layer`` unrolled, with probes on its step states, gate projections and per-step recurrent kernel."""
    project, step = layer._input_projection, layer._step

    def probed_projection(x, x_masks):
        rec.calls += 1
        if rec.calls > 1:
            raise ValueError(f"gradient_flow: layer {layer.name!r} ran more than once in one forward pass (a shared "
                             "layer); its timesteps would be ambiguous")
        rec.x, rec.x_masks = x, x_masks
        return _Probe.apply(project(x, x_masks), sink=rec.set_dz)

    def probed_step(x_t, states, h_masks):
        n = rec.steps
        rec.steps += 1
        R = layer.recurrent_kernel
        layer.recurrent_kernel = _Probe.apply(R, sink=functools.partial(rec.dR.__setitem__, n))
        seen = []  # the Tensors the cell's activation was applied to in this step, in call order

        def probed_activation(a):
            seen.append(a)
            return activation(_Probe.apply(a, sink=functools.partial(rec.activation_input, n, len(seen) - 1)))

        layer.activation = probed_activation
        try:
            new = step(x_t, states, h_masks)
        finally:
            layer.recurrent_kernel, layer.activation = R, activation
        for i, s in enumerate(new):
            for j, a in enumerate(seen):
                if a is s:  # the step applied the activation to the very state it returns (LSTM: act(c_t))
                    rec.inner[(i, n)] = j
        return [_Probe.apply(s, sink=functools.partial(rec.state, i, n)) for i, s in enumerate(new)]

    unroll, activation = layer.unroll, layer.activation
    layer.unroll = True
    layer._input_projection, layer._step = probed_projection, probed_step  # instance attributes shadow the methods
    try:
        yield
    finally:
        del layer._input_projection, layer._step
        layer.unroll, layer.activation = unroll, activation


class GradientFlow:
    """Per-timestep gradients of one recurrent layer for one batch and loss.

    Timesteps are in processing order (n = 0 is the first step computed; with go_backwards=True that step read
    input index T-1: ``input_index[n]`` maps back). B = batch, T = timesteps, U = units, k = gates, D = input_dim.

    loss: float. state_names: ('h',) or ('h', 'c').
    dh: (B, T, U) dL/dh_t, the total derivative through all later steps; dc: same for an LSTM's cell state, else None.
    dh_norm, dc_norm: (T,) Frobenius norm over batch and units; dh_norm_per_sample, dc_norm_per_sample: (B, T).
    shares: {'kernel': (T, D, kU), 'recurrent_kernel': (T, U, kU), 'bias': (T, kU)}: step t's contribution to
        each weight's gradient (bias absent with use_bias=False); share_norms: {name: (T,)} their norms.
    grads: {name: array}: the full gradients, equal to the shares summed over t.
    At a masked timestep the step's result is discarded, so its entries are 0.
    """

    def __init__(self, layer, loss, dh, dc, shares, grads, input_index):
        self.layer_name, self.cell, self.units = layer.name, type(layer).__name__, layer.units
        self.state_names = tuple(layer.state_names)
        self.truncate_gradient = getattr(layer, "truncate_gradient", -1)
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
        """(B, T, U) cotangents of state ``name`` ('h' or 'c')."""
        if name == "h":
            return self.dh
        if name == "c" and self.dc is not None:
            return self.dc
        raise ValueError(f"{self.cell} has states {self.state_names}, not {name!r}")

    def unit_map(self, quantity="h"):
        """(U', T) map over (unit, timestep) for a heatmap: mean over the batch of |dL/dh_{t,u}| for a state
        ('h', 'c'); for a weight name, the norm of step t's share over each column (gate unit), U' = k*units."""
        if quantity in ("h", "c"):
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
    """Per-timestep gradients of ``layer`` (SimpleRNN, GRU, LSTM) for the batch ``x``; returns a ``GradientFlow``.

    layer: the recurrent layer to observe. model: None to run the layer alone on ``x`` ((batch, timesteps,
        input_dim), with ``initial_state`` and ``mask`` passed on); or a model containing it (a Sequential or Model,
        or any callable ``model(x, training=...)`` that calls the layer once), run on ``x``.
    loss: a callable out -> scalar Tensor; a loss name ('mse', ...) or callable (y_true, y_pred) with targets
        ``y``; or None: L = sum(v * out) with a fixed random v (seeded by ``seed``), every output weighted alike.
    training: run in training mode (dropout masks drawn as in training).
    The layer runs unrolled (its ``unroll`` is restored afterwards), so any truncate_gradient applies. A stateful
    layer starts from its carried states and keeps them: the pass does not advance them.
    """
    if not isinstance(layer, Recurrent):
        raise TypeError(f"gradient_flow observes a recurrent layer (SimpleRNN, GRU, LSTM), got {type(layer).__name__}")
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
    weights = {short_name(w): w for w in layer.weights}
    with grads_preserved(graph_leaves([L]) + list(weights.values())):
        if L.requires_grad:
            L.backward()
        grads = {k: np.zeros(w.shape) if w.grad is None else np.array(w.grad, dtype=np.float64)
                 for k, w in weights.items()}
    return _assemble(layer, rec, float(L.data), grads)


def _assemble(layer, rec, loss, grads):
    xs = np.asarray(rec.x.data, dtype=np.float64)
    B, T, _ = xs.shape
    U, k = layer.units, layer.n_gates
    order = np.arange(T - 1, -1, -1) if layer.go_backwards else np.arange(T)
    zeros = np.zeros((B, U))
    states = [np.stack([rec.total(i, n, zeros) for n in range(T)], axis=1).astype(np.float64)
              for i in range(len(layer.state_names))]
    kernel, bias = [], []
    for g in range(k):
        dz = np.zeros((B, T, U)) if rec.dz is None else rec.dz[:, :, g * U:(g + 1) * U]  # (B, T, U), input index
        m = rec.x_masks
        xm = xs if m is None else xs * np.asarray(m if m.ndim == 2 else m[g])[:, None, :]
        kernel.append(np.einsum("btd,btu->tdu", xm, dz)[order])              # x_t^T dz_t, in processing order
        bias.append(dz.sum(axis=0)[order])
    shares = {"kernel": np.concatenate(kernel, axis=2)}
    R_zero = np.zeros(layer.recurrent_kernel.shape)
    shares["recurrent_kernel"] = np.stack([np.asarray(rec.dR.get(n, R_zero), dtype=np.float64) for n in range(T)])
    if layer.bias is not None:
        shares["bias"] = np.concatenate(bias, axis=1)
    return GradientFlow(layer, loss, states[0], states[1] if len(states) > 1 else None, shares, grads, order)
