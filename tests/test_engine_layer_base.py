"""The base Layer: Weight (constraint/regularizer live in layers, not in minigrad), trainability, set_weights,
declared input shapes, atomic builds, automatic names and get_losses_for."""
import numpy as np
import pytest

import minigrad as mg
from layers import (
    GRU,
    LSTM,
    Dense,
    Dropout,
    Embedding,
    Input,
    Model,
    Sequential,
    SimpleRNN,
    TimeDistributed,
    constraints,
    regularizers,
)
from layers.base import Layer, Weight, unique_name


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


# ------------------------------------------------------------ Weight: layer concerns out of the autodiff core

def test_tensor_has_no_layer_attributes_and_weights_carry_them():
    t = mg.Tensor(np.ones(3))
    assert not hasattr(t, "constraint") and not hasattr(t, "regularizer")
    assert not hasattr(mg.tanh(t), "constraint")
    layer = Dense(2, kernel_constraint=constraints.non_neg(), bias_regularizer=regularizers.l2(0.1))
    layer(np.ones((1, 3)))
    assert isinstance(layer.kernel, Weight) and isinstance(layer.kernel, mg.Tensor)
    assert isinstance(layer.kernel.constraint, constraints.NonNeg) and layer.kernel.regularizer is None
    assert layer.bias.constraint is None and isinstance(layer.bias.regularizer, regularizers.L1L2)


def test_the_optimizer_still_applies_a_weights_constraint():
    model = Sequential([Dense(2, input_shape=(3,), kernel_constraint=constraints.non_neg())])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), 10 * np.ones((4, 2)) * -1, epochs=2, verbose=0)
    assert (model.layers[0].kernel.data >= 0).all()


# ------------------------------------------------------------ trainability (issue: fixed at build)

@pytest.mark.parametrize("built_while_frozen", [True, False])
def test_trainable_toggled_off_and_on_trains_again(built_while_frozen):
    first = Dense(3, input_shape=(4,))
    first.trainable = False
    if built_while_frozen:  # the weights are made while the layer is frozen
        model = Sequential([first, Dense(1)])
        first.trainable = True
    else:
        first(np.zeros((1, 4)))
        first.trainable = True
        model = Sequential([first, Dense(1)])
    assert all(w.requires_grad for w in first.weights)
    model.compile("sgd", "mse")
    before = first.get_weights()
    model.fit(np.random.default_rng(0).standard_normal((8, 4)), np.ones((8, 1)), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, first.get_weights()))


def test_frozen_layer_is_not_updated_and_gets_no_gradient():
    first = Dense(3, input_shape=(4,))
    model = Sequential([first, Dense(1)])
    first.trainable = False
    assert [w.requires_grad for w in first.weights] == [False, False]
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.compile("sgd", "mse")
    before = first.get_weights()
    model.fit(np.ones((8, 4)), np.ones((8, 1)), epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, first.get_weights()))


def test_frozen_model_and_wrapper():
    inner = Sequential([Dense(2, input_shape=(3,))])
    inner.trainable = False
    outer = Sequential([inner, Dense(1)])
    assert len(outer.trainable_weights) == 2 and len(outer.weights) == 4
    td = TimeDistributed(Dense(2))
    td(np.ones((1, 2, 3)))
    td.trainable = False
    assert td.trainable_weights == [] and len(td.weights) == 2
    with pytest.raises(ValueError, match="trainable"):
        td.trainable = "no"


# ------------------------------------------------------------ set_weights

def _dense():
    layer = Dense(2)
    layer(np.ones((1, 3)))
    return layer


def test_set_weights_accepts_tensors_and_lists():
    layer = _dense()
    layer.set_weights([mg.Tensor(np.ones((3, 2))), [0.5, 0.25]])
    np.testing.assert_array_equal(layer.bias.data, [0.5, 0.25])
    assert layer.kernel.dtype == np.float32


@pytest.mark.parametrize("bad, match", [
    ([np.ones((3, 2)), np.ones(2, dtype=complex)], "complex"),
    ([np.ones((3, 2)), np.array(["a", "b"])], "numeric"),
    ([np.ones((3, 2)), np.array([True, False])], "numeric"),
    ([np.ones((3, 2)), np.array([1e300, 0.0])], "overflow"),
    ([np.ones((3, 2)), np.ones(3)], r"shape"),
    ([np.ones((3, 2))], "expects 2 weights"),
    ([np.ones((3, 2)), [[1.0], [1.0, 2.0]]], "not an array"),
])
def test_layer_set_weights_checks_everything_first(bad, match):
    layer = _dense()
    before = layer.get_weights()
    with pytest.raises(ValueError, match=match):
        layer.set_weights(bad)
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights()))


def test_model_set_weights_checks_values_too():
    model = Sequential([Dense(2, input_shape=(3,))])
    before = model.get_weights()
    with pytest.raises(ValueError, match="overflow"):
        model.set_weights([np.ones((3, 2)), np.array([1e39, 0.0])])
    with pytest.raises(TypeError, match="list"):
        model.set_weights(np.ones((3, 2)))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.set_weights([mg.Tensor(np.zeros((3, 2))), np.zeros(2, dtype=np.float64)])  # float64 that fits is fine


def test_set_weights_on_an_unbuilt_layer():
    layer = LSTM(2)
    layer.set_weights(layer.get_weights())  # Keras: a no-op
    assert not layer.built
    with pytest.raises(RuntimeError, match="no weights yet"):
        layer.set_weights([np.zeros((3, 8))])


# ------------------------------------------------------------ declared shapes are enforced

@pytest.mark.parametrize("make, ok, bad", [
    (lambda: Dense(3, input_dim=4), (2, 4), (2, 7)),
    (lambda: Dense(3, input_shape=(5, 4)), (2, 5, 4), (2, 6, 4)),
    (lambda: LSTM(3, input_dim=4), (2, 6, 4), (2, 6, 7)),
    (lambda: LSTM(3, input_shape=(5, 4)), (2, 5, 4), (2, 6, 4)),
    (lambda: GRU(3, input_dim=4, input_length=5), (2, 5, 4), (2, 5, 7)),
    (lambda: SimpleRNN(3, batch_input_shape=(None, 5, 4)), (3, 5, 4), (3, 5, 7)),
    (lambda: TimeDistributed(Dense(2), input_shape=(5, 4)), (2, 5, 4), (2, 5, 3)),
    (lambda: Dropout(0.5, input_shape=(4,)), (2, 4), (2, 5)),
])
def test_declared_shape_is_enforced_at_the_first_eager_call(make, ok, bad):
    layer = make()
    with pytest.raises(ValueError, match=r"declared with input shape \(None"):
        layer(np.zeros(bad))
    assert not layer.built or isinstance(layer, Dropout)
    assert layer(np.zeros(ok)).shape[0] == ok[0]


def test_embedding_input_length_is_enforced():
    layer = Embedding(10, 3, input_length=5)
    with pytest.raises(ValueError, match=r"declared with input shape \(None, 5\)"):
        layer(np.zeros((2, 4), dtype=int))


def test_sequential_declared_timesteps_are_enforced():
    model = Sequential([LSTM(3, input_shape=(5, 4)), Dense(1)])
    assert model.predict(np.zeros((2, 5, 4))).shape == (2, 1)
    with pytest.raises(ValueError, match=r"\(None, 5, 4\).*\(2, 6, 4\)"):
        model.predict(np.zeros((2, 6, 4)))
    free = Sequential([LSTM(3, input_shape=(None, 4))])
    assert free.predict(np.zeros((2, 9, 4))).shape == (2, 3)


def test_declared_shape_is_checked_in_graphs_too():
    layer = Dense(3, input_dim=4)
    with pytest.raises(ValueError, match="declared with input shape"):
        layer(Input(shape=(7,)))
    assert not layer.built


# ------------------------------------------------------------ atomic builds

def test_a_failed_build_leaves_the_layer_unbuilt_with_its_initial_weights():
    initial = [np.ones((3, 2)), np.ones(5)]  # the bias has the wrong shape
    layer = Dense(2, weights=initial)
    with pytest.raises(ValueError, match="shape"):
        layer(np.ones((1, 3)))
    assert not layer.built and layer.weights == [] and layer._initial_weights is not None


def test_failed_sequential_construction_leaves_its_layers_as_they_were():
    first = Dense(4, input_shape=(3,), weights=[np.full((3, 4), 0.5), np.zeros(4)])
    with pytest.raises(ValueError):
        Sequential([first, LSTM(2)])  # an LSTM cannot take a 2-D output
    assert not first.built and first.weights == []
    model = Sequential([first, Dense(1)])  # a retry gets the weights it was given
    np.testing.assert_array_equal(first.kernel.data, 0.5)
    assert model.output_shape == (None, 1)


def test_a_failed_add_leaves_the_layer_unbuilt():
    model = Sequential([Dense(4, input_shape=(3,))])
    rnn = LSTM(2)
    with pytest.raises(ValueError):
        model.add(rnn)
    assert not rnn.built and len(model.layers) == 1


# ------------------------------------------------------------ names

def test_given_names_advance_the_automatic_counter():
    restored = LSTM(2, name="lstm_907")
    assert restored.name == "lstm_907"
    assert int(LSTM(2).name.rsplit("_", 1)[1]) >= 908
    assert unique_name("lstm") != "lstm_907"
    assert int(Sequential(name="sequential_55").name[-2:]) == 55
    assert int(Sequential().name.rsplit("_", 1)[1]) >= 56


@pytest.mark.parametrize("kwargs, match", [
    (dict(name=3), "name"), (dict(name=""), "name"), (dict(trainable="yes"), "trainable"),
    (dict(dtype="complex64"), "floating"), (dict(dtype="nonsense"), "dtype"), (dict(input_shape=(0, 3)), "input_shape"),
    (dict(batch_input_shape=(None, 2.5)), "batch_input_shape"), (dict(input_dim=True), "input_dim"),
    (dict(batch_size=-1, input_shape=(3,)), "batch_size"), (dict(weights=np.ones(3)), "weights"),
])
def test_base_arguments_are_validated(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Dense(2, **kwargs)


def test_an_integer_dtype_names_the_input_type_and_the_layer_computes_in_float32():
    layer = Embedding(5, 3, dtype="int32")  # Keras 2.0: a first layer's dtype is its input's
    assert layer.dtype == np.float32 and layer.input_dtype == np.int32
    assert layer.get_config()["dtype"] == "int32"
    assert Embedding.from_config(layer.get_config()).input_dtype == np.int32


# ------------------------------------------------------------ get_losses_for

def test_get_losses_for_eager_calls():
    layer = Dense(2, kernel_regularizer=regularizers.l2(0.5), activity_regularizer=regularizers.l1(0.25))
    x1, x2 = np.ones((1, 3)), -np.ones((2, 3))
    y1 = layer(x1)
    y2 = layer(x2)
    (weight_penalty,) = layer.get_losses_for(None)
    assert float(weight_penalty.data) == pytest.approx(0.5 * float((layer.kernel.data ** 2).sum()))
    (a1,), (a2,) = layer.get_losses_for(x1), layer.get_losses_for(x2)
    assert float(a1.data) == pytest.approx(0.25 * np.abs(y1.data).sum())
    assert float(a2.data) == pytest.approx(0.25 * np.abs(y2.data).sum())
    assert layer.get_losses_for(np.ones((1, 3))) == []  # not an input it was called on


def test_get_losses_for_a_graph_input_after_the_model_ran():
    x = Input(shape=(3,))
    dense = Dense(2, activity_regularizer=regularizers.l2(1.0))
    model = Model(x, dense(x))
    data = np.ones((2, 3))
    out = model.predict(data)
    (penalty,) = dense.get_losses_for(x)
    assert float(penalty.data) == pytest.approx(float((out ** 2).sum()), rel=1e-6)
    assert model.get_losses_for(None) == []


def test_layer_without_penalties():
    layer = Layer()
    assert layer.get_losses_for(None) == [] and layer.get_losses_for(np.ones(2)) == []
