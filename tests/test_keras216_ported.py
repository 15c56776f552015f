"""Keras 2.1.6's own recurrent-layer and wrapper tests (``tests/keras/layers/recurrent_test.py``,
``wrappers_test.py``, and the ``reset_after`` checks of ``cudnn_recurrent_test.py``), ported to this project's API.

Each test keeps the original's name and checks. Where this project deliberately differs from Keras (docs/keras.md
says why), the port follows the project and says so in a comment:
- ``StackedRNNCells`` lists its states in cell order (Keras 2.1 listed them last cell first);
- a stateful model refuses ``fit(shuffle=True)``, so the stateful fits pass ``shuffle=False``;
- ``training=`` decides dropout (there is no global learning phase), so Keras' ``_uses_learning_phase`` checks
  become checks of what a call with and without ``training=True`` computes;
- activity penalties exist after a call (there is no symbolic graph before it);
- ``constants=`` is refused with a TypeError: the constants tests check that, then run their checks on the same
  model written the way docs/keras.md gives (the constant concatenated to every timestep of the input);
- there is no ``add_loss`` (nor backend math on symbolic tensors), so ``test_stacked_rnn_attributes`` stops
  before its ``get_losses_for`` part.
The last section tests each fix the ports led to on its own.
Backend calls become numpy or minigrad: ``K.variable(a)`` -> ``a`` (float32, Keras' floatx), ``K.eval(v)`` ->
``np.asarray(v)``, ``K.dot`` -> ``@``, ``K.function([inputs], outputs)`` -> an eager call of the layer. Parts that
exercise layers with no counterpart here (``Conv2D``, ``BatchNormalization``, the cuDNN layers) are left out; each
place says so.
"""
import copy
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from test_keras208_ported import layer_test

import minigrad as mg
from layers import (
    GRU,
    LSTM,
    RNN,
    Activation,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    GRUCell,
    Input,
    Layer,
    LSTMCell,
    Masking,
    Model,
    RepeatVector,
    Sequential,
    SimpleRNN,
    SimpleRNNCell,
    TimeDistributed,
    concatenate,
    model_from_json,
    regularizers,
)
from layers.saving import preprocess_weights_for_loading
from layers.utils import CustomObjectScope

num_samples, timesteps, embedding_dim, units = 2, 5, 4, 3
embedding_num = 12



class GRUResetAfter:
    """``GRU(reset_after=True)`` (Keras 2.1.5+) as a layer class, so that every check Keras runs on its three
    recurrent layers runs on this GRU too (Keras 2.1.6's parametrization has the three only)."""

    def __new__(cls, *args, **kwargs):
        kwargs.setdefault("reset_after", True)
        return GRU(*args, **kwargs)

    from_config = GRU.from_config


rnn_test = pytest.mark.parametrize("layer_class", [SimpleRNN, GRU, LSTM, GRUResetAfter],
                                   ids=["SimpleRNN", "GRU", "LSTM", "GRU_reset_after"])
rnn_cell_test = pytest.mark.parametrize("cell_class", [SimpleRNNCell, GRUCell, LSTMCell])


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def values(x):
    return [np.asarray(v.data if isinstance(v, mg.Tensor) else v) for v in as_list(x)]


# ------------------------------------------------------------------ recurrent_test.py

@rnn_test
def test_return_sequences(layer_class):
    layer_test(layer_class, kwargs={"units": units, "return_sequences": True},
               input_shape=(num_samples, timesteps, embedding_dim))


@rnn_test
def test_dynamic_behavior(layer_class):
    layer = layer_class(units, input_shape=(None, embedding_dim))
    model = Sequential()
    model.add(layer)
    model.compile("sgd", "mse")
    x = np.random.random((num_samples, timesteps, embedding_dim))
    y = np.random.random((num_samples, units))
    model.train_on_batch(x, y)


@rnn_test
def test_stateful_invalid_use(layer_class):
    layer = layer_class(units, stateful=True, batch_input_shape=(num_samples, timesteps, embedding_dim))
    model = Sequential()
    model.add(layer)
    model.compile("sgd", "mse")
    x = np.random.random((num_samples * 2, timesteps, embedding_dim))
    y = np.random.random((num_samples * 2, units))
    with pytest.raises(ValueError):
        model.fit(x, y, shuffle=False)  # the sample count, not the shuffle refusal, is what raises here
    with pytest.raises(ValueError):
        model.predict(x, batch_size=num_samples + 1)


@rnn_test
def test_dropout(layer_class):
    for unroll in [True, False]:
        layer_test(layer_class, kwargs={"units": units, "dropout": 0.1, "recurrent_dropout": 0.1, "unroll": unroll},
                   input_shape=(num_samples, timesteps, embedding_dim))

        # Keras: `layer(x)` depends on the learning phase and `layer(x, training=True)` does not. Here `training`
        # decides: without it the call is deterministic, with training=True dropout is applied.
        x = np.ones((num_samples, timesteps, embedding_dim), dtype="float32")
        layer = layer_class(units, dropout=0.5, recurrent_dropout=0.5, input_shape=(timesteps, embedding_dim))
        y = layer(x)
        assert_allclose(y.data, layer(x).data)
        y_train = [layer(x, training=True).data for _ in range(3)]
        assert any(not np.allclose(t, y.data) for t in y_train)

        # dropout is not applied when predicting
        x = np.random.random((num_samples, timesteps, embedding_dim))
        layer = layer_class(units, dropout=0.5, recurrent_dropout=0.5, unroll=unroll,
                            input_shape=(timesteps, embedding_dim))
        model = Sequential([layer])
        y1 = model.predict(x)
        y2 = model.predict(x)
        assert_allclose(y1, y2)


@rnn_test
def test_statefulness(layer_class):
    model = Sequential()
    model.add(Embedding(embedding_num, embedding_dim, mask_zero=True, input_length=timesteps,
                        batch_input_shape=(num_samples, timesteps)))
    layer = layer_class(units, return_sequences=False, stateful=True, weights=None)
    model.add(layer)
    model.compile(optimizer="sgd", loss="mse")
    out1 = model.predict(np.ones((num_samples, timesteps)))
    assert out1.shape == (num_samples, units)

    # train once so that the states change
    model.train_on_batch(np.ones((num_samples, timesteps)), np.ones((num_samples, units)))
    out2 = model.predict(np.ones((num_samples, timesteps)))

    # if the state is not reset, output should be different
    assert out1.max() != out2.max()

    # check that output changes after states are reset (even though the model itself didn't change)
    layer.reset_states()
    out3 = model.predict(np.ones((num_samples, timesteps)))
    assert out2.max() != out3.max()

    # check that container-level reset_states() works
    model.reset_states()
    out4 = model.predict(np.ones((num_samples, timesteps)))
    assert_allclose(out3, out4, atol=1e-5)

    # check that the call to `predict` updated the states
    out5 = model.predict(np.ones((num_samples, timesteps)))
    assert out4.max() != out5.max()


@rnn_test
def test_masking_correctness(layer_class):
    # Check masking: output with left padding and right padding should be the same.
    model = Sequential()
    model.add(Embedding(embedding_num, embedding_dim, mask_zero=True, input_length=timesteps,
                        batch_input_shape=(num_samples, timesteps)))
    layer = layer_class(units, return_sequences=False)
    model.add(layer)
    model.compile(optimizer="sgd", loss="mse")

    left_padded_input = np.ones((num_samples, timesteps))
    left_padded_input[0, :1] = 0
    left_padded_input[1, :2] = 0
    out6 = model.predict(left_padded_input)

    right_padded_input = np.ones((num_samples, timesteps))
    right_padded_input[0, -1:] = 0
    right_padded_input[1, -2:] = 0
    out7 = model.predict(right_padded_input)

    assert_allclose(out7, out6, atol=1e-5)


@rnn_test
def test_implementation_mode(layer_class):
    for mode in [1, 2]:
        # Without dropout
        layer_test(layer_class, kwargs={"units": units, "implementation": mode},
                   input_shape=(num_samples, timesteps, embedding_dim))
        # With dropout
        layer_test(layer_class, kwargs={"units": units, "implementation": mode, "dropout": 0.1,
                                        "recurrent_dropout": 0.1},
                   input_shape=(num_samples, timesteps, embedding_dim))
        # Without bias
        layer_test(layer_class, kwargs={"units": units, "implementation": mode, "use_bias": False},
                   input_shape=(num_samples, timesteps, embedding_dim))


@rnn_test
def test_regularizer(layer_class):
    layer = layer_class(units, return_sequences=False, weights=None, input_shape=(timesteps, embedding_dim),
                        kernel_regularizer=regularizers.l1(0.01), recurrent_regularizer=regularizers.l1(0.01),
                        bias_regularizer="l2")
    layer.build((None, None, embedding_dim))
    assert len(layer.losses) == 3
    assert len(layer.cell.losses) == 3

    layer = layer_class(units, return_sequences=False, weights=None, input_shape=(timesteps, embedding_dim),
                        activity_regularizer="l2")
    assert layer.activity_regularizer
    x = np.ones((num_samples, timesteps, embedding_dim))
    layer(x)
    assert len(layer.cell.get_losses_for(x)) == 0
    assert len(layer.get_losses_for(x)) == 1


@rnn_test
def test_trainability(layer_class):
    layer = layer_class(units)
    layer.build((None, None, embedding_dim))
    assert len(layer.weights) == 3
    assert len(layer.trainable_weights) == 3
    assert len(layer.non_trainable_weights) == 0
    layer.trainable = False
    assert len(layer.weights) == 3
    assert len(layer.trainable_weights) == 0
    assert len(layer.non_trainable_weights) == 3
    layer.trainable = True
    assert len(layer.weights) == 3
    assert len(layer.trainable_weights) == 3
    assert len(layer.non_trainable_weights) == 0


def test_masking_layer():
    """Keras issue #1567."""
    inputs = np.random.random((6, 3, 4))
    targets = np.abs(np.random.random((6, 3, 5)))
    targets /= targets.sum(axis=-1, keepdims=True)

    model = Sequential()
    model.add(Masking(input_shape=(3, 4)))
    model.add(SimpleRNN(units=5, return_sequences=True, unroll=False))
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    model.fit(inputs, targets, epochs=1, batch_size=100, verbose=0)

    model = Sequential()
    model.add(Masking(input_shape=(3, 4)))
    model.add(SimpleRNN(units=5, return_sequences=True, unroll=True))
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    model.fit(inputs, targets, epochs=1, batch_size=100, verbose=0)


@rnn_test
def test_from_config(layer_class):
    stateful_flags = (False, True)
    for stateful in stateful_flags:
        l1 = layer_class(units=1, stateful=stateful)
        l2 = layer_class.from_config(l1.get_config())
        assert l1.get_config() == l2.get_config()


@rnn_test
def test_specify_initial_state_keras_tensor(layer_class):
    num_states = 2 if layer_class is LSTM else 1

    # Test with Keras tensor
    inputs = Input((timesteps, embedding_dim))
    initial_state = [Input((units,)) for _ in range(num_states)]
    layer = layer_class(units)
    if len(initial_state) == 1:
        output = layer(inputs, initial_state=initial_state[0])
    else:
        output = layer(inputs, initial_state=initial_state)
    assert initial_state[0] in layer._inbound_nodes[0].input_tensors

    model = Model([inputs] + initial_state, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")

    inputs = np.random.random((num_samples, timesteps, embedding_dim))
    initial_state = [np.random.random((num_samples, units)) for _ in range(num_states)]
    targets = np.random.random((num_samples, units))
    model.fit([inputs] + initial_state, targets, verbose=0)


@rnn_test
def test_specify_initial_state_non_keras_tensor(layer_class):
    num_states = 2 if layer_class is LSTM else 1

    # Test with non-Keras tensor (K.random_normal_variable: an array)
    inputs = Input((timesteps, embedding_dim))
    initial_state = [np.random.normal(0, 1, (num_samples, units)).astype("float32") for _ in range(num_states)]
    layer = layer_class(units)
    output = layer(inputs, initial_state=initial_state)

    model = Model(inputs, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")

    inputs = np.random.random((num_samples, timesteps, embedding_dim))
    targets = np.random.random((num_samples, units))
    model.fit(inputs, targets, verbose=0)


@rnn_test
def test_reset_states_with_values(layer_class):
    num_states = 2 if layer_class is LSTM else 1

    layer = layer_class(units, stateful=True)
    layer.build((num_samples, timesteps, embedding_dim))
    layer.reset_states()
    assert len(layer.states) == num_states
    assert layer.states[0] is not None
    assert_allclose(np.asarray(layer.states[0]), np.zeros(np.shape(layer.states[0])), atol=1e-4)
    state_shapes = [np.shape(state) for state in layer.states]
    values = [np.ones(shape) for shape in state_shapes]
    if len(values) == 1:
        values = values[0]
    layer.reset_states(values)
    assert_allclose(np.asarray(layer.states[0]), np.ones(np.shape(layer.states[0])), atol=1e-4)

    # Test fit with invalid data
    with pytest.raises(ValueError):
        layer.reset_states([1] * (len(layer.states) + 1))


@rnn_test
def test_initial_states_as_other_inputs(layer_class):
    num_states = 2 if layer_class is LSTM else 1

    # Test with Keras tensor
    main_inputs = Input((timesteps, embedding_dim))
    initial_state = [Input((units,)) for _ in range(num_states)]
    inputs = [main_inputs] + initial_state

    layer = layer_class(units)
    output = layer(inputs)
    assert initial_state[0] in layer._inbound_nodes[0].input_tensors

    model = Model(inputs, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")

    main_inputs = np.random.random((num_samples, timesteps, embedding_dim))
    initial_state = [np.random.random((num_samples, units)) for _ in range(num_states)]
    targets = np.random.random((num_samples, units))
    model.train_on_batch([main_inputs] + initial_state, targets)


@rnn_test
def test_specify_state_with_masking(layer_class):
    """Keras issue #1567."""
    num_states = 2 if layer_class is LSTM else 1

    inputs = Input((timesteps, embedding_dim))
    _ = Masking()(inputs)
    initial_state = [Input((units,)) for _ in range(num_states)]
    output = layer_class(units)(inputs, initial_state=initial_state)

    model = Model([inputs] + initial_state, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")

    inputs = np.random.random((num_samples, timesteps, embedding_dim))
    initial_state = [np.random.random((num_samples, units)) for _ in range(num_states)]
    targets = np.random.random((num_samples, units))
    model.fit([inputs] + initial_state, targets, verbose=0)


@rnn_test
def test_return_state(layer_class):
    num_states = 2 if layer_class is LSTM else 1

    inputs = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    layer = layer_class(units, return_state=True, stateful=True)
    outputs = layer(inputs)
    output, state = outputs[0], outputs[1:]
    assert len(state) == num_states
    model = Model(inputs, state[0])

    inputs = np.random.random((num_samples, timesteps, embedding_dim))
    state = model.predict(inputs)
    assert_allclose(np.asarray(layer.states[0]), state, atol=1e-4)


@rnn_test
def test_state_reuse(layer_class):
    inputs = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    layer = layer_class(units, return_state=True, return_sequences=True)
    outputs = layer(inputs)
    output, state = outputs[0], outputs[1:]
    output = layer_class(units)(output, initial_state=state)
    model = Model(inputs, output)

    inputs = np.random.random((num_samples, timesteps, embedding_dim))
    outputs = model.predict(inputs)
    assert outputs.shape == (num_samples, units)


@rnn_test
def test_state_reuse_with_dropout(layer_class):
    input1 = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    layer = layer_class(units, return_state=True, return_sequences=True, dropout=0.2)
    state = layer(input1)[1:]

    input2 = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    output = layer_class(units)(input2, initial_state=state)
    model = Model([input1, input2], output)

    inputs = [np.random.random((num_samples, timesteps, embedding_dim)),
              np.random.random((num_samples, timesteps, embedding_dim))]
    outputs = model.predict(inputs)
    assert outputs.shape == (num_samples, units)


def test_minimal_rnn_cell_non_layer():

    class MinimalRNNCell:

        def __init__(self, units, input_dim):
            self.units = units
            self.state_size = units
            self.kernel = np.random.random((input_dim, units)).astype("float32")

        def call(self, inputs, states):
            prev_output = states[0]
            output = inputs @ self.kernel + prev_output
            return output, [output]

    # Basic test case.
    cell = MinimalRNNCell(32, 5)
    x = Input((None, 5))
    layer = RNN(cell)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test stacking.
    cells = [MinimalRNNCell(8, 5), MinimalRNNCell(32, 8), MinimalRNNCell(32, 32)]
    layer = RNN(cells)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))


def test_minimal_rnn_cell_non_layer_multiple_states():

    class MinimalRNNCell:

        def __init__(self, units, input_dim):
            self.units = units
            self.state_size = (units, units)
            self.kernel = np.random.random((input_dim, units)).astype("float32")

        def call(self, inputs, states):
            prev_output_1 = states[0]
            prev_output_2 = states[1]
            output = inputs @ self.kernel
            output += prev_output_1
            output -= prev_output_2
            return output, [output * 2, output * 3]

    # Basic test case.
    cell = MinimalRNNCell(32, 5)
    x = Input((None, 5))
    layer = RNN(cell)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test stacking.
    cells = [MinimalRNNCell(8, 5), MinimalRNNCell(16, 8), MinimalRNNCell(32, 16)]
    layer = RNN(cells)
    # Keras 2.1: (32, 32, 16, 16, 8, 8), the last cell's states first; here the states are in cell order
    assert tuple(layer.cell.state_size) == (8, 8, 16, 16, 32, 32)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))


class MinimalRNNCell(Layer):
    """test_minimal_rnn_cell_layer's cell, at module level so that configs find it by name."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        # no time axis in the input shape passed to RNN cells
        assert len(input_shape) == 2

        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = inputs @ self.kernel
        output = h + prev_output @ self.recurrent_kernel
        return output, [output]

    def get_config(self):
        config = {"units": self.units}
        base_config = super().get_config()
        return dict(list(base_config.items()) + list(config.items()))


def test_minimal_rnn_cell_layer():
    custom_objects = {"MinimalRNNCell": MinimalRNNCell}

    # Test basic case.
    x = Input((None, 5))
    cell = MinimalRNNCell(32)
    layer = RNN(cell)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    y_np = model.predict(x_np)
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(custom_objects):
        layer = RNN.from_config(config)
    y = layer(x)
    model = Model(x, y)
    model.set_weights(weights)
    y_np_2 = model.predict(x_np)
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # Test stacking.
    cells = [MinimalRNNCell(8), MinimalRNNCell(12), MinimalRNNCell(32)]
    layer = RNN(cells)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test stacked RNN serialization.
    x_np = np.random.random((6, 5, 5))
    y_np = model.predict(x_np)
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(custom_objects):
        layer = RNN.from_config(config)
    y = layer(x)
    model = Model(x, y)
    model.set_weights(weights)
    y_np_2 = model.predict(x_np)
    assert_allclose(y_np, y_np_2, atol=1e-4)


@rnn_cell_test
def test_builtin_rnn_cell_layer(cell_class):
    # Test basic case.
    x = Input((None, 5))
    cell = cell_class(32)
    layer = RNN(cell)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    y_np = model.predict(x_np)
    weights = model.get_weights()
    config = layer.get_config()
    layer = RNN.from_config(config)
    y = layer(x)
    model = Model(x, y)
    model.set_weights(weights)
    y_np_2 = model.predict(x_np)
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # Test stacking.
    cells = [cell_class(8), cell_class(12), cell_class(32)]
    layer = RNN(cells)
    y = layer(x)
    model = Model(x, y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch(np.zeros((6, 5, 5)), np.zeros((6, 32)))

    # Test stacked RNN serialization.
    x_np = np.random.random((6, 5, 5))
    y_np = model.predict(x_np)
    weights = model.get_weights()
    config = layer.get_config()
    layer = RNN.from_config(config)
    y = layer(x)
    model = Model(x, y)
    model.set_weights(weights)
    y_np_2 = model.predict(x_np)
    assert_allclose(y_np, y_np_2, atol=1e-4)


def test_stacked_rnn_dropout():
    cells = [LSTMCell(3, dropout=0.1, recurrent_dropout=0.1), LSTMCell(3, dropout=0.1, recurrent_dropout=0.1)]
    layer = RNN(cells)

    x = Input((None, 5))
    y = layer(x)
    model = Model(x, y)
    model.compile("sgd", "mse")
    x_np = np.random.random((6, 5, 5))
    y_np = np.random.random((6, 3))
    model.train_on_batch(x_np, y_np)


def test_stacked_rnn_attributes():
    cells = [LSTMCell(3), LSTMCell(3, kernel_regularizer="l2")]
    layer = RNN(cells)
    layer.build((None, None, 5))

    # Test regularization losses
    assert len(layer.losses) == 1

    # Test weights
    assert len(layer.trainable_weights) == 6
    cells[0].trainable = False
    assert len(layer.trainable_weights) == 3
    assert len(layer.non_trainable_weights) == 3

    # (Keras then checks `get_losses_for` of a loss added to a cell with `cells[0].add_loss(K.sum(x), inputs=x)`:
    # there is no backend math on symbolic tensors here, and no `add_loss` (docs/keras.md))


def test_stacked_rnn_compute_output_shape():
    cells = [LSTMCell(3), LSTMCell(6)]
    layer = RNN(cells, return_state=True, return_sequences=True)
    output_shape = layer.compute_output_shape((None, timesteps, embedding_dim))
    # Keras 2.1: the last cell's states first, [(None, 5, 6), (None, 6), (None, 6), (None, 3), (None, 3)];
    # here the states are in cell order (docs/keras.md)
    expected_output_shape = [(None, timesteps, 6), (None, 3), (None, 3), (None, 6), (None, 6)]
    assert output_shape == expected_output_shape


@rnn_test
def test_batch_size_equal_one(layer_class):
    inputs = Input(batch_shape=(1, timesteps, embedding_dim))
    layer = layer_class(units)
    outputs = layer(inputs)
    model = Model(inputs, outputs)
    model.compile("sgd", "mse")
    x = np.random.random((1, timesteps, embedding_dim))
    y = np.random.random((1, units))
    model.train_on_batch(x, y)


class RNNCellWithConstants(Layer):
    """The cell of Keras' constants tests (recurrent_test.py and wrappers_test.py define the same one)."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        if not isinstance(input_shape, list):
            raise TypeError("expects constants shape")
        [input_shape, constant_shape] = input_shape
        # will (and should) raise if more than one constant passed

        self.input_kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform",
                                            name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.constant_kernel = self.add_weight(shape=(constant_shape[-1], self.units), initializer="uniform",
                                               name="constant_kernel")
        self.built = True

    def call(self, inputs, states, constants):
        [prev_output] = states
        [constant] = constants
        h_input = inputs @ self.input_kernel
        h_state = prev_output @ self.recurrent_kernel
        h_const = constant @ self.constant_kernel
        output = h_input + h_state + h_const
        return output, [output]

    def get_config(self):
        config = {"units": self.units}
        base_config = super().get_config()
        return dict(list(base_config.items()) + list(config.items()))


class RNNCellWithConstantsInItsInput(Layer):
    """RNNCellWithConstants written the way docs/keras.md gives a cell a per-sequence value: the value is
    concatenated to every timestep of the input (RepeatVector, concatenate) and the cell splits it off."""

    def __init__(self, units, constant_dim, **kwargs):
        self.units = units
        self.constant_dim = constant_dim
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        input_dim = input_shape[-1] - self.constant_dim
        self.input_kernel = self.add_weight(shape=(input_dim, self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.constant_kernel = self.add_weight(shape=(self.constant_dim, self.units), initializer="uniform",
                                               name="constant_kernel")

    def call(self, inputs, states):
        [prev_output] = states
        inputs, constant = inputs[:, :-self.constant_dim], inputs[:, -self.constant_dim:]
        output = inputs @ self.input_kernel + prev_output @ self.recurrent_kernel + constant @ self.constant_kernel
        return output, [output]

    def get_config(self):
        return dict(super().get_config(), units=self.units, constant_dim=self.constant_dim)


CONSTANT_CELLS = {"RNNCellWithConstants": RNNCellWithConstants,
                  "RNNCellWithConstantsInItsInput": RNNCellWithConstantsInItsInput}


def with_constant(x, c, timesteps):
    """The sequence x with the constant c appended to every timestep's features."""
    return concatenate([x, RepeatVector(timesteps)(c)])


def assert_constants_refused(layer, x, c, **kwargs):
    """Keras 2.1's `constants=` is not supported here (docs/keras.md): a call with it raises TypeError naming the
    argument, symbolic or eager, and builds nothing."""
    with pytest.raises(TypeError, match="constants"):
        layer(x, constants=c, **kwargs)
    with pytest.raises(TypeError, match="constants"):
        layer(np.zeros((6, 5, 5)), constants=np.zeros((6, 3)))
    assert not layer.built


def test_rnn_cell_with_constants_layer():
    # `constants=` is refused (docs/keras.md); the checks then run on the model written the project's way
    x = Input((5, 5))  # Keras: (None, 5); RepeatVector needs the number of timesteps
    c = Input((3,))
    assert_constants_refused(RNN(RNNCellWithConstants(32)), x, c)
    assert_constants_refused(RNN([GRUCell(8), RNNCellWithConstants(12), RNNCellWithConstants(32)]), x, c)

    # Test basic case.
    cell = RNNCellWithConstantsInItsInput(32, constant_dim=3)
    layer = RNN(cell)
    y = layer(with_constant(x, c, 5))
    model = Model([x, c], y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch([np.zeros((6, 5, 5)), np.zeros((6, 3))], np.zeros((6, 32)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    c_np = np.random.random((6, 3))
    y_np = model.predict([x_np, c_np])
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(CONSTANT_CELLS):
        layer = RNN.from_config(config.copy())
    y = layer(with_constant(x, c, 5))
    model = Model([x, c], y)
    model.set_weights(weights)
    y_np_2 = model.predict([x_np, c_np])
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # (the flat list form `layer([x, c])` passes constants too: refused with them)

    # Test stacking.
    cells = [GRUCell(8), RNNCellWithConstantsInItsInput(12, constant_dim=3),
             RNNCellWithConstantsInItsInput(32, constant_dim=3)]
    # a stack reads the constant in every level's input: each level's output gets it appended again
    layer = RNN(cells[:1], return_sequences=True)
    h = layer(with_constant(x, c, 5))
    h = RNN(cells[1:2], return_sequences=True)(with_constant(h, c, 5))
    y = RNN(cells[2:])(with_constant(h, c, 5))
    model = Model([x, c], y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch([np.zeros((6, 5, 5)), np.zeros((6, 3))], np.zeros((6, 32)))

    # Test stacked RNN serialization.
    x_np = np.random.random((6, 5, 5))
    c_np = np.random.random((6, 3))
    y_np = model.predict([x_np, c_np])
    weights = model.get_weights()
    with CustomObjectScope(CONSTANT_CELLS):
        model = Model.from_config(model.get_config())
    model.set_weights(weights)
    y_np_2 = model.predict([x_np, c_np])
    assert_allclose(y_np, y_np_2, atol=1e-4)


def test_rnn_cell_with_constants_layer_passing_initial_state():
    # `constants=` is refused (docs/keras.md); the checks then run on the model written the project's way
    x = Input((5, 5))  # Keras: (None, 5); RepeatVector needs the number of timesteps
    c = Input((3,))
    s = Input((32,))
    assert_constants_refused(RNN(RNNCellWithConstants(32)), x, c, initial_state=s)

    # Test basic case.
    cell = RNNCellWithConstantsInItsInput(32, constant_dim=3)
    layer = RNN(cell)
    y = layer(with_constant(x, c, 5), initial_state=s)
    model = Model([x, s, c], y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch([np.zeros((6, 5, 5)), np.zeros((6, 32)), np.zeros((6, 3))], np.zeros((6, 32)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    s_np = np.random.random((6, 32))
    c_np = np.random.random((6, 3))
    y_np = model.predict([x_np, s_np, c_np])
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(CONSTANT_CELLS):
        layer = RNN.from_config(config.copy())
    y = layer(with_constant(x, c, 5), initial_state=s)
    model = Model([x, s, c], y)
    model.set_weights(weights)
    y_np_2 = model.predict([x_np, s_np, c_np])
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # verify that state is used
    y_np_2_different_s = model.predict([x_np, s_np + 10., c_np])
    with pytest.raises(AssertionError):
        assert_allclose(y_np, y_np_2_different_s, atol=1e-4)

    # test flat list inputs (without constants: [x, initial states])
    with CustomObjectScope(CONSTANT_CELLS):
        layer = RNN.from_config(config.copy())
    y = layer([with_constant(x, c, 5), s])
    model = Model([x, s, c], y)
    model.set_weights(weights)
    y_np_3 = model.predict([x_np, s_np, c_np])
    assert_allclose(y_np, y_np_3, atol=1e-4)


# ------------------------------------------------------------------ wrappers_test.py

def test_TimeDistributed():
    # first, test with Dense layer
    model = Sequential()
    model.add(TimeDistributed(Dense(2), input_shape=(3, 4)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.random.random((10, 3, 4)), np.random.random((10, 3, 2)), epochs=1, batch_size=10, verbose=0)

    # test config
    model.get_config()

    # test when specifying a batch_input_shape
    test_input = np.random.random((1, 3, 4))
    test_output = model.predict(test_input)
    weights = model.layers[0].get_weights()

    reference = Sequential()
    reference.add(TimeDistributed(Dense(2), batch_input_shape=(1, 3, 4)))
    reference.add(Activation("relu"))
    reference.compile(optimizer="rmsprop", loss="mse")
    reference.layers[0].set_weights(weights)

    reference_output = reference.predict(test_input)
    assert_allclose(test_output, reference_output, atol=1e-05)

    # test with Embedding
    model = Sequential()
    model.add(TimeDistributed(Embedding(5, 6), batch_input_shape=(10, 3, 4), dtype="int32"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.random.randint(5, size=(10, 3, 4), dtype="int32"), np.random.random((10, 3, 4, 6)), epochs=1,
              batch_size=10, verbose=0)

    # compare to not using batch_input_shape
    test_input = np.random.randint(5, size=(10, 3, 4), dtype="int32")
    test_output = model.predict(test_input)
    weights = model.layers[0].get_weights()

    reference = Sequential()
    reference.add(TimeDistributed(Embedding(5, 6), input_shape=(3, 4), dtype="int32"))
    reference.compile(optimizer="rmsprop", loss="mse")
    reference.layers[0].set_weights(weights)

    reference_output = reference.predict(test_input)
    assert_allclose(test_output, reference_output, atol=1e-05)

    # (the Conv2D part has no counterpart here; its model_from_json/summary checks run on the stacked model below)

    # test stacked layers
    model = Sequential()
    model.add(TimeDistributed(Dense(2), input_shape=(3, 4)))
    model.add(TimeDistributed(Dense(3)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")

    model.fit(np.random.random((10, 3, 4)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)
    model = model_from_json(model.to_json())
    model.summary()

    # test wrapping Sequential model
    model = Sequential()
    model.add(Dense(3, input_dim=2))
    outer_model = Sequential()
    outer_model.add(TimeDistributed(model, input_shape=(3, 2)))
    outer_model.compile(optimizer="rmsprop", loss="mse")
    outer_model.fit(np.random.random((10, 3, 2)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)

    # test with functional API
    x = Input(shape=(3, 2))
    y = TimeDistributed(model)(x)
    outer_model = Model(x, y)
    outer_model.compile(optimizer="rmsprop", loss="mse")
    outer_model.fit(np.random.random((10, 3, 2)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)

    # (the BatchNormalization part has no counterpart here)


def test_TimeDistributed_learning_phase():
    # test layers that need learning_phase to be set
    mg.seed(1234)  # Keras: np.random.seed(1234)
    x = Input(shape=(3, 2))
    y = TimeDistributed(Dropout(.999))(x, training=True)
    model = Model(x, y)
    y = model.predict(np.random.random((10, 3, 2)))
    assert_allclose(np.mean(y), 0., atol=1e-1, rtol=1e-1)


def test_TimeDistributed_trainable():
    # Keras wraps BatchNormalization (2 trainable weights and 2 updates); Dense has the 2 trainable weights and no
    # updates (there is no BatchNormalization here)
    x = Input(shape=(3, 2))
    layer = TimeDistributed(Dense(2))
    _ = layer(x)
    assert len(layer.trainable_weights) == 2
    layer.trainable = False
    assert len(layer.trainable_weights) == 0
    layer.trainable = True
    assert len(layer.trainable_weights) == 2


def test_regularizers():
    model = Sequential()
    model.add(TimeDistributed(Dense(2, kernel_regularizer="l1"), input_shape=(3, 4)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")
    assert len(model.layers[0].layer.losses) == 1
    assert len(model.layers[0].losses) == 1
    assert len(model.layers[0].get_losses_for(None)) == 1
    assert len(model.losses) == 1

    model = Sequential()
    model.add(TimeDistributed(Dense(2, activity_regularizer="l1"), input_shape=(3, 4)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.predict(np.random.random((2, 3, 4)))  # activity penalties exist after a call (docs/keras.md)
    assert len(model.losses) == 1


def test_Bidirectional():
    rnn = SimpleRNN
    samples = 2
    dim = 2
    timesteps = 2
    output_dim = 2
    dropout_rate = 0.2
    for mode in ["sum", "concat"]:
        x = np.random.random((samples, timesteps, dim))
        target_dim = 2 * output_dim if mode == "concat" else output_dim
        y = np.random.random((samples, target_dim))

        # test with Sequential model
        model = Sequential()
        model.add(Bidirectional(rnn(output_dim, dropout=dropout_rate, recurrent_dropout=dropout_rate),
                                merge_mode=mode, input_shape=(timesteps, dim)))
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)

        # test config
        model.get_config()
        model = model_from_json(model.to_json())
        model.summary()

        # test stacked bidirectional layers
        model = Sequential()
        model.add(Bidirectional(rnn(output_dim, return_sequences=True), merge_mode=mode,
                                input_shape=(timesteps, dim)))
        model.add(Bidirectional(rnn(output_dim), merge_mode=mode))
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)

        # test with functional API
        inputs = Input((timesteps, dim))
        outputs = Bidirectional(rnn(output_dim, dropout=dropout_rate, recurrent_dropout=dropout_rate),
                                merge_mode=mode)(inputs)
        model = Model(inputs, outputs)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)

        # Bidirectional and stateful
        inputs = Input(batch_shape=(1, timesteps, dim))
        outputs = Bidirectional(rnn(output_dim, stateful=True), merge_mode=mode)(inputs)
        model = Model(inputs, outputs)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)  # stateful: shuffle=False (docs/keras.md)


def test_Bidirectional_unkown_timespamps():
    # test with functional API with unknown length
    rnn = SimpleRNN
    samples = 2
    dim = 2
    timesteps = 2
    output_dim = 2
    dropout_rate = 0.2
    for mode in ["sum", "concat"]:
        x = np.random.random((samples, timesteps, dim))
        target_dim = 2 * output_dim if mode == "concat" else output_dim
        y = np.random.random((samples, target_dim))

        inputs = Input((None, dim))
        outputs = Bidirectional(rnn(output_dim, dropout=dropout_rate, recurrent_dropout=dropout_rate),
                                merge_mode=mode)(inputs)
        model = Model(inputs, outputs)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)


@pytest.mark.parametrize("merge_mode", ["sum", "mul", "ave", "concat", None])
def test_Bidirectional_merged_value(merge_mode):
    rnn = LSTM
    samples = 2
    dim = 5
    timesteps = 3
    units = 3
    X = np.random.rand(samples, timesteps, dim)

    if merge_mode == "sum":
        merge_func = lambda y, y_rev: y + y_rev
    elif merge_mode == "mul":
        merge_func = lambda y, y_rev: y * y_rev
    elif merge_mode == "ave":
        merge_func = lambda y, y_rev: (y + y_rev) / 2
    elif merge_mode == "concat":
        merge_func = lambda y, y_rev: np.concatenate((y, y_rev), axis=-1)
    else:
        merge_func = lambda y, y_rev: [y, y_rev]

    # basic case (K.function of the symbolic calls -> the eager calls on the same weights)
    layer = Bidirectional(rnn(units, return_sequences=True), merge_mode=merge_mode)
    y_merged = values(layer(X))
    y_forward = values(layer.forward_layer(X))
    y_backward = [y[:, ::-1] for y in values(layer.backward_layer(X))]  # K.reverse(..., 1)
    y_expected = as_list(merge_func(y_forward[0], y_backward[0]))
    assert len(y_merged) == len(y_expected)
    for x1, x2 in zip(y_merged, y_expected):
        assert_allclose(x1, x2, atol=1e-5)

    # test return_state
    layer = Bidirectional(rnn(units, return_state=True), merge_mode=merge_mode)
    y_merged = values(layer(X))
    y_forward = values(layer.forward_layer(X))
    y_backward = values(layer.backward_layer(X))
    n_states = len(layer.layer.states)

    y_expected = as_list(merge_func(y_forward[0], y_backward[0]))
    assert len(y_merged) == len(y_expected) + n_states * 2
    for x1, x2 in zip(y_merged, y_expected):
        assert_allclose(x1, x2, atol=1e-5)

    # test if the state of a BiRNN is the concatenation of the underlying RNNs
    y_merged = y_merged[-n_states * 2:]
    y_forward = y_forward[-n_states:]
    y_backward = y_backward[-n_states:]
    for state_birnn, state_inner in zip(y_merged, y_forward + y_backward):
        assert_allclose(state_birnn, state_inner, atol=1e-5)


@pytest.mark.parametrize("merge_mode", ["sum", "concat", None])
def test_Bidirectional_dropout(merge_mode):
    rnn = LSTM
    samples = 2
    dim = 5
    timesteps = 3
    units = 3
    X = np.random.rand(samples, timesteps, dim)

    # Keras: a call with training=True does not depend on the learning phase; here it applies dropout, so two
    # such calls differ, while calls without it agree
    wrapped = Bidirectional(rnn(units, dropout=0.2, recurrent_dropout=0.2), merge_mode=merge_mode)
    first, second = values(wrapped(X, training=True)), values(wrapped(X, training=True))
    assert any(not np.allclose(a, b) for a, b in zip(first, second))
    for a, b in zip(values(wrapped(X)), values(wrapped(X))):
        assert_allclose(a, b)

    inputs = Input((timesteps, dim))
    wrapped = Bidirectional(rnn(units, dropout=0.2, return_state=True), merge_mode=merge_mode)
    outputs = as_list(wrapped(inputs))

    model = Model(inputs, outputs)
    y1 = as_list(model.predict(X))
    y2 = as_list(model.predict(X))
    for x1, x2 in zip(y1, y2):
        assert_allclose(x1, x2, atol=1e-5)


def test_Bidirectional_state_reuse():
    rnn = LSTM
    samples = 2
    dim = 5
    timesteps = 3
    units = 3

    input1 = Input((timesteps, dim))
    layer = Bidirectional(rnn(units, return_state=True, return_sequences=True))
    state = layer(input1)[1:]

    # test passing invalid initial_state: passing a tensor
    input2 = Input((timesteps, dim))
    with pytest.raises(ValueError):
        Bidirectional(rnn(units))(input2, initial_state=state[0])

    # test valid usage: passing a list
    output = Bidirectional(rnn(units))(input2, initial_state=state)
    model = Model([input1, input2], output)
    assert len(model.layers) == 4
    assert isinstance(model.layers[-1].input, list)
    inputs = [np.random.rand(samples, timesteps, dim), np.random.rand(samples, timesteps, dim)]
    outputs = model.predict(inputs)
    assert outputs.shape == (samples, 2 * units)


def test_Bidirectional_with_constants():
    # `constants=` is refused (docs/keras.md); the checks then run on the model written the project's way
    x = Input((5, 5))
    c = Input((3,))
    assert_constants_refused(Bidirectional(RNN(RNNCellWithConstants(32))), x, c)

    # Test basic case.
    cell = RNNCellWithConstantsInItsInput(32, constant_dim=3)
    layer = Bidirectional(RNN(cell))
    y = layer(with_constant(x, c, 5))
    model = Model([x, c], y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch([np.zeros((6, 5, 5)), np.zeros((6, 3))], np.zeros((6, 64)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    c_np = np.random.random((6, 3))
    y_np = model.predict([x_np, c_np])
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(CONSTANT_CELLS):
        layer = Bidirectional.from_config(copy.deepcopy(config))
    y = layer(with_constant(x, c, 5))
    model = Model([x, c], y)
    model.set_weights(weights)
    y_np_2 = model.predict([x_np, c_np])
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # (the flat list form `layer([x, c])` passes constants too: refused with them)


def test_Bidirectional_with_constants_layer_passing_initial_state():
    # `constants=` is refused (docs/keras.md); the checks then run on the model written the project's way
    x = Input((5, 5))
    c = Input((3,))
    s_for = Input((32,))
    s_bac = Input((32,))
    assert_constants_refused(Bidirectional(RNN(RNNCellWithConstants(32))), x, c, initial_state=[s_for, s_bac])

    # Test basic case.
    cell = RNNCellWithConstantsInItsInput(32, constant_dim=3)
    layer = Bidirectional(RNN(cell))
    y = layer(with_constant(x, c, 5), initial_state=[s_for, s_bac])
    model = Model([x, s_for, s_bac, c], y)
    model.compile(optimizer="rmsprop", loss="mse")
    model.train_on_batch([np.zeros((6, 5, 5)), np.zeros((6, 32)), np.zeros((6, 32)), np.zeros((6, 3))],
                         np.zeros((6, 64)))

    # Test basic case serialization.
    x_np = np.random.random((6, 5, 5))
    s_fw_np = np.random.random((6, 32))
    s_bk_np = np.random.random((6, 32))
    c_np = np.random.random((6, 3))
    y_np = model.predict([x_np, s_fw_np, s_bk_np, c_np])
    weights = model.get_weights()
    config = layer.get_config()
    with CustomObjectScope(CONSTANT_CELLS):
        layer = Bidirectional.from_config(copy.deepcopy(config))
    y = layer(with_constant(x, c, 5), initial_state=[s_for, s_bac])
    model = Model([x, s_for, s_bac, c], y)
    model.set_weights(weights)
    y_np_2 = model.predict([x_np, s_fw_np, s_bk_np, c_np])
    assert_allclose(y_np, y_np_2, atol=1e-4)

    # verify that state is used
    y_np_2_different_s = model.predict([x_np, s_fw_np + 10., s_bk_np + 10., c_np])
    with pytest.raises(AssertionError):
        assert_allclose(y_np, y_np_2_different_s, atol=1e-4)

    # test flat list inputs (without constants: [x, initial states])
    with CustomObjectScope(CONSTANT_CELLS):
        layer = Bidirectional.from_config(copy.deepcopy(config))
    y = layer([with_constant(x, c, 5), s_for, s_bac])
    model = Model([x, s_for, s_bac, c], y)
    model.set_weights(weights)
    y_np_3 = model.predict([x_np, s_fw_np, s_bk_np, c_np])
    assert_allclose(y_np, y_np_3, atol=1e-4)


def test_Bidirectional_trainable():
    # test layers that need learning_phase to be set
    x = Input(shape=(3, 2))
    layer = Bidirectional(SimpleRNN(3))
    _ = layer(x)
    assert len(layer.trainable_weights) == 6
    layer.trainable = False
    assert len(layer.trainable_weights) == 0
    layer.trainable = True
    assert len(layer.trainable_weights) == 6


# ------------------------------------------------------------------ cudnn_recurrent_test.py: reset_after
# (CuDNNGRU has no counterpart here; its layout is read by preprocess_weights_for_loading, tested elsewhere)

def test_preprocess_weights_for_loading_gru_incompatible():
    """Loading weights between incompatible layers should fail fast with an exception."""
    def gru(**kwargs):
        return GRU(2, input_shape=[3, 5], **kwargs)

    def initialize_weights(layer):
        # A model is needed to initialize weights.
        _ = Sequential([layer])
        return layer

    def assert_not_compatible(src, dest, message):
        with pytest.raises(ValueError) as ex:
            preprocess_weights_for_loading(dest, initialize_weights(src).get_weights())
        # Keras' message is 'GRU(reset_after=False) is not compatible with GRU(reset_after=True)'; this project
        # words it differently and names both layers in the same order
        source, target = message.split(" is not compatible with ")
        text = str(ex.value)
        assert source in text and target in text and text.index(source) < text.index(target)

    assert_not_compatible(gru(), gru(reset_after=True),
                          "GRU(reset_after=False) is not compatible with GRU(reset_after=True)")
    assert_not_compatible(gru(reset_after=True), gru(),
                          "GRU(reset_after=True) is not compatible with GRU(reset_after=False)")


# ------------------------------------------------------------------ the fixes the ports led to, each tested alone

def test_layer_input_and_output_are_its_symbolic_call():
    x = Input((timesteps, embedding_dim))
    h0, c0 = Input((units,)), Input((units,))
    lstm = LSTM(units, return_state=True)
    out = lstm(x, initial_state=[h0, c0])
    dense = Dense(2)
    y = dense(out[0])
    assert dense.input is out[0] and dense.output is y
    assert lstm.input == [x, h0, c0] and lstm.output == out   # several tensors: lists, initial states included
    model = Model([x, h0, c0], y)
    assert model.input == [x, h0, c0] and model.output is y
    assert model.layers[0].output is x and model.layers[0].input is x   # an Input's layer: its placeholder
    with pytest.raises(AttributeError, match="not been called"):
        _ = Dense(2).input
    dense(out[1])  # a second call: .input is ambiguous, get_input_at(i) answers
    with pytest.raises(AttributeError, match="get_input_at"):
        _ = dense.input
    with pytest.raises(AttributeError, match="get_output_at"):
        _ = dense.output
    assert dense.get_input_at(1) is out[1] and dense.get_output_at(0) is y
    for bad in (2, -1, 0.5, True):
        with pytest.raises(ValueError, match="node_index"):
            dense.get_input_at(bad)


def test_layer_outputs_of_a_loaded_model_rebuild_its_parts():
    """Keras' lstm_seq2seq_restore pattern: model.input[i] and model.layers[i].output of a reloaded model."""
    enc_in, dec_in = Input((None, 3)), Input((None, 3))
    _, h, c = LSTM(4, return_state=True)(enc_in)
    seq = LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], Dense(3)(seq))
    twin = model_from_json(model.to_json())
    twin.set_weights(model.get_weights())
    encoder_lstm = next(layer for layer in twin.layers if isinstance(layer, LSTM))
    _, h_t, c_t = encoder_lstm.output
    encoder = Model(twin.input[0], [h_t, c_t])
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    _, h_want, c_want = next(layer for layer in model.layers if isinstance(layer, LSTM))(x)  # the original, eagerly
    h_got, c_got = encoder.predict(x)
    assert_allclose(h_got, h_want.data, rtol=1e-6)
    assert_allclose(c_got, c_want.data, rtol=1e-6)


def test_a_frozen_cell_or_direction_keeps_its_weights_out_of_training():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4, 5)), rng.standard_normal((8, 1))
    cells = [LSTMCell(3), GRUCell(2)]
    rnn = RNN(cells, input_shape=(4, 5))
    model = Sequential([rnn, Dense(1)])
    cells[0].trainable = False
    assert [id(w) for w in rnn.trainable_weights] == [id(w) for w in cells[1].weights]
    assert [id(w) for w in rnn.non_trainable_weights] == [id(w) for w in cells[0].weights]
    assert len(model.trainable_weights) == 3 + 2
    model.compile("sgd", "mse")
    frozen, free = cells[0].get_weights(), cells[1].get_weights()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for before, after in zip(frozen, cells[0].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert all(not np.array_equal(before, after) for before, after in zip(free, cells[1].get_weights()))

    bi = Bidirectional(LSTM(3), input_shape=(4, 5))
    model = Sequential([bi, Dense(1)])
    bi.forward_layer.trainable = False
    assert [id(w) for w in bi.trainable_weights] == [id(w) for w in bi.backward_layer.weights]
    model.compile("sgd", "mse")
    frozen, free = bi.forward_layer.get_weights(), bi.backward_layer.get_weights()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for before, after in zip(frozen, bi.forward_layer.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert all(not np.array_equal(before, after) for before, after in zip(free, bi.backward_layer.get_weights()))
    bi.trainable = False
    assert bi.trainable_weights == [] and rnn.trainable_weights != []


class AddingCell:
    """A cell that is not a Layer (Keras 2.1 accepts any object with state_size and call): h_t = x_t K + h_{t-1},
    and a second state that counts the steps."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.state_size = (kernel.shape[1], 1)

    def call(self, inputs, states, training=False):
        h = inputs @ self.kernel + states[0]
        return h, [h, states[1] + 1.0]


def test_a_cell_that_is_not_a_layer():
    rng = np.random.default_rng(0)
    kernel = rng.standard_normal((3, 4)).astype("float32")
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    out, h, steps = RNN(AddingCell(kernel), return_sequences=True, return_state=True)(x)
    want = np.cumsum(x @ kernel, axis=1)
    assert_allclose(out.data, want, rtol=1e-5)
    assert_allclose(h.data, want[:, -1], rtol=1e-5)
    assert_allclose(steps.data, np.full((2, 1), 5.0))
    mask = np.array([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1]], bool)   # a masked step carries both states
    _, _, steps = RNN(AddingCell(kernel), return_state=True)(x, mask=mask)
    assert_allclose(steps.data, [[4.0], [5.0]])

    # stacked with Layer cells, in a trained model: the plain cell has no weights, the others train
    stack = RNN([LSTMCell(3), AddingCell(rng.standard_normal((3, 4)).astype("float32"))], input_shape=(5, 3))
    model = Sequential([stack, Dense(1)])
    model.compile("adam", "mse")
    assert len(stack.weights) == 3 and stack.cell.state_size == [3, 3, 4, 1]
    model.fit(x, np.ones((2, 1)), epochs=1, verbose=0)

    # both directions, from a copy of the unbuilt layer
    y = Bidirectional(RNN(AddingCell(kernel), return_sequences=True))(x)
    assert_allclose(y.data[..., :4], want, rtol=1e-5)
    assert_allclose(y.data[..., 4:], np.cumsum((x @ kernel)[:, ::-1], axis=1)[:, ::-1], rtol=1e-5)

    # no config: saving by config says why
    model = Sequential([RNN(AddingCell(kernel), input_shape=(5, 3))])
    with pytest.raises(TypeError, match="not a Layer"):
        model.to_json()
    with pytest.raises(TypeError, match="state_size and call"):
        RNN(object())
    with pytest.raises(TypeError, match="state_size and call"):
        RNN([LSTMCell(2), object()])


def branchy_graph():
    """x -> a ------------> cat       (a is shallower than c, made before b and c)
       x -> b -> c ------/"""
    x = Input((3,), name="in")
    a = Dense(2, name="a")(x)
    c = Dense(5, name="c")(Dense(4, name="b")(x))
    return Model(x, concatenate([a, c], name="cat"))


def test_model_layers_are_in_keras_order():
    # deepest first (the longest path to an output), ties in the order a depth-first walk from the outputs
    # reaches them; the weights follow, as in Keras
    model = branchy_graph()
    assert [layer.name for layer in model.layers] == ["in", "b", "a", "c", "cat"]
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (3, 2), (2,), (4, 5), (5,)]
    twin = Model.from_config(model.get_config())
    assert [layer.name for layer in twin.layers] == ["in", "b", "a", "c", "cat"]

    # lstm_seq2seq_restore reads model.layers[2] as the encoder and [3] as the decoder
    enc_in, dec_in = Input((None, 3), name="enc"), Input((None, 3), name="dec")
    _, h, c = LSTM(4, return_state=True, name="encoder")(enc_in)
    seq = LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    model = Model([enc_in, dec_in], Dense(3, name="dense")(seq))
    assert [layer.name for layer in model.layers] == ["enc", "dec", "encoder", "decoder", "dense"]


def test_model_layers_and_weights_in_the_order_of_keras3():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = keras.Input((3,), name="in")
    a = keras.layers.Dense(2, name="a")(x)
    c = keras.layers.Dense(5, name="c")(keras.layers.Dense(4, name="b")(x))
    theirs = keras.Model(x, keras.layers.Concatenate(name="cat")([a, c]))
    ours = branchy_graph()
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    ours.set_weights(theirs.get_weights())  # Keras' weight list, as it is
    data = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    assert_allclose(ours.predict(data), np.asarray(theirs.predict(data, verbose=0)), rtol=1e-5, atol=1e-6)


def halved_mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(axis=-1) * 0.5


def test_custom_object_scope_names_the_users_objects_for_a_block(tmp_path):
    from layers import Lambda, load_model, model_from_json
    from layers.utils import custom_object_scope, get_custom_objects

    def doubled(x):
        return x * 2.0

    x = Input((4, 3))
    y = Lambda(doubled)(RNN(MinimalRNNCell(2), return_sequences=True)(x))
    model = Model(x, y)
    model.compile("sgd", halved_mse)
    path = str(tmp_path / "model.npz")
    model.save(path)
    with pytest.raises(ValueError, match="MinimalRNNCell"):
        model_from_json(model.to_json())
    objects = {"MinimalRNNCell": MinimalRNNCell, "doubled": doubled, "halved_mse": halved_mse}
    with CustomObjectScope(objects):  # classes, Lambda functions and losses, by name
        again = load_model(path)
        twin = model_from_json(model.to_json())
    data = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    assert_allclose(again.predict(data), model.predict(data))
    assert isinstance(twin.layers[1].cell, MinimalRNNCell)
    with pytest.raises(ValueError, match="MinimalRNNCell"):  # known in the block only
        model_from_json(model.to_json())

    with custom_object_scope({"MinimalRNNCell": Dense}):  # a call's own custom_objects win; scopes nest
        with custom_object_scope({"doubled": doubled}):
            assert set(get_custom_objects()) == {"MinimalRNNCell", "doubled"}
            model_from_json(model.to_json(), custom_objects={"MinimalRNNCell": MinimalRNNCell})
        assert set(get_custom_objects()) == {"MinimalRNNCell"}
    assert get_custom_objects() == {}
    with pytest.raises(TypeError, match="dicts"):
        CustomObjectScope(MinimalRNNCell)


@st.composite
def small_graphs(draw):
    """A random functional graph as a recipe: each op reads one earlier tensor (a Dense layer) or two (Add)."""
    n_inputs = draw(st.integers(1, 2))
    ops = []
    for i in range(draw(st.integers(1, 7))):
        available = n_inputs + i
        parents = draw(st.lists(st.integers(0, available - 1), min_size=1, max_size=2, unique=True))
        ops.append(parents)
    return n_inputs, ops


def build_graph(lib, n_inputs, ops):
    """The recipe's model in ``lib`` (this project's layers, or keras); outputs: the tensors nothing reads."""
    dense = lib.Dense if hasattr(lib, "Dense") else lib.layers.Dense
    add = lib.Add if hasattr(lib, "Add") else lib.layers.Add
    tensors = [lib.Input((3,), name=f"in{i}") for i in range(n_inputs)]
    for k, parents in enumerate(ops):
        ins = [tensors[p] for p in parents]
        tensors.append(dense(3, name=f"op{k}")(ins[0]) if len(ins) == 1 else add(name=f"op{k}")(ins))
    read = {p for parents in ops for p in parents}
    outputs = [t for j, t in enumerate(tensors) if j >= n_inputs and j not in read]
    used, stack = set(), [n_inputs + k for k in range(len(ops)) if n_inputs + k not in read]
    while stack:  # the inputs the outputs depend on
        j = stack.pop()
        if j < n_inputs:
            used.add(j)
        else:
            stack.extend(ops[j - n_inputs])
    return lib.Model([tensors[i] for i in sorted(used)], outputs)


def test_model_layers_order_of_random_graphs_is_keras3s():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")  # imported before hypothesis runs: importing it changes interpreter limits
    import layers

    @settings(deadline=None, max_examples=15)
    @given(small_graphs())
    def check(recipe):
        ours, theirs = build_graph(layers, *recipe), build_graph(keras, *recipe)
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        position = {layer.name: i for i, layer in enumerate(ours.layers)}
        for node in [n for layer in ours.layers for n in layer._inbound_nodes]:  # each layer after what it reads
            for parent in node.parents:
                assert position[parent.layer.name] < position[node.layer.name]

    check()
