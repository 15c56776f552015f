"""NaN and Inf: refused in the data, never written into the weights (layers/training.py).

Data: every entry point that takes x, y, weights or validation data raises ValueError naming the array and the
index of the first non-finite value, and changes nothing. Training that blows up (a loss or update that is not
finite): the batch is not applied, fit warns and stops, and the weights are those of the last finite update.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Dense, Input, Model, Sequential
from optim import SGD, Adam
from optim.callbacks import LambdaCallback, TerminateOnNaN


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def model_and_data():
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.compile(Adam(), "mse")
    return model, rand(10, 3), rand(10, 1, seed=1)


def unchanged(model, before):
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0 and all(model.optimizer.get_state(w) == {} for w in model.weights)


ENTRY_POINTS = {
    "fit": lambda m, x, y: m.fit(x, y, verbose=0),
    "train_on_batch": lambda m, x, y: m.train_on_batch(x, y),
    "evaluate": lambda m, x, y: m.evaluate(x, y, verbose=0),
    "test_on_batch": lambda m, x, y: m.test_on_batch(x, y),
    "fit validation_data": lambda m, x, y: m.fit(np.zeros_like(x), np.zeros_like(y), verbose=0,
                                                 validation_data=(x, y)),
    "fit_generator": lambda m, x, y: m.fit_generator(iter([(x, y)]), steps_per_epoch=1, verbose=0),
    "evaluate_generator": lambda m, x, y: m.evaluate_generator(iter([(x, y)]), steps=1),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("which", ["x", "y"])
@given(index=st.tuples(st.integers(0, 9), st.integers(0, 2)),
       bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_non_finite_data_is_refused_with_its_index(entry, which, index, bad):
    model, x, y = model_and_data()
    before = model.get_weights()
    target = x if which == "x" else y
    index = index if which == "x" else (index[0], 0)
    target[index] = bad
    label = ("validation " if "validation" in entry else "") + which
    with pytest.raises(ValueError, match=rf"{label} holds -?(nan|inf) at index \({index[0]}, {index[1]}\)"):
        ENTRY_POINTS[entry](model, x, y)
    unchanged(model, before)


def test_the_first_non_finite_value_is_named_for_the_right_input():
    a, b = Input(shape=(2,), name="first"), Input(shape=(3,), name="second")
    model = Model([a, b], [Dense(1, name="out_a")(a), Dense(1, name="out_b")(b)])
    model.compile("sgd", "mse")
    xb = rand(4, 3)
    xb[2, 1], xb[3, 0] = np.inf, np.nan
    with pytest.raises(ValueError, match=r"x\[1\] \('second'\) holds inf at index \(2, 1\)"):
        model.fit([rand(4, 2), xb], [rand(4, 1), rand(4, 1)], verbose=0)
    yb = rand(4, 1)
    yb[1, 0] = -np.inf
    with pytest.raises(ValueError, match=r"y\[1\] \('out_b'\) holds -inf at index \(1, 0\)"):
        model.train_on_batch([rand(4, 2), rand(4, 3)], [rand(4, 1), yb])


def test_integer_inputs_are_not_scanned_and_weights_are():
    model, x, y = model_and_data()
    w = np.ones(10)
    w[7] = np.inf
    with pytest.raises(ValueError, match=r"sample_weight holds inf at index \(7,\)"):
        model.fit(x, y, sample_weight=w, verbose=0)
    with pytest.raises(ValueError, match=r"validation sample_weight holds inf"):
        model.fit(x, y, validation_data=(x, y, w), verbose=0)


# ============================================================ a model that blows up

def exploding():
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(lr=1e19), "mse")  # the second update overflows float32
    return model


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the forward pass overflows on purpose
def test_fit_stops_before_a_non_finite_update_and_keeps_the_last_finite_weights():
    model = exploding()
    x, y = rand(20, 3), rand(20, 1)
    snapshots = []
    record = LambdaCallback(on_batch_begin=lambda b, logs: snapshots.append(model.get_weights()))
    with pytest.warns(RuntimeWarning, match=r"epoch 1, batch \d+: .*not applied and training stops"):
        h = model.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[record])
    assert len(h.history["loss"]) == 1 and not np.isfinite(h.history["loss"][0])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    for a, b in zip(snapshots[-1], model.get_weights()):  # exactly the weights before the bad batch
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == len(snapshots) - 1  # one count per applied update


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the forward pass overflows on purpose
def test_train_on_batch_skips_a_non_finite_update_with_a_warning():
    model = exploding()
    x, y = rand(4, 3), rand(4, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.train_on_batch(x, y)
    before = model.get_weights()
    with pytest.warns(RuntimeWarning, match="not applied"):
        loss = model.train_on_batch(x * 1e10, y)
    assert not np.isfinite(loss)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_prints_and_stops(capsys):
    model = exploding()
    x, y = rand(20, 3), rand(20, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert len(h.history["loss"]) == 1
