"""A Sequential model is a Layer: called eagerly and symbolically, nested in Sequential and functional models,
wrapped in TimeDistributed; weights, masks, training, summary and files keep working."""
import numpy as np
import pytest

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
    load_model,
)


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _mlp():
    return Sequential([Dense(4, input_shape=(3,), activation="tanh"), Dense(2)])


def test_is_a_layer_and_calls_eagerly_on_the_tape():
    inner = _mlp()
    assert isinstance(inner, Layer)
    x = mg.Tensor(_x(5, 3), requires_grad=True)
    out = inner(x)
    assert isinstance(out, mg.Tensor) and out.shape == (5, 2)
    out.sum().backward()
    assert all(w.grad is not None for w in inner.weights) and x.grad.shape == (5, 3)
    manual = np.tanh(x.data @ inner.layers[0].kernel.data + inner.layers[0].bias.data)
    np.testing.assert_allclose(out.data, manual @ inner.layers[1].kernel.data + inner.layers[1].bias.data,
                               rtol=1e-6)


def test_symbolic_call_in_a_functional_model():
    inner = _mlp()
    x = Input(shape=(3,))
    y = inner(x)
    assert y.shape == (None, 2)
    model = Model(x, Dense(1)(y))
    assert model.layers[1] is inner and len(model.weights) == 6
    data = _x(4, 3)
    np.testing.assert_array_equal(model.predict(data), model.layers[2](inner(data)).data)


def test_nested_in_sequential_trains_and_summarises(capsys):
    inner = _mlp()
    outer = Sequential([inner, Dense(1)])
    assert outer.input_shape == (None, 3) and outer.output_shape == (None, 1)
    assert len(outer.weights) == 6 and len(outer.trainable_weights) == 6
    outer.compile("sgd", "mse")
    before = inner.get_weights()
    outer.fit(_x(8, 3), np.ones((8, 1)), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, inner.get_weights()))
    outer.summary()
    assert f"{inner.name} (Sequential)" in capsys.readouterr().out


def test_time_distributed_sequential():
    inner = Sequential([Dense(3, input_shape=(2,), activation="relu"), Dense(1)])
    td = TimeDistributed(inner)
    data = _x(2, 5, 2)
    out = td(data)
    assert out.shape == (2, 5, 1) and td.weights == inner.weights
    want = np.stack([inner(data[:, t]).data for t in range(5)], axis=1)
    np.testing.assert_allclose(out.data, want, rtol=1e-6)
    model = Sequential([LSTM(2, input_shape=(5, 4), return_sequences=True), TimeDistributed(inner)])
    assert model.output_shape == (None, 5, 1)


def test_masks_cross_a_nested_sequential():
    inner = Sequential([SimpleRNN(3, input_shape=(None, 4), return_sequences=True), SimpleRNN(2)])
    outer = Sequential([Embedding(6, 4, input_length=5, mask_zero=True), inner])
    ids = np.array([[1, 2, 3, 0, 0], [1, 2, 3, 4, 5]])
    padded_alone = outer.predict(ids)[0]
    unpadded = Sequential([Embedding(6, 4, input_length=3), inner])
    unpadded.layers[0].set_weights(outer.layers[0].get_weights())
    np.testing.assert_allclose(padded_alone, unpadded.predict(ids[:1, :3])[0], rtol=1e-6)
    x = Input(shape=(5,))
    model = Model(x, inner(Embedding(6, 4, mask_zero=True)(x)))
    model.layers[1].set_weights(outer.layers[0].get_weights())
    np.testing.assert_allclose(model.predict(ids), outer.predict(ids), rtol=1e-6)


def test_training_flag_reaches_nested_dropout():
    inner = Sequential([Dropout(0.5, input_shape=(100,))])
    ones = np.ones((2, 100), np.float32)
    np.testing.assert_array_equal(inner(ones).data, ones)
    dropped = inner(ones, training=True).data
    assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0).any()


def test_nested_model_first_in_sequential_and_files(tmp_path):
    x = Input(shape=(3,))
    functional = Model(x, Dense(2)(x))
    outer = Sequential([functional, Dense(1)])
    assert outer.input_shape == (None, 3)
    outer.compile("adam", "mse")
    outer.fit(_x(4, 3), np.ones((4, 1)), epochs=1, verbose=0)
    outer.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(again.predict(_x(4, 3)), outer.predict(_x(4, 3)))


def test_misuse_is_refused():
    model = _mlp()
    with pytest.raises(ValueError, match="itself"):
        model.add(model)
    with pytest.raises(ValueError, match="named"):
        model.add(Dense(2, name=model.layers[0].name))
    with pytest.raises(TypeError, match="list of layers"):
        Sequential(Dense(2))
    with pytest.raises(TypeError, match="empty"):
        Sequential()(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 3\)"):
        Sequential([Dense(2, input_shape=(5,)), _mlp()])  # the nested model takes 3 features, not 2
