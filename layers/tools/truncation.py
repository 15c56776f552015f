"""Truncated backprop through time, checked exactly.

BPTT truncated at k, BPTT(k) (Williams & Peng 1990): the gradient of each output h_t flows back through its last
k steps only, t-k+1 .. t; the state before them, h_{t-k}, counts as a constant. A recurrent layer trains this way
with ``truncate_gradient=k`` (``SimpleRNN(8, truncate_gradient=5)``; -1, the default, is full BPTT).

The reference here defines the truncated gradient as the exact gradient of an ordinary function, so a
finite-difference check can test it:

    Phi_k(W) = L(h^_1(W), ..., h^_T(W)),    h^_t(W) = the last k steps re-run from the frozen state h*_{t-k}

where the frozen states h* are computed once, at the point being checked, and then held fixed (they come from a
frozen copy of the weights and inputs): perturbing W or x moves only the last k steps of each output. At that
point h^_t = h_t, so Phi_k has the layer's value, and dPhi_k/dW = sum_t dL/dh_t dh^_t/dW is exactly the truncated
gradient: every path from an output back more than k steps is cut by the freezing.

    check_truncated_bptt(layer, x, loss)    # the layer's own truncated BPTT vs central differences of Phi_k
    truncated_gradient(layer, x, loss, k)   # the reference gradient itself (the tape of Phi_k)
    f, inputs = truncated_objective(layer, x, loss, k);  mg.gradcheck(f, inputs)

The reference re-runs k steps per output: O(T k) steps, for checking, not training.
"""
import contextlib

import numpy as np

import minigrad as mg

from ..recurrent import RNN
from ._common import as_float_tensor, make_loss, scalar, short_name
from .dropout import record_dropout, replay_dropout

__all__ = ["truncated_forward", "truncated_objective", "truncated_gradient", "check_truncated_bptt"]


def _prepare(layer, x, initial_state, mask, training):
    """What ``RNN.call`` computes before its loop, through the layer's public step protocol: the initial states,
    the (batch, timesteps) mask, the dropout masks, the step inputs and the sequence's step constants."""
    states = layer.get_initial_state(x, initial_state)
    if mask is not None:
        mask = np.asarray(mask.data if isinstance(mask, mg.Tensor) else mask, dtype=bool)
        if mask.shape != tuple(x.shape[:2]):
            raise ValueError(f"truncated_forward: mask of shape {mask.shape} does not match the input's (batch, "
                             f"timesteps) {tuple(x.shape[:2])}")
        if mask.all():
            mask = None
    dropout_masks = layer.draw_dropout_masks(x, training)
    return states, mask, layer.step_inputs(x, dropout_masks), layer.step_constants(dropout_masks)


def _run(layer, steps, constants, states, output, order, mask, training):
    """Steps ``order`` (input indices) from ``states`` and the output before them; returns, after each step, the
    pair (output, states), with masked steps carrying both (as ``RNN.call``)."""
    after = []
    for t in order:
        out, new = layer.step(steps[t], states, constants, training)
        output_is_state = out is new[0]  # the built-in cells: the output is h, carried with the states
        if mask is not None:
            keep = mask[:, t:t + 1]
            new = [mg.where(keep, n, o) for n, o in zip(new, states)]
            out = new[0] if output_is_state else mg.where(keep, out, output)
        states, output = new, out
        after.append((output, states))
    return after


def truncated_forward(layer, x, k, initial_state=None, mask=None, training=False):
    """The layer's output, computed so that its exact gradient is BPTT truncated at ``k`` (Phi_k's forward pass).

    layer: a built RNN (SimpleRNN, GRU, LSTM, RNN over any cell); x: (batch, timesteps, input_dim); k: how many
    steps each output's gradient reaches back (an integer >= 1; k >= timesteps, or -1, is full BPTT). Returns what
    ``layer(x, ...)`` returns (an output of shape (batch, output_size) or, with return_sequences, (batch,
    timesteps, output_size); plus the final states with return_state=True), equal to it in value. Each output
    (in processing order) is recomputed by its last k steps from the output and states k steps before it,
    computed without gradient in a first pass. Dropout masks are drawn
    as ``layer.call`` draws them (use ``replay_dropout`` to line them up with another pass); a stateful layer's
    states are read, not updated.
    """
    return _truncated_forward(layer, x, k, initial_state, mask, training)[0]


def _truncated_forward(layer, x, k, initial_state, mask, training, frozen=None):
    """``truncated_forward``, returning (output, frozen): ``frozen`` lists, per processing step, the (output, state)
    arrays after it; given back, the frozen values are reused instead of recomputed (the frozen copy of Phi_k)."""
    if not isinstance(layer, RNN):
        raise TypeError(f"truncated_forward needs a recurrent layer (an RNN), got {type(layer).__name__}")
    if not layer.built:
        raise RuntimeError(f"layer {layer.name!r} is not built: call it once on an input first")
    x = x if isinstance(x, mg.Tensor) else as_float_tensor(x, layer.dtype)
    if x.dtype != layer.compute_dtype(x):
        x = x.astype(layer.compute_dtype(x))
    T = x.shape[1]
    k = _check_k(k, "truncated_forward")
    k = T if k == -1 or k >= T else k
    states, mask, steps, constants = _prepare(layer, x, initial_state, mask, training)
    start_output = layer.initial_output(states)
    order = list(range(T - 1, -1, -1)) if layer.go_backwards else list(range(T))
    if frozen is None:
        with mg.no_grad():  # the output and states after every step, as constants
            frozen = [(o.data, [s.data for s in st])
                      for o, st in _run(layer, steps, constants, states, start_output, order, mask, training)]
    wanted = range(T) if layer.return_sequences else [T - 1]
    outs = {}
    for n in wanted:
        start = n - k + 1
        # the initial states are inputs, so they stay live; a later start begins from constants
        if start <= 0:
            begin, output = states, start_output
        else:
            output, begin = mg.Tensor(frozen[start - 1][0]), [mg.Tensor(s) for s in frozen[start - 1][1]]
        outs[n] = _run(layer, steps, constants, begin, output, order[max(start, 0):n + 1], mask, training)[-1]
    last_output, finals = outs[T - 1]
    output = mg.stack([outs[n][0] for n in range(T)], axis=1) if layer.return_sequences else last_output
    return ([output, *finals] if layer.return_state else output), frozen


def _check_k(k, what):
    """k: an integer >= 1 or -1 (full BPTT); a bool, a float such as 2.5, or 0 is refused."""
    if k is None:
        return -1
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not (k == -1 or k >= 1):
        raise ValueError(f"{what}: k must be an integer number of steps >= 1, or -1 (full BPTT), got {k!r}")
    return int(k)


def _weights(layer):
    return [w for w in layer.weights if w.requires_grad]


def truncated_objective(layer, x, loss=None, k=None, y=None, initial_state=None, mask=None, training=False):
    """``(f, inputs)`` for ``mg.gradcheck(f, inputs)``: f(x, *weights) = Phi_k, the loss of ``truncated_forward``,
    whose tape gradient is the reference truncated gradient. inputs = [x as a Tensor requiring grad, *the layer's
    trainable weights]. loss: a callable out -> scalar, a name/callable with ``y``, or None (f returns the output
    itself, which gradcheck reduces with a random cotangent). k defaults to ``layer.truncate_gradient``.
    The frozen states are computed by the first call of f (gradcheck's first call is at the point it checks, in
    float64) and reused by every later call. With training=True, the dropout masks are drawn once here and
    replayed on every call of f."""
    k = layer.truncate_gradient if k is None else _check_k(k, "truncated_objective")
    loss_fn = make_loss(loss, y, "truncated_objective")
    xt = as_float_tensor(x, layer.dtype, requires_grad=True)
    record = None
    if training:
        with record_dropout() as record, mg.no_grad():
            truncated_forward(layer, xt, k, initial_state, mask, training)
    frozen = []

    def f(xv, *weights):
        ctx = replay_dropout(record) if record is not None else contextlib.nullcontext()
        with ctx:
            out, fz = _truncated_forward(layer, xv, k, initial_state, mask, training, frozen[0] if frozen else None)
        frozen[:] = [fz]
        return scalar(loss_fn(out), "truncated_objective") if loss_fn is not None else out

    return f, [xt, *_weights(layer)]


def truncated_gradient(layer, x, loss=None, k=None, y=None, initial_state=None, mask=None, training=False):
    """The reference truncated gradient (the tape of Phi_k): {'input': (batch, timesteps, input_dim),
    'kernel': ..., 'recurrent_kernel': ..., 'bias': ...} as float64 arrays. Without a loss, L = sum of the output
    (and of the final states with return_state). The weights' ``.grad`` are left as they were."""
    f, inputs = truncated_objective(layer, x, loss, k, y, initial_state, mask, training)
    saved = [(t, t.grad) for t in inputs]
    try:
        for t in inputs:
            t.grad = None
        with mg.enable_grad():
            out = f(*inputs)
            if isinstance(out, (list, tuple)):
                total = None
                for o in out:
                    total = o.sum() if total is None else total + o.sum()
                out = total
            elif out.size != 1:
                out = out.sum()
            out.backward()
        names = ["input"] + [short_name(w) for w in inputs[1:]]
        return {n: np.zeros(t.shape) if t.grad is None else np.array(t.grad, dtype=np.float64)
                for n, t in zip(names, inputs)}
    finally:
        for t, g in saved:
            t.grad = g


def check_truncated_bptt(layer, x, loss=None, k=None, y=None, initial_state=None, mask=None, training=False,
                         report=False, **gradcheck_kwargs):
    """Gradient-check the layer's own truncated BPTT against central differences of Phi_k.

    The checked function has the value of Phi_k (the reference objective at depth ``k``, default the layer's
    ``truncate_gradient``) and the tape gradient of the layer's ordinary forward pass, ``layer(x)``, so the check
    passes exactly when the layer's backward pass equals the gradient of BPTT truncated at k (to the usual
    tolerance): f = L(layer(x)) - L(layer(x)).value + Phi_k.value.
    Checks the input x and the layer's trainable weights (float64 replay). loss: as ``truncated_objective``.
    training=True: the dropout masks of the first pass are replayed on every pass (the layer's and Phi_k's).
    Returns True or raises ``mg.GradcheckError``; with report=True returns the ``GradcheckReport`` instead.
    """
    if not isinstance(layer, RNN):
        raise TypeError(f"check_truncated_bptt needs a recurrent layer (an RNN), got {type(layer).__name__}")
    k = layer.truncate_gradient if k is None else _check_k(k, "check_truncated_bptt")
    loss_fn = make_loss(loss, y, "check_truncated_bptt")
    xt = as_float_tensor(x, layer.dtype, requires_grad=True)
    if not layer.built:
        with mg.no_grad():
            layer(xt, initial_state=initial_state, mask=mask)
    stateful_states = list(layer.states) if layer.stateful else None
    record = None
    if training:  # the masks of one pass, replayed to the layer's pass and to Phi_k's alike
        with record_dropout() as record, mg.no_grad():
            layer(xt, initial_state=initial_state, mask=mask, training=True)
    frozen = []

    def restart():  # every pass of a stateful layer starts from the same carried states
        if stateful_states is not None:
            layer.states = list(stateful_states)

    def f(xv, *weights):
        ctx = replay_dropout(record) if record is not None else contextlib.nullcontext()
        with ctx:
            restart()
            live = layer(xv, initial_state=initial_state, mask=mask, training=training)
            restart()
            with mg.no_grad():  # the first pass (gradcheck's, at the checked point) fixes the frozen states
                ref, fz = _truncated_forward(layer, xv, k, initial_state, mask, training,
                                             frozen[0] if frozen else None)
                frozen[:] = [fz]
        if loss_fn is not None:
            live, ref = [scalar(loss_fn(live), "check_truncated_bptt")], [loss_fn(ref)]
        elif not isinstance(live, (list, tuple)):
            live, ref = [live], [ref]
        # value of the reference, gradient of the layer: the check compares exactly these two
        out = [a - a.data + b.data for a, b in zip(live, ref)]
        return out[0] if len(out) == 1 else out

    try:
        inputs = [xt, *_weights(layer)]
        if report:
            return mg.gradcheck_report(f, inputs, **gradcheck_kwargs)
        return mg.gradcheck(f, inputs, **gradcheck_kwargs)
    finally:
        restart()  # the checked passes must not advance a stateful layer
