"""Whole-model files: model.save / layers.load_model (.npz and Keras 2's HDF5 layout), exact resume for every
optimizer, compile settings, stateful states, ModelCheckpoint(save_weights_only=False), failed loads."""
import json
import os

import numpy as np
import pytest

import layers
import minigrad as mg
from layers import GRU, LSTM, Dense, Dropout, Embedding, Input, Model, Sequential, SimpleRNN, load_model
from layers import models as models_module
from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop
from optim.callbacks import ModelCheckpoint

FORMATS = ["npz", pytest.param("h5", marks=pytest.mark.skipif(
    __import__("importlib").util.find_spec("h5py") is None, reason="h5py is not installed"))]

OPTIMIZERS = {
    "sgd-momentum-nesterov-decay": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.01),
    "sgd-momentum": lambda: SGD(lr=0.05, momentum=0.5),
    "rmsprop": lambda: RMSprop(lr=0.01, decay=0.001),
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adam": lambda: Adam(decay=0.01, clipnorm=1.0),
    "adamax": Adamax,
    "nadam": Nadam,
}


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _data(n=24):
    rng = np.random.default_rng(1)
    return rng.integers(1, 10, (n, 6)), np.eye(2)[rng.integers(0, 2, n)]


def _model(optimizer):
    model = Sequential([Embedding(10, 4, input_length=6, mask_zero=True),
                        LSTM(5, dropout=0.2, recurrent_dropout=0.2, return_sequences=True), GRU(3), Dropout(0.3),
                        Dense(2, activation="softmax")])
    model.compile(optimizer, "categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_fit_after_load_continues_bit_for_bit(tmp_path, name, fmt):
    x, y = _data()
    mg.seed(3)
    straight = _model(OPTIMIZERS[name]())
    straight.fit(x, y, epochs=4, batch_size=8, verbose=0)
    mg.seed(3)
    first = _model(OPTIMIZERS[name]())
    first.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / f"run.{fmt}"
    first.save(path)
    assert os.listdir(tmp_path) == [path.name]
    resumed = load_model(path)  # draws nothing from the generator: the shuffles and masks continue as they were
    assert resumed.optimizer.iterations == first.optimizer.iterations == 6
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_resume_in_a_fresh_generator_state_matches_with_the_same_seed(tmp_path):
    x, y = _data()
    first = _model(Adam())
    first.fit(x, y, epochs=1, batch_size=8, verbose=0)
    first.save(tmp_path / "m.npz")
    twin = load_model(tmp_path / "m.npz")
    mg.seed(11)
    first.fit(x, y, epochs=1, batch_size=8, verbose=0)
    mg.seed(11)
    twin.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(first.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt", FORMATS)
def test_compile_settings_come_back(tmp_path, fmt):
    x = Input(shape=(3,))
    a = Dense(2, activation="softmax", name="a")(x)
    b = Dense(1, name="b")(x)
    model = Model(x, [a, b])
    model.compile(RMSprop(lr=0.003, rho=0.8), loss={"a": "categorical_crossentropy", "b": "mse"},
                  metrics={"a": ["accuracy"], "b": ["mae"]}, loss_weights=[0.5, 2.0])
    data = np.random.default_rng(0).standard_normal((4, 3))
    targets = [np.eye(2)[[0, 1, 0, 1]], np.ones((4, 1))]
    model.fit(data, targets, epochs=1, verbose=0)
    model.save(tmp_path / f"m.{fmt}")
    again = load_model(tmp_path / f"m.{fmt}")
    assert isinstance(again.optimizer, RMSprop) and again.optimizer.get_config() == model.optimizer.get_config()
    assert again.loss == {"a": "categorical_crossentropy", "b": "mse"}
    assert again.loss_weights == [0.5, 2.0] and again.metrics_names == model.metrics_names
    assert again.evaluate(data, targets, verbose=0) == model.evaluate(data, targets, verbose=0)
    bare = load_model(tmp_path / f"m.{fmt}", compile=False)
    assert bare.optimizer is None


def custom_loss(y_true, y_pred):
    return ((y_pred - y_true) ** 2).sum(axis=-1) * 0.5


def test_custom_loss_needs_custom_objects(tmp_path):
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", custom_loss)
    model.save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="custom_loss"):
        load_model(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz", custom_objects={"custom_loss": custom_loss})
    assert again.loss is custom_loss
    model.compile("sgd", lambda t, p: ((p - t) ** 2).mean())
    with pytest.raises(ValueError, match="no name"):
        model.save(tmp_path / "m2.npz")
    assert not (tmp_path / "m2.npz").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_stateful_states_are_saved(tmp_path, fmt):
    model = Sequential([SimpleRNN(3, stateful=True, batch_input_shape=(2, 4, 2)), Dense(1)])
    model.compile("sgd", "mse")
    chunk = np.random.default_rng(0).standard_normal((2, 4, 2))
    model.predict(chunk, batch_size=2)
    model.save(tmp_path / f"m.{fmt}")
    again = load_model(tmp_path / f"m.{fmt}")
    np.testing.assert_array_equal(again.layers[0].states[0], model.layers[0].states[0])
    assert np.abs(model.layers[0].states[0]).sum() > 0
    np.testing.assert_array_equal(again.predict(chunk, batch_size=2), model.predict(chunk, batch_size=2))


def test_uncompiled_model_and_load_weights_of_a_model_file(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.optimizer is None
    other = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    other.load_weights(tmp_path / "m.npz")  # a model file is a weight file too
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_file_record_is_plain_json(tmp_path):
    model = _model("adam")
    model.fit(*_data(8), epochs=1, verbose=0)
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        record = json.loads(str(f[models_module.MODEL_KEY]))
        slots = [k for k in f.files if k.startswith("__optimizer__/")]
    assert record["model_config"]["class_name"] == "Sequential"
    assert record["training_config"]["optimizer_config"]["class_name"] == "Adam"
    assert len(slots) == 2 * len(model.weights)  # m and v of every weight, keyed by position


def test_model_checkpoint_saves_whole_models(tmp_path):
    model = _model("adam")
    pattern = str(tmp_path / "ckpt-{epoch:02d}.npz")
    model.fit(*_data(8), epochs=2, verbose=0, callbacks=[ModelCheckpoint(pattern, save_weights_only=False)])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.npz", "ckpt-02.npz"]
    again = load_model(tmp_path / "ckpt-02.npz")
    assert again.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_failed_load_returns_nothing_and_changes_nothing(tmp_path):
    model = _model("adam")
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    key = next(k for k in arrays if k.endswith("/kernel"))
    arrays[key] = arrays[key][:1]
    with open(tmp_path / "bad.npz", "wb") as f:
        np.savez(f, **arrays)
    rng_state = mg.get_rng().bit_generator.state
    with pytest.raises(ValueError, match="bad.npz"):
        load_model(tmp_path / "bad.npz")
    assert mg.get_rng().bit_generator.state == rng_state
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="not a model file"):
        load_model(tmp_path / "w.npz")


def test_to_json_rejects_what_json_cannot_hold():
    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer=lambda shape, dtype: np.zeros(shape, dtype))])
    with pytest.raises(ValueError, match="<lambda>|initializer"):
        layers.model_from_json(model.to_json())
