"""Keras 2 ways of reaching into a model: get_layer, and a Sequential model's input/output, from which a functional
Model can be cut (a feature extractor: Model(model.input, model.layers[-2].output))."""
import numpy as np
import pytest

from layers import LSTM, Dense, Embedding, Input, Model, Sequential


def _stack():
    return Sequential([LSTM(4, input_shape=(5, 3), name="encoder"), Dense(3, activation="relu", name="hidden"),
                       Dense(1, name="head")])


def test_get_layer_by_name_or_index():
    model = _stack()
    assert model.get_layer("hidden") is model.layers[1]
    assert model.get_layer(index=-1) is model.layers[2]
    x = Input(shape=(2,))
    functional = Model(x, Dense(1, name="only")(x))
    assert functional.get_layer("only") is functional.layers[-1]


@pytest.mark.parametrize("kwargs, match", [({}, "name or an index"), ({"name": "nope"}, "no layer named 'nope'"),
                                           ({"index": 3}, "out of range"), ({"index": True}, "out of range")])
def test_get_layer_names_what_is_missing(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _stack().get_layer(**kwargs)


def test_a_feature_extractor_cut_from_a_sequential_model_shares_its_weights():
    model = _stack()
    x = np.random.default_rng(0).standard_normal((6, 5, 3)).astype("float32")
    assert model.input.shape == (None, 5, 3) and model.output.shape == (None, 1)
    features = Model(model.input, model.layers[-2].output)
    hidden = model.layers[1](model.layers[0](x)).data
    np.testing.assert_allclose(features.predict(x), hidden, rtol=1e-6)
    assert features.layers[1] is model.layers[0]  # the same layer objects, the same weights


def test_sequential_input_follows_the_layers_and_the_input_type():
    model = Sequential([Embedding(10, 4, input_length=7), LSTM(2)])
    assert model.input.dtype == "float32" and model.output.shape == (None, 2)
    first = model.input
    model.add(Dense(1))
    assert model.output.shape == (None, 1) and model.input is not first  # rebuilt for the new stack
    int_model = Sequential([Embedding(10, 4, input_length=7, dtype="int32")])
    assert int_model.input.dtype == "int32"
