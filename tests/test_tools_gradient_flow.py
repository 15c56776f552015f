"""Gradient flow through time, against cases with known answers."""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, Dense, Sequential, SimpleRNN
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
