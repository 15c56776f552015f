"""Truncated BPTT: the layer argument, the reference objective, and a gradient check that tells k from k+1."""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, RNN, Layer, SimpleRNN
from layers.tools import check_truncated_bptt, truncated_forward, truncated_gradient, truncated_objective

B, T, D, U = 2, 6, 2, 3


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def built(cls, **kw):
    layer = cls(U, dtype="float64", **kw)
    layer(data(B, T, D))
    return layer


@pytest.mark.parametrize("cls,kw", [(SimpleRNN, {}), (SimpleRNN, dict(return_sequences=True, go_backwards=True)),
                                    (GRU, dict(return_sequences=True)), (LSTM, {})])
def test_truncated_layer_passes_at_k_and_fails_at_k_plus_1(cls, kw):
    layer = built(cls, truncate_gradient=2, **kw)
    y = data(*layer(data(B, T, D)).shape, seed=1)
    x = data(B, T, D, seed=2)
    assert check_truncated_bptt(layer, x, "mse", y=y)                  # k = layer.truncate_gradient
    with pytest.raises(mg.GradcheckError):
        check_truncated_bptt(layer, x, "mse", y=y, k=3)                # a deliberately wrong truncation
    full = built(cls, **kw)
    full.set_weights(layer.get_weights())
    assert check_truncated_bptt(full, x, "mse", y=y)                   # -1: full BPTT, the plain objective
    with pytest.raises(mg.GradcheckError):
        check_truncated_bptt(full, x, "mse", y=y, k=2)                 # full BPTT is not BPTT(2)


def test_truncation_with_masks_and_dropout_in_training_mode():
    mg.seed(4)
    layer = built(LSTM, truncate_gradient=2, return_sequences=True, dropout=0.3, recurrent_dropout=0.3)
    mask = np.ones((B, T), bool)
    mask[0, 2] = mask[1, 4] = False
    y, x = data(B, T, U, seed=1), data(B, T, D, seed=2)
    assert check_truncated_bptt(layer, x, "mse", y=y, mask=mask, training=True)
    with pytest.raises(mg.GradcheckError):
        check_truncated_bptt(layer, x, "mse", y=y, mask=mask, training=True, k=1)


def test_reference_gradient_matches_the_layer_and_is_gradcheckable():
    layer = built(GRU, truncate_gradient=3, return_sequences=True)
    x, y = data(B, T, D, seed=5), data(B, T, U, seed=6)
    ref = truncated_gradient(layer, x, "mse", y=y)
    xt = mg.Tensor(x, requires_grad=True)
    from optim import losses
    losses.get("mse")(y, layer(xt)).backward()
    assert np.allclose(ref["input"], xt.grad)
    for name, w in zip(["kernel", "recurrent_kernel", "bias"], layer.weights):
        assert np.allclose(ref[name], w.grad)
    f, inputs = truncated_objective(layer, x, "mse", y=y)
    assert mg.gradcheck(f, inputs, mode="projection")
    assert np.allclose(truncated_forward(layer, x, 3).data, layer(x).data)   # same value as the layer


def test_linear_rnn_truncated_gradient_has_a_known_answer():
    # L = sum(h_T v), h_t = x_t W + h_{t-1} R: dL/dx_t = v (R^T)^(T-1-t) W^T for the last k steps, 0 before
    k = 2
    layer = built(SimpleRNN, activation="linear", use_bias=False, truncate_gradient=k)
    x, v = data(B, T, D, seed=7), data(B, U, seed=8)
    xt = mg.Tensor(x, requires_grad=True)
    (layer(xt) * v).sum().backward()
    W, R = layer.kernel.data, layer.recurrent_kernel.data
    for t in range(T):
        expected = v @ np.linalg.matrix_power(R.T, T - 1 - t) @ W.T if t >= T - k else np.zeros((B, D))
        assert np.allclose(xt.grad[:, t], expected)


def test_truncate_gradient_argument():
    layer = SimpleRNN(4, truncate_gradient=5)
    assert layer.truncate_gradient == 5 and layer.get_config()["truncate_gradient"] == 5
    assert SimpleRNN(4).truncate_gradient == -1
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="truncate_gradient"):
            SimpleRNN(4, truncate_gradient=bad)
    # k >= timesteps is full BPTT, and keeps the fused path's value
    a, b = built(LSTM, truncate_gradient=T), built(LSTM)
    b.set_weights(a.get_weights())
    x = data(B, T, D, seed=9)
    assert np.allclose(a(x).data, b(x).data)


class _ReadoutCell(Layer):
    """A user's cell whose output (a readout of size 1) is not one of its states: the truncated reference must carry
    the output over masked steps like the layer does."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size, self.output_size = units, units, 1

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units), "orthogonal")
        self.readout = self.add_weight("readout", (self.units, 1), "glorot_uniform")

    def call(self, inputs, states, training=False):
        h = mg.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return h @ self.readout, [h]


@pytest.mark.parametrize("kw", [dict(return_sequences=True), dict(return_sequences=True, go_backwards=True),
                                dict(return_state=True)])
def test_a_user_cell_truncated_with_masks(kw):
    layer = RNN(_ReadoutCell(U), truncate_gradient=2, dtype="float64", **kw)
    x = data(B, T, D, seed=2)
    layer(x)
    mask = np.ones((B, T), bool)
    mask[0, :2] = mask[1, 3] = False                   # leading masked steps output zeros (the readout's size)
    assert np.allclose(truncated_forward(layer, x, 2, mask=mask)[0].data if kw.get("return_state") else
                       truncated_forward(layer, x, 2, mask=mask).data,
                       (layer(x, mask=mask)[0] if kw.get("return_state") else layer(x, mask=mask)).data)
    assert check_truncated_bptt(layer, x, mask=mask)
    with pytest.raises(mg.GradcheckError):
        check_truncated_bptt(layer, x, mask=mask, k=3)
