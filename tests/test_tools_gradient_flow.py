"""Gradient flow through time, against cases with known answers."""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, RNN, Dense, GRUCell, Layer, Sequential, SimpleRNN, activations
from layers.tools import gradient_flow, record_dropout, replay_dropout

B, T, D, U = 3, 7, 2, 4


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_linear_simple_rnn_gradient_is_a_power_of_the_recurrent_weight():
    # h_t = x_t W + h_{t-1} R, L = sum(h_T * v)  =>  dL/dh_t = v (R^T)^(T-1-t), per sample
    layer = SimpleRNN(U, activation="linear", dtype="float64")
    x, v = data(B, T, D), data(B, U, seed=1)
    layer(x)
    R = layer.recurrent_kernel.data
    flow = gradient_flow(layer, x, loss=lambda h: (h * v).sum())
    for t in range(T):
        expected = v @ np.linalg.matrix_power(R.T, T - 1 - t)
        assert np.allclose(flow.dh[:, t], expected)
        assert np.allclose(flow.dh_norm_per_sample[:, t], np.linalg.norm(expected, axis=1))
    assert np.allclose(flow.dh_norm, np.sqrt((flow.dh_norm_per_sample ** 2).sum(axis=0)))
    # step t's share of dL/dR is h_{t-1}^T dL/dh_t (h_{-1} = 0), of dL/dW is x_t^T dL/dh_t
    h = layer.__class__(U, activation="linear", dtype="float64", return_sequences=True)
    h(x)
    h.set_weights(layer.get_weights())
    hs = h(x).data
    prev = np.concatenate([np.zeros((B, 1, U)), hs[:, :-1]], axis=1)
    for t in range(T):
        assert np.allclose(flow.shares["recurrent_kernel"][t], prev[:, t].T @ flow.dh[:, t])
        assert np.allclose(flow.shares["kernel"][t], x[:, t].T @ flow.dh[:, t])
        assert np.allclose(flow.shares["bias"][t], flow.dh[:, t].sum(axis=0))
    assert flow.dc is None and layer.unroll is False        # the layer is left as it was


@pytest.mark.parametrize("cls,kw", [(GRU, dict(go_backwards=True, return_sequences=True)),
                                    (LSTM, dict(dropout=0.3, recurrent_dropout=0.3, return_sequences=True)),
                                    (SimpleRNN, dict(implementation=2, dropout=0.2))])
def test_shares_add_up_to_the_full_gradient(cls, kw):
    mg.seed(1)
    layer = cls(U, dtype="float64", **kw)
    x = data(B, T, D)
    layer(x)
    training = "dropout" in kw
    loss = lambda out: (out ** 2).sum()                     # noqa: E731
    with record_dropout() as masks:
        flow = gradient_flow(layer, x, loss=loss, training=training)
    for w in layer.weights:
        assert w.grad is None                               # the tool leaves no gradient behind
    with replay_dropout(masks):                             # the same masks, on the fused path
        loss(layer(x, training=training)).backward()
    for name, w in zip(["kernel", "recurrent_kernel", "bias"], layer.weights):
        assert flow.shares[name].shape[0] == T
        assert np.allclose(flow.shares[name].sum(axis=0), w.grad)
        assert np.allclose(flow.grads[name], w.grad)
    if cls is GRU:
        assert list(flow.input_index) == list(range(T - 1, -1, -1))


def test_lstm_cell_gradient_includes_the_path_through_h_of_the_same_step():
    # dL/dc_t = (dL/dc_t through c_{t+1}) + dL/dh_t * o_t * tanh'(c_t); both halves from two runs split at t
    layer = LSTM(U, dtype="float64")
    x, v = data(B, T, D), data(B, U, seed=2)
    layer(x)
    loss = lambda h: (h * v).sum()                          # noqa: E731
    flow = gradient_flow(layer, x, loss=loss)
    t = 3
    first = LSTM(U, dtype="float64", return_state=True)
    first(x)
    first.set_weights(layer.get_weights())
    _, h, c = first(x[:, :t + 1])
    h0, c0 = mg.Tensor(h.data.copy(), requires_grad=True), mg.Tensor(c.data.copy(), requires_grad=True)
    loss(layer(x[:, t + 1:], initial_state=[h0, c0])).backward()
    o = h.data / np.tanh(c.data)                            # h = o tanh(c)
    assert np.allclose(flow.dh[:, t], h0.grad)
    assert np.allclose(flow.dc[:, t], c0.grad + h0.grad * o * (1 - np.tanh(c.data) ** 2))
    assert flow.dc_norm.shape == (T,) and flow.unit_map("c").shape == (U, T)


def test_vanishing_gradient_of_a_simple_rnn_next_to_an_lstm_over_100_steps():
    mg.seed(0)
    x = mg.get_rng().standard_normal((4, 100, 3)).astype(np.float32)
    rnn, lstm = SimpleRNN(8), LSTM(8)
    rnn(x)
    lstm(x)
    w = lstm.get_weights()
    w[2][8:16] = 3.0    # forget gate open: hard_sigmoid(3 + ...) = 1, the cell carries its error unchanged
    lstm.set_weights(w)
    loss = lambda h: h.sum()                                # noqa: E731  a loss on the last output only
    f_rnn, f_lstm = gradient_flow(rnn, x, loss=loss), gradient_flow(lstm, x, loss=loss)
    rnn_decay = f_rnn.dh_norm[0] / f_rnn.dh_norm[-1]
    lstm_decay = f_lstm.dc_norm[0] / f_lstm.dc_norm[-1]
    assert rnn_decay < 1e-8                                 # vanished over 100 steps
    assert lstm_decay > 1e-2                                # kept through the cell state
    assert np.all(np.diff(np.log(f_rnn.dh_norm[50:])) > 0)  # falls steadily going back in time


def test_layer_inside_a_model_and_a_truncated_layer():
    mg.seed(3)
    model = Sequential([SimpleRNN(U, input_shape=(T, D), truncate_gradient=3), Dense(1)])
    x, y = data(B, T, D).astype(np.float32), np.zeros((B, 1), np.float32)
    flow = gradient_flow(model.layers[0], x, "mse", y=y, model=model)
    assert flow.dh.shape == (B, T, U) and flow.loss > 0
    assert np.all(flow.dh_norm[:T - 3] == 0) and np.all(flow.dh_norm[T - 3:] > 0)   # cut 3 steps back
    with pytest.raises(TypeError, match="recurrent"):
        gradient_flow(model.layers[1], x, "mse", y=y, model=model)


class _PeepholeCell(Layer):
    """A user's LSTM-like cell: its output gate looks at the new cell state, and h = o * act(c) goes through the
    cell's ``activation`` attribute (how gradient_flow sees that c_t is used again inside its own step)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size, self.state_names = units, [units, units], ("h", "c")
        self.activation = activations.tanh

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1] + u, 3 * u), "glorot_uniform")
        self.peephole = self.add_weight("peephole", (u,), "ones")

    def call(self, inputs, states, training=False):
        h, c = states
        a_f, a_c, a_o = mg.split(mg.concatenate([inputs, h], axis=-1) @ self.kernel, 3, axis=-1)
        f = mg.sigmoid(a_f)
        c = f * c + (1 - f) * mg.tanh(a_c)
        o = mg.sigmoid(a_o + self.peephole * c)
        return o * self.activation(c), [o * self.activation(c), c]


def test_a_user_cell_stacked_with_a_builtin_cell_shares_add_up():
    layer = RNN([_PeepholeCell(3), GRUCell(2)], return_sequences=True, dtype="float64")
    x = data(B, T, D)
    layer(x)
    loss = lambda out: (out ** 2).sum()                     # noqa: E731
    flow = gradient_flow(layer, x, loss=loss)
    assert flow.state_names == ("h_0", "c_0", "h_1") and flow.dc is None
    assert flow.state_grad("c_0").shape == (B, T, 3) and flow.dh.shape == (B, T, 3)
    loss(layer(x)).backward()
    assert sorted(flow.grads) == sorted(w.name for w in layer.weights)   # '<cell name>/<weight>': kernels twice
    for w in layer.weights:
        name = w.name
        np.testing.assert_allclose(flow.shares[name].sum(axis=0), w.grad, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(flow.grads[name], w.grad, rtol=1e-12)


def test_a_user_cells_state_gradient_includes_its_use_inside_the_step():
    # dL/dc_t = (through c_{t+1}) + dL/dh_t * o_t * tanh'(c_t): the same split-at-t check as for the LSTM
    cell = _PeepholeCell(U)
    layer = RNN(cell, dtype="float64")
    x, v = data(B, T, D), data(B, U, seed=2)
    layer(x)
    loss = lambda h: (h * v).sum()                          # noqa: E731
    flow = gradient_flow(layer, x, loss=loss)
    t = 2
    first = RNN(_PeepholeCell(U), return_state=True, dtype="float64")
    first(x)
    first.set_weights(layer.get_weights())
    _, h, c = first(x[:, :t + 1])
    h0, c0 = mg.Tensor(h.data.copy(), requires_grad=True), mg.Tensor(c.data.copy(), requires_grad=True)
    loss(layer(x[:, t + 1:], initial_state=[h0, c0])).backward()
    o = h.data / np.tanh(c.data)
    np.testing.assert_allclose(flow.dh[:, t], h0.grad, rtol=1e-10)
    np.testing.assert_allclose(flow.dc[:, t], c0.grad + h0.grad * o * (1 - np.tanh(c.data) ** 2), rtol=1e-10)
    assert cell.activation is activations.tanh and layer.unroll is False     # the layer is left as it was
