"""Sequential: building the stack (shape inference and its errors), weights, summary, masks through the stack."""
import numpy as np
import pytest

import minigrad as mg
from layers.core import Activation, Dense, Dropout, Embedding, Flatten, Masking, TimeDistributed
from layers.recurrent import GRU, LSTM, SimpleRNN
from layers.sequential import Sequential


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


# ------------------------------------------------------------ shape inference

def test_shapes_are_inferred_as_layers_are_added():
    model = Sequential()
    model.add(Dense(8, input_shape=(4,)))
    assert model.output_shape == (None, 8)
    assert model.input_shape == (None, 4)
    model.add(Dense(3, activation="softmax"))
    assert model.output_shape == (None, 3)
    # every layer is built at add, from the previous output shape
    assert [w.shape for w in model.weights] == [(4, 8), (8,), (8, 3), (3,)]


def test_recurrent_stack_shapes_and_fixed_batch():
    model = Sequential([Embedding(20, 6, input_length=7), LSTM(5, return_sequences=True),
                        TimeDistributed(Dense(2)), GRU(4), Dense(1)])
    assert [layer.output_shape for layer in model.layers][:3] == [(None, 7, 6), (None, 7, 5), (None, 7, 2)]
    assert model.output_shape == (None, 1)
    stateful = Sequential([SimpleRNN(3, stateful=True, batch_input_shape=(4, 5, 2)), Dense(1)])
    assert stateful.input_shape == (4, 5, 2)
    assert stateful.output_shape == (4, 1)


def test_api_example_shape():
    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 64)))
    assert model.output_shape == (None, 32)


def test_input_dim_is_accepted_for_the_first_layer():
    model = Sequential([Dense(2, input_dim=3)])
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)


def test_first_layer_without_input_shape_raises():
    with pytest.raises(ValueError, match="input_shape"):
        Sequential().add(Dense(3))


@pytest.mark.parametrize("bad", [lambda: LSTM(4), lambda: TimeDistributed(Dense(2))])
def test_layer_that_cannot_take_previous_output_raises_and_leaves_model_unchanged(bad):
    model = Sequential([Dense(5, input_shape=(3,))])  # 2-D output; LSTM and TimeDistributed need 3-D
    layer = bad()
    with pytest.raises(ValueError, match=layer.name) as info:
        model.add(layer)
    assert "(None, 5)" in str(info.value)
    assert len(model.layers) == 1 and model.output_shape == (None, 5)


def test_prebuilt_layer_with_other_input_dim_is_refused():
    dense = Dense(2)
    dense(np.zeros((1, 7), np.float32))  # built for input_dim 7
    model = Sequential([Dense(5, input_shape=(3,))])
    with pytest.raises(ValueError, match="cannot add layer"):
        model.add(dense)


def test_flatten_needs_known_sizes():
    model = Sequential([LSTM(3, return_sequences=True, input_shape=(None, 2))])
    with pytest.raises(ValueError, match="Flatten"):
        model.add(Flatten())


def test_add_rejects_non_layers_duplicates_and_multi_output_layers():
    dense = Dense(2, input_shape=(3,))
    model = Sequential([dense])
    with pytest.raises(TypeError):
        model.add("dense")
    with pytest.raises(ValueError, match="already"):
        model.add(dense)
    with pytest.raises(TypeError, match="return_state"):
        Sequential([LSTM(3, return_state=True, input_shape=(4, 2))])


def test_pop_updates_the_output_shape():
    model = Sequential([Dense(5, input_shape=(3,)), Dense(2), Activation("relu")])
    model.pop()
    assert model.output_shape == (None, 2) and len(model.layers) == 2
    model.pop()
    model.pop()
    with pytest.raises(TypeError):
        model.pop()
    with pytest.raises(TypeError, match="empty"):
        _ = model.output_shape


# ------------------------------------------------------------ weights

def _mlp():
    return Sequential([Dense(4, input_shape=(3,)), Dropout(0.5), Dense(2)])


def test_weights_in_keras_order_and_set_get_round_trip():
    model = _mlp()
    assert [w.name for w in model.weights] == [w.name for layer in model.layers for w in layer.weights]
    new = [np.full(w.shape, i, dtype=np.float64) for i, w in enumerate(model.weights)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        assert got.dtype == np.float32 and np.array_equal(got, want)
    assert len(model.trainable_weights) == 4 and model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


@pytest.mark.parametrize("mutate", ["count", "shape"])
def test_set_weights_checks_everything_before_touching(mutate):
    model = _mlp()
    before = model.get_weights()
    bad = [w + 1 for w in before]
    if mutate == "count":
        bad = bad[:-1]
    else:
        bad[-1] = np.zeros(3)  # the last one is wrong: the first three must not have been written
    with pytest.raises(ValueError):
        model.set_weights(bad)
    for got, want in zip(model.get_weights(), before):
        assert np.array_equal(got, want)


def test_frozen_layer_weights_are_not_trainable():
    model = Sequential([Dense(4, input_shape=(3,), trainable=False), Dense(1)])
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


# ------------------------------------------------------------ summary

def test_summary_table(capsys):
    model = Sequential([LSTM(32, input_shape=(10, 64)), Dense(1, trainable=False)])
    model.summary()
    out = capsys.readouterr().out
    for text in ("Layer (type)", "Output Shape", "Param #", "(LSTM)", "(None, 32)", "(None, 1)", "12,416"):
        assert text in out
    assert "Total params: 12,449" in out
    assert "Trainable params: 12,416" in out
    assert "Non-trainable params: 33" in out
    lines = out.splitlines()
    assert lines[0] == "_" * 65 and lines[2] == "=" * 65


# ------------------------------------------------------------ masks through the stack

def test_mask_reaching_flatten_raises_type_error_naming_it():
    flatten = Flatten()
    model = Sequential([Embedding(10, 3, mask_zero=True, input_length=4), LSTM(2, return_sequences=True),
                        flatten, Dense(1)])
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    with pytest.raises(TypeError, match=flatten.name):
        model.predict(x)
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="mask"):
        model.fit(x, np.zeros((2, 1)), verbose=0)


def test_mask_is_propagated_and_masked_timesteps_do_not_count_in_the_loss():
    model = Sequential([Masking(0., input_shape=(3, 2)), Dense(1)])
    model.compile("sgd", "mse")
    x = np.array([[[1., 2.], [0., 0.], [3., 1.]]], np.float32)  # step 1 is masked
    y = np.zeros((1, 3, 1), np.float32)
    y_other = y.copy()
    y_other[0, 1, 0] = 100.  # a target at the masked step
    assert model.test_on_batch(x, y) == pytest.approx(model.test_on_batch(x, y_other))
    pred = model.predict(x)
    # the loss is the mean over the two unmasked steps only (Keras: mean(loss * mask) / mean(mask))
    assert model.test_on_batch(x, y) == pytest.approx(float(np.mean(pred[0, [0, 2], 0] ** 2)), rel=1e-5)


def test_model_reset_states_resets_only_stateful_layers():
    model = Sequential([LSTM(3, stateful=True, return_sequences=True, batch_input_shape=(2, 4, 1)), LSTM(2)])
    x = np.ones((2, 4, 1), np.float32)
    first = model.predict(x, batch_size=2)
    second = model.predict(x, batch_size=2)  # starts from the carried state
    assert not np.allclose(first, second)
    model.reset_states()  # must not call reset_states on the non-stateful LSTM (that would raise)
    assert np.allclose(model.predict(x, batch_size=2), first)
    assert model.stateful


def test_eager_call_records_on_the_tape():
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    out = model(np.ones((4, 3)))
    out.sum().backward()
    assert all(w.grad is not None for w in model.weights)
