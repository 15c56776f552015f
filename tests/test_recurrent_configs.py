"""Configs of the recurrent layers, cells and wrappers: every constructor argument listed, JSON-safe, and
``from_config`` (or ``layers.deserialize``) giving back an equivalent layer."""
import inspect
import json

import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Layer, LSTMCell, SimpleRNN, constraints, regularizers
from layers.recurrent import SimpleRNNCell, StackedRNNCells
from layers.serialization import deserialize, serialize

B, T, D = 2, 4, 3


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def round_trip(layer, custom_objects=None):
    config = serialize(layer)
    text = json.dumps(config)                       # JSON-safe
    again = deserialize(json.loads(text), custom_objects=custom_objects)
    assert type(again) is type(layer)
    assert serialize(again) == config               # the config comes back identical
    return again


def same_function(a, b, x, **call):
    a(x, **call)
    b(x, **call)
    b.set_weights(a.get_weights())
    for p, q in zip(*(out if isinstance(out, list) else [out] for out in (a(x, **call), b(x, **call)))):
        np.testing.assert_array_equal(p.data, q.data)


def constructor_arguments(cls, extra=()):
    init = getattr(cls.__init__, "__wrapped__", cls.__init__)
    names = {n for n, p in inspect.signature(init).parameters.items()
             if n != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return names | set(extra)


def test_the_issues_lstm_comes_back_identical():
    layer = LSTM(5, recurrent_activation="sigmoid", kernel_regularizer=regularizers.l2(0.01), unit_forget_bias=False,
                 dtype="float64", return_sequences=True, name="probe")
    again = round_trip(layer)
    assert again.recurrent_activation.__name__ == "sigmoid" and again.unit_forget_bias is False
    assert regularizers.get(again.kernel_regularizer).get_config() == {"l1": 0.0, "l2": 0.01}
    assert again.name == "probe" and again.dtype == np.float64
    same_function(layer, again, data(B, T, D))


@pytest.mark.parametrize("cls, extra", [(SimpleRNN, SimpleRNN.cell_args), (GRU, GRU.cell_args),
                                        (LSTM, LSTM.cell_args)])
def test_every_constructor_argument_is_listed(cls, extra):
    config = cls(2).get_config()
    missing = constructor_arguments(cls, extra) - set(config)
    assert not missing, missing


@pytest.mark.parametrize("cell", [SimpleRNNCell(3), GRUCell(3), LSTMCell(3)])
def test_cells_list_their_arguments(cell):
    config = cell.get_config()
    assert not constructor_arguments(type(cell), ("dropout", "recurrent_dropout", "implementation", "use_bias",
                                                  "kernel_initializer", "bias_constraint")) - set(config)
    round_trip(cell)


OPTIONS = dict(activation="softsign", use_bias=False, kernel_initializer="ones", recurrent_initializer="he_normal",
               kernel_regularizer=regularizers.l1(0.5), recurrent_constraint=constraints.max_norm(2.0),
               dropout=0.25, recurrent_dropout=0.5, implementation=2, return_sequences=True, return_state=True,
               go_backwards=True, stateful=False, unroll=True, truncate_gradient=3)


@pytest.mark.parametrize("cls, extra", [(SimpleRNN, {}), (GRU, dict(recurrent_activation="relu", reset_after=True)),
                                        (LSTM, dict(recurrent_activation="tanh", unit_forget_bias=False))])
def test_non_default_arguments_round_trip(cls, extra):
    layer = cls(3, **OPTIONS, **extra)
    again = round_trip(layer)
    for name in list(OPTIONS) + list(extra):
        value = getattr(again, name)
        if name.endswith("activation"):
            value = value.__name__
        elif name.endswith("regularizer"):
            assert regularizers.get(value).get_config() == getattr(layer, name).get_config(), name
            continue
        elif name.endswith("constraint"):
            assert constraints.get(value).get_config() == getattr(layer, name).get_config(), name
            continue
        elif name.endswith("initializer"):
            continue
        assert value == (OPTIONS | extra)[name], name
    same_function(layer, again, data(B, T, D))


def test_rnn_stacked_cells_and_bidirectional_round_trip():
    stacked = RNN(StackedRNNCells([LSTMCell(3, dropout=0.1), GRUCell(2, reset_after=True)]), return_state=True,
                  go_backwards=True)
    again = round_trip(stacked)
    assert [type(c) for c in again.cell.cells] == [LSTMCell, GRUCell] and again.cell.cells[1].reset_after
    same_function(stacked, again, data(B, T, D))
    bi = Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode=None)
    again = round_trip(bi)
    assert again.merge_mode is None and again.backward_layer.go_backwards
    same_function(bi, again, data(B, T, D))


def test_a_user_cell_through_custom_objects():
    class ScaledCell(Layer):
        def __init__(self, units, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.scale, self.state_size = units, scale, units

        def build(self, input_shape):
            self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), "glorot_uniform")

        def call(self, inputs, states, training=False):
            h = mg.tanh(inputs @ self.kernel * self.scale + states[0])
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units, "scale": self.scale}

    layer = RNN(ScaledCell(2, scale=0.5), return_sequences=True)
    with pytest.raises(ValueError, match="ScaledCell.*custom_objects"):
        deserialize(serialize(layer))
    again = round_trip(layer, custom_objects={"ScaledCell": ScaledCell})
    assert again.cell.scale == 0.5
    same_function(layer, again, data(B, T, D))


def test_an_argument_that_cannot_be_serialized_is_named():
    layer = LSTM(2, kernel_initializer=lambda shape, dtype=None: np.zeros(shape, dtype))
    with pytest.raises(ValueError, match="kernel_initializer"):
        layer.get_config()
    with pytest.raises(ValueError, match="cell"):
        RNN.from_config({"name": "r"})
