"""Dropout masks recorded and replayed: gradient checks of layers in training mode."""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, RNN, Dense, Dropout, Layer, Sequential, SimpleRNN, core, recurrent
from layers.tools import gradcheck_layer, record_dropout, replay_dropout

B, T, D, U = 2, 4, 3, 3


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_replay_returns_the_recorded_masks_in_order_and_restores_the_draw():
    mg.seed(0)
    layer = GRU(U, dropout=0.4, recurrent_dropout=0.4)
    x = data(B, T, D).astype(np.float32)
    with record_dropout() as masks:
        first = layer(x, training=True).data
    assert len(masks) == 2 and masks.masks[0][0] == (3, B, D) and masks.masks[1][0] == (3, B, U)
    for _ in range(2):
        with replay_dropout(masks):
            assert np.array_equal(layer(x, training=True).data, first)
    assert not np.array_equal(layer(x, training=True).data, first)   # fresh masks again
    assert recurrent.dropout_mask is core.dropout_mask                 # the original function is back
    with replay_dropout(masks), pytest.raises(ValueError, match="same order"):
        SimpleRNN(U, dropout=0.5)(x, training=True)                    # a different first draw


def test_replay_makes_a_training_mode_gradcheck_pass_that_otherwise_fails():
    mg.seed(1)
    layer = SimpleRNN(U, dropout=0.3, recurrent_dropout=0.3, return_sequences=True)   # float32, fused path
    x = data(B, T, D)
    with pytest.raises(mg.GradcheckError):
        gradcheck_layer(layer, x, training=True, replay=False)      # fresh masks at every evaluation
    assert gradcheck_layer(layer, x, training=True)                 # masks of one pass, replayed
    report = gradcheck_layer(layer, x, training=True, report=True, mode="projection")
    assert report.passed and [c.position for c in report.inputs] == [0, 1, 2, 3]


def test_a_model_with_a_dropout_layer_in_training_mode():
    mg.seed(2)
    model = Sequential([SimpleRNN(U, input_shape=(T, D), return_sequences=True, recurrent_dropout=0.2),
                        Dropout(0.5), Dense(2)])
    x, y = data(B, T, D), data(B, T, 2, seed=1)
    assert gradcheck_layer(model, x, "mse", y=y, training=True, wrt="weights")
    with pytest.raises(mg.GradcheckError):
        gradcheck_layer(model, x, "mse", y=y, training=True, wrt="weights", replay=False)


class _MaskedCell(Layer):
    """A user's cell that asks the RNN for one input mask and one state mask per sequence."""

    def __init__(self, units, rate, **kwargs):
        super().__init__(**kwargs)
        self.units, self.state_size, self.rate = units, units, rate

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units), "orthogonal")

    def dropout_spec(self, batch_size, input_dim):
        return {"x": ((batch_size, input_dim), self.rate), "h": ((batch_size, self.units), self.rate)}

    def call(self, inputs, states, training=False, dropout_masks=None):
        m = dropout_masks or {}
        x = inputs * m["x"] if "x" in m else inputs
        h = states[0] * m["h"] if "h" in m else states[0]
        h = mg.tanh(x @ self.kernel + h @ self.recurrent_kernel)
        return h, [h]


def test_a_user_cells_masks_are_recorded_replayed_and_gradient_checked():
    mg.seed(3)
    layer = RNN(_MaskedCell(U, 0.4), return_sequences=True, go_backwards=True)
    x = data(B, T, D)
    with record_dropout() as masks:
        first = layer(x, training=True).data
    assert [(shape, rate) for shape, rate, _ in masks.masks] == [((B, D), 0.4), ((B, U), 0.4)]
    with replay_dropout(masks):
        np.testing.assert_array_equal(layer(x, training=True).data, first)
    with pytest.raises(mg.GradcheckError):
        gradcheck_layer(layer, x, training=True, replay=False)
    assert gradcheck_layer(layer, x, training=True)
