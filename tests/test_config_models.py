"""Model configs: Sequential and functional get_config/from_config (Keras 2's layouts), to_json/model_from_json,
custom_objects, concrete initial states in a graph, names."""
import json

import numpy as np
import pytest

import layers
import minigrad as mg
from layers import (
    LSTM,
    Dense,
    Dropout,
    Embedding,
    Input,
    Layer,
    Model,
    Sequential,
    SimpleRNN,
    TimeDistributed,
    initializers,
    regularizers,
    serialization,
)


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _same_predictions(a, b, x):
    pa, pb = a.predict(x), b.predict(x)
    pa, pb = (pa, pb) if isinstance(pa, list) else ([pa], [pb])
    return all(np.array_equal(u, v) for u, v in zip(pa, pb))


def _copy(model):
    again = layers.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    return again


# ------------------------------------------------------------ Sequential

def test_sequential_config_round_trip_keeps_names_and_function():
    model = Sequential([Embedding(10, 3, input_length=4, mask_zero=True), SimpleRNN(5, return_sequences=True),
                        TimeDistributed(Dense(2, activation="softmax")), Dropout(0.25)], name="sequential_701")
    config = model.get_config()
    assert config["name"] == "sequential_701" and [c["class_name"] for c in config["layers"]] == \
        ["Embedding", "SimpleRNN", "TimeDistributed", "Dropout"]
    again = Sequential.from_config(json.loads(json.dumps(config)))
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert again.name == model.name and json.dumps(again.get_config()) == json.dumps(config)
    again.set_weights(model.get_weights())
    assert _same_predictions(model, again, np.array([[1, 2, 0, 0], [3, 4, 5, 6]]))
    assert int(Sequential().name.rsplit("_", 1)[1]) > 701


def test_sequential_reads_keras_2_0_list_config():
    listed = [{"class_name": "Dense", "config": {"name": "dense_1", "units": 3, "activation": "relu",
                                                 "batch_input_shape": [None, 4], "dtype": "float32",
                                                 "trainable": True, "use_bias": True}},
              {"class_name": "Dense", "config": {"name": "dense_2", "units": 1, "activation": "sigmoid"}}]
    model = Sequential.from_config(listed)
    assert model.output_shape == (None, 1) and model.layers[0].activation.__name__ == "relu"
    same = layers.deserialize({"class_name": "Sequential", "config": listed})
    assert [layer.name for layer in same.layers] == ["dense_1", "dense_2"]
    with pytest.raises(TypeError, match="Sequential.from_config"):
        layers.model_from_config(listed)


def test_frozen_model_stays_frozen():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.trainable = False
    again = Sequential.from_config(model.get_config())
    assert again.trainable is False and again.trainable_weights == []


# ------------------------------------------------------------ functional

def _encoder_decoder():
    enc_in = Input(shape=(None, 3), name="enc_in")
    _, h, c = LSTM(4, return_state=True, name="encoder")(enc_in)
    dec_in = Input(shape=(None, 3), name="dec_in")
    shared = Dense(4, activation="tanh", name="bridge")
    seq = LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[shared(h), shared(c)])
    out = TimeDistributed(Dense(2, activation="softmax"), name="head")(seq)
    return Model([enc_in, dec_in], out, name="s2s")


def test_functional_config_is_keras_2s_layout():
    config = _encoder_decoder().get_config()
    by_name = {entry["name"]: entry for entry in config["layers"]}
    assert set(config) == {"name", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["enc_in", 0, 0], ["dec_in", 0, 0]]
    assert config["output_layers"] == [["head", 0, 0]]
    assert by_name["enc_in"]["class_name"] == "InputLayer" and by_name["enc_in"]["inbound_nodes"] == []
    assert by_name["enc_in"]["config"]["batch_input_shape"] == (None, None, 3)
    assert by_name["bridge"]["inbound_nodes"] == [[["encoder", 0, 1, {}]], [["encoder", 0, 2, {}]]]
    # the initial states follow the input, as Keras 2.0.8 lists them
    assert by_name["decoder"]["inbound_nodes"] == [[["dec_in", 0, 0, {}], ["bridge", 0, 0, {}], ["bridge", 1, 0, {}]]]


def test_functional_round_trip_through_json():
    model = _encoder_decoder()
    again = _copy(model)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert json.loads(again.to_json()) == json.loads(model.to_json())
    x = [_data(2, 5, 3), _data(2, 4, 3, seed=1)]
    assert _same_predictions(model, again, x)


def test_nested_models_count_their_calls_from_one_as_in_keras():
    inner = Sequential([Dense(3, input_shape=(2,))], name="inner_seq")
    x = Input(shape=(2,))
    out = inner(Dense(2)(inner(x)))  # called twice: nodes 1 and 2 (node 0 is a Keras model's own graph)
    model = Model(x, out)
    config = model.get_config()
    entries = {e["name"]: e for e in config["layers"]}
    assert len(entries["inner_seq"]["inbound_nodes"]) == 2
    assert config["output_layers"] == [["inner_seq", 2, 0]]
    again = Model.from_config(json.loads(json.dumps(config)))
    again.set_weights(model.get_weights())
    assert _same_predictions(model, again, _data(3, 2))


def test_keras_2_0_8_seq2seq_config_loads():
    """A config in the form Keras 2.0.8 wrote (initial states as extra inbound tensors, Keras' argument names)."""
    lstm = {"units": 4, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": True,
            "return_sequences": False, "return_state": True, "go_backwards": False, "stateful": False,
            "unroll": False, "implementation": 0, "dropout": 0.0, "recurrent_dropout": 0.0, "trainable": True}
    config = {
        "name": "model_1",
        "layers": [
            {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, None, 3], "dtype": "float32", "sparse": False,
                        "name": "input_1"}},
            {"name": "lstm_1", "class_name": "LSTM", "config": dict(lstm, name="lstm_1"),
             "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {"name": "input_2", "class_name": "InputLayer", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, None, 3], "dtype": "float32", "sparse": False,
                        "name": "input_2"}},
            {"name": "lstm_2", "class_name": "LSTM",
             "config": dict(lstm, name="lstm_2", return_sequences=True, return_state=False),
             "inbound_nodes": [[["input_2", 0, 0, {}], ["lstm_1", 0, 1, {}], ["lstm_1", 0, 2, {}]]]},
            {"name": "dense_1", "class_name": "Dense",
             "config": {"name": "dense_1", "units": 2, "activation": "softmax", "use_bias": True,
                        "kernel_initializer": {"class_name": "VarianceScaling",
                                               "config": {"scale": 1.0, "mode": "fan_avg",
                                                          "distribution": "uniform", "seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
                        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
                        "bias_constraint": None, "trainable": True},
             "inbound_nodes": [[["lstm_2", 0, 0, {}]]]}],
        "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]],
        "output_layers": [["dense_1", 0, 0]]}
    model = layers.model_from_json(json.dumps({"class_name": "Model", "config": config, "keras_version": "2.0.8",
                                               "backend": "tensorflow"}))
    assert model.output_shape == (None, None, 2)
    decoder = model.layers[3]
    enc, dec = _data(2, 5, 3), _data(2, 4, 3, seed=1)
    _, h, c = model.layers[1](enc)
    want = model.layers[4](decoder(dec, initial_state=[h, c])).data
    np.testing.assert_allclose(model.predict([enc, dec]), want, rtol=1e-6)


def test_concrete_initial_state_in_a_graph_and_its_config():
    h0, c0 = _data(2, 3), _data(2, 3, seed=1)
    x = Input(shape=(4, 2))
    lstm = LSTM(3)
    model = Model(x, lstm(x, initial_state=[h0, c0]))
    data = _data(2, 4, 2, seed=2)
    np.testing.assert_array_equal(model.predict(data), lstm(data, initial_state=[h0, c0]).data)
    h0[:] = 0  # the graph keeps its own copy
    assert not np.array_equal(model.predict(data), lstm(data).data)
    again = _copy(model)
    assert _same_predictions(model, again, data)
    with pytest.raises(ValueError, match="initial state 0"):
        LSTM(3)(x, initial_state=[np.zeros((2, 5)), np.zeros((2, 3))])


# ------------------------------------------------------------ the user's own objects

class Scale(Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs, mask=None, training=False):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def shifted_tanh(x):
    return mg.tanh(x) + 0.5


class Half(regularizers.Regularizer):
    def __call__(self, w):
        return 0.5 * (w * w).sum()


def test_custom_objects_rebuild_user_layers_and_functions():
    model = Sequential([Dense(3, input_shape=(2,), activation=shifted_tanh, kernel_regularizer=Half()),
                        Scale(3.0)])
    text = model.to_json()
    with pytest.raises(ValueError, match="shifted_tanh"):
        layers.model_from_json(text)
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'"):
        layers.model_from_json(text, custom_objects={"shifted_tanh": shifted_tanh, "Half": Half})
    again = layers.model_from_json(text, custom_objects={"shifted_tanh": shifted_tanh, "Half": Half,
                                                         "Scale": Scale})
    again.set_weights(model.get_weights())
    assert again.layers[0].activation is shifted_tanh and isinstance(again.layers[0].kernel.regularizer, Half)
    assert _same_predictions(model, again, _data(3, 2))


def test_user_function_named_like_a_builtin_is_refused():
    def tanh(x):
        return 2 * mg.tanh(x)
    with pytest.raises(ValueError, match="like the built-in"):
        Dense(2, activation=tanh).get_config()


def test_a_lambda_cannot_come_back():
    model = Sequential([Dense(2, input_shape=(3,), activation=lambda x: x * 2)])
    with pytest.raises(ValueError, match="<lambda>"):
        layers.model_from_json(model.to_json())


def test_initializer_and_regularizer_configs():
    layer = Dense(2, kernel_initializer=initializers.RandomNormal(0.5, 0.1, seed=3),
                  kernel_regularizer=regularizers.l1_l2(0.1, 0.2))
    config = layer.get_config()
    assert config["kernel_initializer"] == {"class_name": "RandomNormal",
                                            "config": {"mean": 0.5, "stddev": 0.1, "seed": 3}}
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    again = Dense.from_config(config)
    assert again.kernel_initializer.get_config() == {"mean": 0.5, "stddev": 0.1, "seed": 3}
    np.testing.assert_array_equal(again.kernel_initializer((2, 2)), layer.kernel_initializer((2, 2)))


def test_serialization_checks_depth():
    deep = {"class_name": "Dense", "config": {"units": 1}}
    for _ in range(serialization.MAX_DEPTH + 5):
        deep = {"class_name": "TimeDistributed", "config": {"layer": deep}}
    with pytest.raises(ValueError, match="nested"):
        serialization.deserialize(deep)
