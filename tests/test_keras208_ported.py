"""Keras 2.0.8's own recurrent-layer and wrapper tests, ported to this project's API.

Each test keeps the original's name and checks. Where this project deliberately differs from Keras 2.0 the
port follows the project (see docs/keras.md) and says so in a comment:
- unroll=True with one timestep is allowed;
- a stateful model refuses fit(shuffle=True), so the stateful fits pass shuffle=False;
- activity penalties exist after a call (there is no symbolic graph before it).
Backend calls become numpy: K.variable(a) -> a, K.eval(v) -> np.asarray(v).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import minigrad as mg
from layers import (
    GRU,
    LSTM,
    Activation,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Input,
    Masking,
    Model,
    Sequential,
    SimpleRNN,
    TimeDistributed,
    model_from_json,
    regularizers,
)

num_samples, timesteps, embedding_dim, units = 2, 5, 4, 3
embedding_num = 12

rnn_test = pytest.mark.parametrize("layer_class", [SimpleRNN, GRU, LSTM])


def layer_test(layer_cls, kwargs={}, input_shape=None, input_dtype=None, input_data=None, expected_output=None,
               expected_output_dtype=None, fixed_batch_size=False):
    """keras.utils.test_utils.layer_test (2.0.8), step by step."""
    kwargs = dict(kwargs)
    if input_data is None:
        input_dtype = input_dtype or "float32"
        shape = [np.random.randint(1, 4) if e is None else e for e in input_shape]
        input_data = (10 * np.random.random(shape)).astype(input_dtype)
    else:
        input_shape = input_shape or input_data.shape
        input_dtype = input_dtype or input_data.dtype
    expected_output_dtype = expected_output_dtype or input_dtype

    layer = layer_cls(**kwargs)
    weights = layer.get_weights()
    layer.set_weights(weights)
    if len(weights):
        kwargs["weights"] = weights
        layer = layer_cls(**kwargs)

    x = Input(batch_shape=input_shape, dtype=input_dtype) if fixed_batch_size else \
        Input(shape=input_shape[1:], dtype=input_dtype)
    y = layer(x)
    assert np.dtype(y.dtype) == np.dtype(expected_output_dtype)

    model = Model(x, y)
    expected_output_shape = layer.compute_output_shape(input_shape)
    actual_output = model.predict(input_data)
    for e, a in zip(expected_output_shape, actual_output.shape):
        if e is not None:
            assert e == a
    if expected_output is not None:
        assert_allclose(actual_output, expected_output, rtol=1e-3)

    recovered = Model.from_config(model.get_config())
    if model.weights:
        recovered.set_weights(model.get_weights())
        assert_allclose(recovered.predict(input_data), actual_output, rtol=1e-3)

    model.compile("rmsprop", "mse")
    model.train_on_batch(input_data, actual_output)

    layer_config = layer.get_config()
    layer_config["batch_input_shape"] = input_shape
    layer = layer.__class__.from_config(layer_config)
    model = Sequential()
    model.add(layer)
    actual_output = model.predict(input_data)
    for e, a in zip(expected_output_shape, actual_output.shape):
        if e is not None:
            assert e == a
    recovered = Sequential.from_config(model.get_config())
    if model.weights:
        recovered.set_weights(model.get_weights())
        assert_allclose(recovered.predict(input_data), actual_output, rtol=1e-3)
    model.compile("rmsprop", "mse")
    model.train_on_batch(input_data, actual_output)


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
        model.fit(x, y)
    with pytest.raises(ValueError):
        model.predict(x, batch_size=num_samples + 1)


@rnn_test
def test_dropout(layer_class):
    layer_test(layer_class, kwargs={"units": units, "dropout": 0.1, "recurrent_dropout": 0.1},
               input_shape=(num_samples, timesteps, embedding_dim))
    x = np.random.random((num_samples, timesteps, embedding_dim))
    layer = layer_class(units, dropout=0.5, recurrent_dropout=0.5, input_shape=(timesteps, embedding_dim))
    model = Sequential([layer])
    assert_allclose(model.predict(x), model.predict(x))


@rnn_test
def test_implementation_mode(layer_class):
    for mode in [0, 1, 2]:
        layer_test(layer_class, kwargs={"units": units, "implementation": mode},
                   input_shape=(num_samples, timesteps, embedding_dim))
    layer_test(layer_class, kwargs={"units": units, "implementation": mode, "dropout": 0.1,
                                    "recurrent_dropout": 0.1},
               input_shape=(num_samples, timesteps, embedding_dim))


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
    model.train_on_batch(np.ones((num_samples, timesteps)), np.ones((num_samples, units)))
    out2 = model.predict(np.ones((num_samples, timesteps)))
    assert out1.max() != out2.max()
    layer.reset_states()
    out3 = model.predict(np.ones((num_samples, timesteps)))
    assert out2.max() != out3.max()
    model.reset_states()
    out4 = model.predict(np.ones((num_samples, timesteps)))
    assert_allclose(out3, out4, atol=1e-5)
    out5 = model.predict(np.ones((num_samples, timesteps)))
    assert out4.max() != out5.max()
    layer.reset_states()
    left = np.ones((num_samples, timesteps))
    left[0, :1] = 0
    left[1, :2] = 0
    out6 = model.predict(left)
    layer.reset_states()
    right = np.ones((num_samples, timesteps))
    right[0, -1:] = 0
    right[1, -2:] = 0
    out7 = model.predict(right)
    assert_allclose(out7, out6, atol=1e-5)


@rnn_test
def test_regularizer(layer_class):
    layer = layer_class(units, return_sequences=False, weights=None,
                        batch_input_shape=(num_samples, timesteps, embedding_dim),
                        kernel_regularizer=regularizers.l1(0.01), recurrent_regularizer=regularizers.l1(0.01),
                        activity_regularizer="l1", bias_regularizer="l2")
    layer.build((None, None, 2))
    assert len(layer.losses) == 3
    layer(np.ones((2, 3, 2)))
    assert len(layer.losses) == 4


def test_masking_layer():
    inputs = np.random.random((6, 3, 4))
    targets = np.abs(np.random.random((6, 3, 5)))
    targets /= targets.sum(axis=-1, keepdims=True)
    for unroll in (False, True):
        model = Sequential()
        model.add(Masking(input_shape=(3, 4)))
        model.add(LSTM(units=5, return_sequences=True, unroll=unroll))
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        model.fit(inputs, targets, epochs=1, batch_size=100, verbose=0)


@rnn_test
def test_from_config(layer_class):
    for stateful in (False, True):
        l1 = layer_class(units=1, stateful=stateful)
        l2 = layer_class.from_config(l1.get_config())
        assert l1.get_config() == l2.get_config()


@rnn_test
def test_specify_initial_state_keras_tensor(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    inputs = Input((timesteps, embedding_dim))
    initial_state = [Input((units,)) for _ in range(num_states)]
    layer = layer_class(units)
    output = layer(inputs, initial_state=initial_state[0] if num_states == 1 else initial_state)
    model = Model([inputs] + initial_state, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.random.random((num_samples, timesteps, embedding_dim))
    states = [np.random.random((num_samples, units)) for _ in range(num_states)]
    model.fit([x] + states, np.random.random((num_samples, units)), verbose=0)


@rnn_test
def test_specify_initial_state_non_keras_tensor(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    inputs = Input((timesteps, embedding_dim))
    initial_state = [np.random.normal(0, 1, (num_samples, units)) for _ in range(num_states)]
    output = layer_class(units)(inputs, initial_state=initial_state)
    model = Model(inputs, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.random.random((num_samples, timesteps, embedding_dim))
    model.fit(x, np.random.random((num_samples, units)), verbose=0)


@rnn_test
def test_reset_states_with_values(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    layer = layer_class(units, stateful=True)
    layer.build((num_samples, timesteps, embedding_dim))
    layer.reset_states()
    assert len(layer.states) == num_states
    assert layer.states[0] is not None
    assert_allclose(np.asarray(layer.states[0]), np.zeros(np.shape(layer.states[0])), atol=1e-4)
    values = [np.ones(np.shape(s)) for s in layer.states]
    layer.reset_states(values[0] if len(values) == 1 else values)
    assert_allclose(np.asarray(layer.states[0]), np.ones(np.shape(layer.states[0])), atol=1e-4)
    with pytest.raises(ValueError):
        layer.reset_states([1] * (len(layer.states) + 1))


@rnn_test
def test_initial_states_as_other_inputs(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    main_inputs = Input((timesteps, embedding_dim))
    initial_state = [Input((units,)) for _ in range(num_states)]
    inputs = [main_inputs] + initial_state
    output = layer_class(units)(inputs)
    model = Model(inputs, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.random.random((num_samples, timesteps, embedding_dim))
    states = [np.random.random((num_samples, units)) for _ in range(num_states)]
    model.train_on_batch([x] + states, np.random.random((num_samples, units)))


@rnn_test
def test_specify_state_with_masking(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    inputs = Input((timesteps, embedding_dim))
    _ = Masking()(inputs)
    initial_state = [Input((units,)) for _ in range(num_states)]
    output = layer_class(units)(inputs, initial_state=initial_state)
    model = Model([inputs] + initial_state, output)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = np.random.random((num_samples, timesteps, embedding_dim))
    states = [np.random.random((num_samples, units)) for _ in range(num_states)]
    model.fit([x] + states, np.random.random((num_samples, units)), verbose=0)


@rnn_test
def test_return_state(layer_class):
    num_states = 2 if layer_class is LSTM else 1
    inputs = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    layer = layer_class(units, return_state=True, stateful=True)
    outputs = layer(inputs)
    output, state = outputs[0], outputs[1:]
    assert len(state) == num_states
    model = Model(inputs, state[0])
    x = np.random.random((num_samples, timesteps, embedding_dim))
    predicted = model.predict(x)
    assert_allclose(np.asarray(layer.states[0]), predicted, atol=1e-4)


@rnn_test
def test_state_reuse(layer_class):
    inputs = Input(batch_shape=(num_samples, timesteps, embedding_dim))
    layer = layer_class(units, return_state=True, return_sequences=True)
    outputs = layer(inputs)
    output, state = outputs[0], outputs[1:]
    output = layer_class(units)(output, initial_state=state)
    model = Model(inputs, output)
    model.predict(np.random.random((num_samples, timesteps, embedding_dim)))


def test_unroll_true_with_one_timestep_is_allowed():
    # Keras 2.0.7+ raised here; this project allows it (docs/keras.md)
    model = Sequential()
    model.add(LSTM(units=5, batch_input_shape=(1, 1, 5), unroll=True))
    assert model.predict(np.ones((1, 1, 5))).shape == (1, 5)


# ------------------------------------------------------------------ wrappers_test.py

def test_TimeDistributed():
    model = Sequential()
    model.add(TimeDistributed(Dense(2), input_shape=(3, 4)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.random.random((10, 3, 4)), np.random.random((10, 3, 2)), epochs=1, batch_size=10, verbose=0)
    model.get_config()
    test_input = np.random.random((1, 3, 4))
    test_output = model.predict(test_input)
    weights = model.layers[0].get_weights()
    reference = Sequential()
    reference.add(TimeDistributed(Dense(2), batch_input_shape=(1, 3, 4)))
    reference.add(Activation("relu"))
    reference.compile(optimizer="rmsprop", loss="mse")
    reference.layers[0].set_weights(weights)
    assert_allclose(test_output, reference.predict(test_input), atol=1e-05)

    model = Sequential()
    model.add(TimeDistributed(Embedding(5, 6), batch_input_shape=(10, 3, 4), dtype="int32"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.random.randint(5, size=(10, 3, 4), dtype="int32"), np.random.random((10, 3, 4, 6)), epochs=1,
              batch_size=10, verbose=0)
    test_input = np.random.randint(5, size=(10, 3, 4), dtype="int32")
    test_output = model.predict(test_input)
    weights = model.layers[0].get_weights()
    reference = Sequential()
    reference.add(TimeDistributed(Embedding(5, 6), input_shape=(3, 4), dtype="int32"))
    reference.compile(optimizer="rmsprop", loss="mse")
    reference.layers[0].set_weights(weights)
    assert_allclose(test_output, reference.predict(test_input), atol=1e-05)

    model = Sequential()
    model.add(TimeDistributed(Dense(2), input_shape=(3, 4)))
    model.add(TimeDistributed(Dense(3)))
    model.add(Activation("relu"))
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(np.random.random((10, 3, 4)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)
    model = model_from_json(model.to_json())
    model.summary()

    model = Sequential()
    model.add(Dense(3, input_dim=2))
    outer_model = Sequential()
    outer_model.add(TimeDistributed(model, input_shape=(3, 2)))
    outer_model.compile(optimizer="rmsprop", loss="mse")
    outer_model.fit(np.random.random((10, 3, 2)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)

    x = Input(shape=(3, 2))
    y = TimeDistributed(model)(x)
    outer_model = Model(x, y)
    outer_model.compile(optimizer="rmsprop", loss="mse")
    outer_model.fit(np.random.random((10, 3, 2)), np.random.random((10, 3, 3)), epochs=1, batch_size=10, verbose=0)


def test_TimeDistributed_learning_phase():
    mg.seed(1234)
    x = Input(shape=(3, 2))
    y = TimeDistributed(Dropout(.999))(x, training=True)
    model = Model(x, y)
    y = model.predict(np.random.random((10, 3, 2)))
    assert_allclose(np.mean(y), 0., atol=1e-1, rtol=1e-1)


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
    samples = dim = timesteps = output_dim = 2
    dropout_rate = 0.2
    for mode in ["sum", "concat"]:
        x = np.random.random((samples, timesteps, dim))
        target_dim = 2 * output_dim if mode == "concat" else output_dim
        y = np.random.random((samples, target_dim))

        model = Sequential()
        model.add(Bidirectional(rnn(output_dim, dropout=dropout_rate, recurrent_dropout=dropout_rate),
                                merge_mode=mode, input_shape=(timesteps, dim)))
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)
        model.get_config()
        model = model_from_json(model.to_json())
        model.summary()

        model = Sequential()
        model.add(Bidirectional(rnn(output_dim, return_sequences=True), merge_mode=mode,
                                input_shape=(timesteps, dim)))
        model.add(Bidirectional(rnn(output_dim), merge_mode=mode))
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)

        inputs = Input((timesteps, dim))
        outputs = Bidirectional(rnn(output_dim, dropout=dropout_rate, recurrent_dropout=dropout_rate),
                                merge_mode=mode)(inputs)
        model = Model(inputs, outputs)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0)

        inputs = Input(batch_shape=(1, timesteps, dim))
        outputs = Bidirectional(rnn(output_dim, stateful=True), merge_mode=mode)(inputs)
        model = Model(inputs, outputs)
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)  # stateful: shuffle=False required
