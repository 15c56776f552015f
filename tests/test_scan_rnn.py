"""RNN over a user's cell runs its loop as one replayed tape entry (minigrad.scan): the same function and the same
gradients as the tape path (unroll=True, every op of every step recorded), for every sequence option.

Oracles: the same layer with ``unroll=True`` (outputs, states, and the gradients of the input, the initial states
and every weight, in float64), and float64 central differences (gradcheck_layer, mg.gradcheck).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from user_cells import ProjectedCell

import minigrad as mg
from layers import (
    RNN,
    GRUCell,
    Layer,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    activations,
)
from layers.tools import (
    check_truncated_bptt,
    gradcheck_layer,
    gradient_flow,
    record_dropout,
    replay_dropout,
)
from layers.wrappers import Bidirectional

RTOL, ATOL = 1e-10, 1e-12


class TanhCell(Layer):
    """h = tanh(x W + h R)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units), "orthogonal")

    def call(self, inputs, states, training=False):
        h = mg.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h, [h]


class UserLSTMCell(Layer):
    """The LSTM written by a user: states [h, c], one product per operand, sigmoid gates."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, [units, units]

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], 4 * u), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 4 * u), "orthogonal")
        self.bias = self.add_weight("bias", (4 * u,), "zeros")

    def call(self, inputs, states, training=False):
        h, c = states
        i, f, g, o = mg.split(inputs @ self.kernel + h @ self.recurrent_kernel + self.bias, 4, axis=-1)
        c = mg.sigmoid(f) * c + mg.sigmoid(i) * mg.tanh(g)
        h = mg.sigmoid(o) * mg.tanh(c)
        return h, [h, c]


class UserGRUCell(Layer):
    """A GRU written by a user, with variational dropout masks asked of the RNN; the reset gate applied before the
    product with a slice of the recurrent kernel (a slice of a weight at every step)."""

    def __init__(self, units, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], 3 * u), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 3 * u), "orthogonal")
        self.bias = self.add_weight("bias", (3 * u,), "zeros")

    def dropout_spec(self, batch_size, input_dim):
        return {"inputs": ((batch_size, input_dim), self.dropout),
                "state": ((batch_size, self.units), self.recurrent_dropout)}

    def call(self, inputs, states, training=False, dropout_masks=None):
        masks, u = dropout_masks or {}, self.units
        x, h = inputs, states[0]
        if masks.get("inputs") is not None:
            x = x * masks["inputs"]
        hm = h if masks.get("state") is None else h * masks["state"]
        x_zr, x_h = mg.split(x @ self.kernel + self.bias, [2 * u], axis=-1)
        z, r = mg.split(mg.hard_sigmoid(x_zr + hm @ self.recurrent_kernel[:, :2 * u]), 2, axis=-1)
        hh = mg.tanh(x_h + (r * hm) @ self.recurrent_kernel[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]


class PeepholeCell(Layer):
    """An LSTM with peepholes (one weight per unit looking at c), split out of one weight at every step."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size = units, [units, units]
        self.activation, self.recurrent_activation = activations.tanh, activations.sigmoid

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], 4 * u), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (u, 4 * u), "orthogonal")
        self.peephole = self.add_weight("peephole", (3, u), "glorot_uniform")
        self.bias = self.add_weight("bias", (4 * u,), "zeros")

    def call(self, inputs, states, training=False):
        h, c = states
        a_i, a_f, a_c, a_o = mg.split(inputs @ self.kernel + h @ self.recurrent_kernel + self.bias, 4, axis=-1)
        p_i, p_f, p_o = mg.split(self.peephole, 3)
        i = self.recurrent_activation(a_i + p_i * c)
        f = self.recurrent_activation(a_f + p_f * c)
        c = f * c + i * self.activation(a_c)
        o = self.recurrent_activation(a_o + p_o * c)
        return o * self.activation(c), [o * self.activation(c), c]


def softsign_activation(a):
    """An activation the fused kernels do not know (a user's function): the built-in cell has no fused kernel."""
    return a / (1 + mg.abs(a))


CELLS = {
    "tanh": lambda: TanhCell(3),
    "lstm": lambda: UserLSTMCell(3),
    "gru": lambda: UserGRUCell(3, dropout=0.3, recurrent_dropout=0.4),
    "projected": lambda: ProjectedCell(3, 2),
    "peephole": lambda: PeepholeCell(2),
    "stack of user cells": lambda: [TanhCell(3), UserLSTMCell(2)],
    "user cell on a built-in cell": lambda: [LSTMCell(3, dropout=0.2, recurrent_dropout=0.3, implementation=1),
                                             UserGRUCell(2, dropout=0.2)],
    "built-in cells on a user cell": lambda: [UserLSTMCell(3), GRUCell(2, recurrent_dropout=0.3, implementation=2),
                                              SimpleRNNCell(2, dropout=0.2)],
    "built-in LSTM, a user's activation": lambda: LSTMCell(3, activation=softsign_activation, dropout=0.2,
                                                           recurrent_dropout=0.3, implementation=1),
    "built-in GRU, a user's activation": lambda: GRUCell(3, recurrent_activation=softsign_activation,
                                                         reset_after=True, recurrent_dropout=0.3),
    "built-in SimpleRNN, a user's activation": lambda: SimpleRNNCell(2, activation=softsign_activation, dropout=0.3,
                                                                     implementation=2),
}


def build(cell, dim, seed, **kwargs):
    layer = RNN(cell, dtype="float64", **kwargs)
    layer._maybe_build((None, None, dim))
    rng = np.random.default_rng(seed)
    layer.set_weights([0.7 * rng.standard_normal(w.shape) for w in layer.get_weights()])
    return layer


def outputs_and_gradients(layer, x, initial_state, mask, training, record, seed=11):
    """One forward and backward pass: (the outputs, the gradients of x, the initial states and every weight, the
    ops on the tape)."""
    leaves = [x] + list(initial_state or []) + list(layer.weights)
    for t in leaves:
        t.grad = None
    with replay_dropout(record) if record is not None else _nothing():
        out = layer(x, initial_state=initial_state, mask=mask, training=training)
    outs = out if isinstance(out, list) else [out]
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        term = (o * rng.standard_normal(o.shape)).sum()
        loss = term if loss is None else loss + term
    ops = [e.op for e in mg.tape(loss)]
    loss.backward()
    return [o.data.copy() for o in outs], [None if t.grad is None else t.grad.copy() for t in leaves], ops


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def assert_scan_is_the_tape(layer, x, initial_state=None, mask=None, training=False):
    record = None
    if training:
        with record_dropout() as record, mg.no_grad():
            layer(x, initial_state=initial_state, mask=mask, training=True)
        if not len(record):
            record = None
    layer.unroll = True
    want, want_grads, tape_ops = outputs_and_gradients(layer, x, initial_state, mask, training, record)
    layer.unroll = False
    got, got_grads, scan_ops = outputs_and_gradients(layer, x, initial_state, mask, training, record)
    assert scan_ops.count("Scan") == 1 and "Scan" not in tape_ops
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    for a, b in zip(got_grads, want_grads):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@given(st.sampled_from(sorted(CELLS)), st.integers(1, 3), st.integers(2, 6), st.booleans(), st.booleans(),
       st.booleans(), st.booleans(), st.booleans(), st.booleans(), st.integers(0, 10 ** 6))
def test_property_the_scan_path_is_the_tape_path(name, batch, steps, masked, go_backwards, return_sequences,
                                                 return_state, with_states, training, seed):
    dim = 2
    layer = build(CELLS[name](), dim, seed, return_sequences=return_sequences, return_state=return_state,
                  go_backwards=go_backwards)
    rng = np.random.default_rng(seed + 1)
    x = mg.Tensor(rng.standard_normal((batch, steps, dim)), requires_grad=True)
    initial_state = None
    if with_states:
        initial_state = [mg.Tensor(rng.standard_normal((batch, s)), requires_grad=True) for s in layer.state_size]
    mask = None
    if masked:
        mask = rng.random((batch, steps)) > 0.35
        mask[0, 0] = False                                   # a leading masked step: the initial output repeats
    assert_scan_is_the_tape(layer, x, initial_state, mask, training)


@pytest.mark.parametrize("name", ["lstm", "gru", "projected", "user cell on a built-in cell"])
def test_gradcheck_of_the_scan_path(name):
    layer = build(CELLS[name](), 2, 0, return_sequences=True)
    x = np.random.default_rng(1).standard_normal((2, 4, 2))
    mask = np.array([[False, True, True, False], [True, True, False, True]])
    assert gradcheck_layer(layer, x, mask=mask)
    assert gradcheck_layer(layer, x, training=True)          # dropout masks recorded and replayed


def test_the_scan_path_is_differentiable_twice_like_the_tape_path():
    layer = build(UserLSTMCell(3), 2, 0, return_sequences=True)
    x = mg.Tensor(np.random.default_rng(2).standard_normal((2, 4, 2)), requires_grad=True)
    v = np.random.default_rng(3).standard_normal((3, 12))
    results = []
    for unroll in (True, False):
        layer.unroll = unroll
        g, = mg.gradients((layer(x, mask=np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)) ** 2).sum(),
                          [layer.cell.recurrent_kernel], create_graph=True)
        results.append([t.data for t in mg.gradients((g * v).sum(), [x, *layer.weights])])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_stateful_bidirectional_and_the_teaching_tools_on_the_scan_path():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 2))
    stateful = build(TanhCell(3), 2, 0, stateful=True, return_sequences=True, batch_input_shape=(2, None, 2))
    plain = build(TanhCell(3), 2, 0, return_sequences=True, unroll=True)
    first, second = stateful(x[:, :3]), stateful(x[:, 3:])
    np.testing.assert_allclose(np.concatenate([first.data, second.data], axis=1), plain(x).data, rtol=1e-12)
    both = Bidirectional(RNN(UserLSTMCell(2), return_sequences=True, dtype="float64"))
    out = both(x)
    assert out.shape == (2, 5, 4) and [e.op for e in mg.tape(out)].count("Scan") == 2
    # the tools force the tape path where they look at every step
    layer = build(UserLSTMCell(3), 2, 1, return_sequences=True)
    flow = gradient_flow(layer, x, loss=lambda out: (out ** 2).sum())
    (layer(x) ** 2).sum().backward()
    np.testing.assert_allclose(flow.shares["recurrent_kernel"].sum(axis=0), layer.cell.recurrent_kernel.grad,
                               rtol=1e-10, atol=1e-12)
    assert layer.unroll is False
    truncated = build(UserLSTMCell(3), 2, 1, return_sequences=True, truncate_gradient=2)
    assert "Scan" not in [e.op for e in mg.tape(truncated(x))]
    assert check_truncated_bptt(truncated, x, lambda out: (out ** 2).sum())
    with mg.track_ops():
        ops = [e for e in mg.tape(layer(x)) if e.op == "Sigmoid"]
    assert len(ops) == 3 * 5 and {e.timestep for e in ops} == set(range(5))


class UnscannableCell(TanhCell):
    """Python control flow on the step's values: a different program at different steps."""

    def call(self, inputs, states, training=False):
        h = states[0]
        if float(inputs.data.sum()) > 0:
            return super().call(inputs, states, training)
        h = mg.sigmoid(inputs @ self.kernel - h @ self.recurrent_kernel)
        return h, [h]


class OptedOutCell(TanhCell):
    scannable = False


@pytest.mark.parametrize("cell", [UnscannableCell(3), OptedOutCell(3)])
def test_a_cell_that_cannot_or_will_not_be_replayed_runs_on_the_tape(cell):
    layer = build(cell, 2, 0, return_sequences=True)
    x = np.ones((2, 4, 2))
    x[:, 1] = -1
    out = layer(mg.Tensor(x, requires_grad=True))
    ops = [e.op for e in mg.tape(out)]
    assert "Scan" not in ops and ops.count("Tanh") + ops.count("Sigmoid") == 4
    layer.unroll = True
    np.testing.assert_allclose(out.data, layer(x).data, rtol=1e-12)


def test_the_built_in_cells_keep_their_fused_kernel_and_are_scanned_without_one():
    for cell in (LSTMCell(3), StackedRNNCells([GRUCell(3), LSTMCell(2)])):
        ops = [e.op for e in mg.tape(RNN(cell, return_sequences=True)(np.ones((2, 4, 2), np.float32)))]
        assert "Scan" not in ops and "FusedRNN" in ops
    # an activation the kernels do not know: no fused kernel, the step replayed (input product made before it)
    layer = RNN(LSTMCell(3, activation=softsign_activation), return_sequences=True)
    ops = [e.op for e in mg.tape(layer(np.ones((2, 4, 2), np.float32)))]
    assert "Scan" in ops and "FusedRNN" not in ops and ops.count("MatMul") == 1
