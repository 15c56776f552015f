"""Keras 2.0 conveniences of the training loop: predict_classes / predict_proba, np.random.seed reproducibility,
stateful models and shuffle, inputs and targets given as dicts, compile's checks."""
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.random as mg_random
from layers import LSTM, Dense, Dropout, Sequential
from layers.functional import Input, Model
from optim import SGD


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ============================================================ predict_classes / predict_proba

def test_predict_classes_argmax_or_threshold_as_keras_2_0():
    mg.seed(0)
    x = rand(9, 4)
    multi = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    probs = multi.predict(x)
    np.testing.assert_array_equal(multi.predict_classes(x, batch_size=4), probs.argmax(axis=-1))
    np.testing.assert_array_equal(multi.predict_proba(x), probs)
    single = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    classes = single.predict_classes(x)
    assert classes.dtype == np.int32 and classes.shape == (9, 1)
    np.testing.assert_array_equal(classes, (single.predict(x) > 0.5).astype(np.int32))


def test_predict_proba_warns_on_values_outside_0_1_and_several_outputs_are_refused():
    mg.seed(0)
    linear = Sequential([Dense(2, input_shape=(4,))])
    linear.set_weights([np.full((4, 2), 10., np.float32), np.zeros(2, np.float32)])
    with pytest.warns(RuntimeWarning, match="outside"):
        linear.predict_proba(np.ones((2, 4), np.float32))
    inp = Input(shape=(4,))
    two = Model(inp, [Dense(1)(inp), Dense(2)(inp)])
    with pytest.raises(TypeError, match="one output"):
        two.predict_classes(rand(3, 4))


# ============================================================ np.random.seed alone makes a run repeatable

def keras_script(seed):
    """A Keras 2.0 style run: np.random.seed at the top, mg.seed never called."""
    np.random.seed(seed)
    mg_random._rng = None  # as in a fresh process
    x = np.random.randn(32, 4).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    model = Sequential([Dense(8, activation="tanh", input_shape=(4,)), Dropout(0.5), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    h = model.fit(x, y, batch_size=8, epochs=2, verbose=0)  # shuffled, with dropout masks
    return h.history["loss"], model.get_weights()


def test_np_random_seed_alone_makes_a_keras_script_repeatable(monkeypatch):
    monkeypatch.setattr(mg_random, "_rng", None)
    loss_a, w_a = keras_script(1337)
    loss_b, w_b = keras_script(1337)
    assert loss_a == loss_b and all(np.array_equal(a, b) for a, b in zip(w_a, w_b))
    loss_c, _ = keras_script(1338)
    assert loss_c != loss_a


def test_the_generator_is_seeded_once_at_the_first_draw_and_mg_seed_takes_over(monkeypatch):
    monkeypatch.setattr(mg_random, "_rng", None)
    np.random.seed(5)
    first = mg.get_rng()
    assert mg.get_rng() is first  # not re-seeded at each draw
    draws = first.random(3)
    np.random.seed(5)
    monkeypatch.setattr(mg_random, "_rng", None)
    np.testing.assert_array_equal(mg.get_rng().random(3), draws)
    mg.seed(0)
    a = mg.get_rng().random(3)
    np.random.seed(99)
    mg.seed(0)
    np.testing.assert_array_equal(mg.get_rng().random(3), a)  # after mg.seed, np.random does not matter


# ============================================================ stateful models and shuffle

def stateful():
    model = Sequential([LSTM(3, stateful=True, batch_input_shape=(4, 5, 2)), Dense(1)])
    model.compile("sgd", "mse")
    return model


@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_stateful_model_refuses_shuffle(shuffle):
    mg.seed(0)
    model = stateful()
    before = model.get_weights()
    with pytest.raises(ValueError, match="shuffle=False"):
        model.fit(np.zeros((8, 5, 2), np.float32), np.zeros((8, 1), np.float32), batch_size=4, shuffle=shuffle,
                  verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.fit(np.zeros((8, 5, 2), np.float32), np.zeros((8, 1), np.float32), batch_size=4, shuffle=False, verbose=0)


# ============================================================ dicts keyed by input and output names

def test_inputs_and_targets_as_dicts_by_name():
    mg.seed(0)
    a, b = Input(shape=(2,), name="left"), Input(shape=(3,), name="right")
    model = Model([a, b], [Dense(1, name="out_a")(a), Dense(1, name="out_b")(b)])
    model.compile(SGD(lr=0.), "mse")
    xa, xb, ya, yb = rand(6, 2), rand(6, 3, seed=1), rand(6, 1, seed=2), rand(6, 1, seed=3)
    as_lists = model.evaluate([xa, xb], [ya, yb], verbose=0)
    as_dicts = model.evaluate({"right": xb, "left": xa}, {"out_b": yb, "out_a": ya}, verbose=0)
    assert as_lists == as_dicts
    np.testing.assert_array_equal(model.predict({"left": xa, "right": xb})[1], model.predict([xa, xb])[1])
    with pytest.raises(ValueError, match=r"unknown name\(s\) \['middle'\].*missing \['right'\]"):
        model.predict({"left": xa, "middle": xb})


# ============================================================ compile checks everything, then assigns

@pytest.mark.parametrize("kwargs, error, match", [
    ({"loss_weights": [1., -1.]}, ValueError, "loss_weights"),
    ({"loss_weights": [1., float("nan")]}, ValueError, "loss_weights"),
    ({"loss_weights": [True, 1.]}, ValueError, "loss_weights"),
    ({"loss_weights": {"nope": 1.}}, ValueError, "unknown output"),
    ({"metrics": ["no_such_metric"]}, ValueError, "no_such_metric"),
    ({"sample_weight_mode": ["temporal"]}, ValueError, "list of 1"),
    ({"weighted_metrics": ["acc"]}, NotImplementedError, "weighted_metrics"),
    ({"optimiser": "sgd"}, TypeError, "optimiser"),
])
def test_a_failed_compile_changes_nothing(kwargs, error, match):
    mg.seed(0)
    inp = Input(shape=(2,))
    model = Model(inp, [Dense(1, name="p")(inp), Dense(1, name="q")(inp)])
    model.compile(SGD(lr=0.5), "mse", metrics=["mae"])
    state = (model.optimizer, model.loss_functions, model.loss_weights, model.metrics_names)
    with pytest.raises(error, match=match):
        model.compile("adam", "mae", **kwargs)
    assert (model.optimizer, model.loss_functions, model.loss_weights, model.metrics_names) == state


def test_train_on_batch_takes_keras_argument_order():
    mg.seed(0)
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile(SGD(lr=0.), "mse")
    x, y = rand(4, 2), rand(4, 1)
    w = np.array([1., 0., 0., 0.])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weighted = model.train_on_batch(x, y, w)  # the third positional argument is sample_weight (Keras 2.0)
    assert weighted == pytest.approx(model.test_on_batch(x[:1], y[:1]), rel=1e-5)  # mean(L w) / mean(w != 0)


# ============================================================ metrics under a mask (Keras 2.0 masks them)

def test_per_sample_metrics_are_averaged_over_unmasked_steps_only():
    mg.seed(0)
    from layers import Embedding, TimeDistributed
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    y = rand(2, 4, 2, seed=4)

    def abs_error(y_true, y_pred, reduction="mean"):  # per sample with reduction='none', as optim.metrics offer
        per_sample = np.abs(y_pred - y_true).mean(axis=-1)
        return per_sample if reduction == "none" else float(per_sample.mean())

    def sq_error(y_true, y_pred):  # a Keras-style metric: per-sample values, no reduction argument
        return ((y_pred - y_true) ** 2).mean(axis=-1)

    def overall(y_true, y_pred):  # a scalar is taken as it is
        return float(np.abs(y_pred).max())

    model = Sequential([Embedding(4, 3, mask_zero=True, input_length=4), TimeDistributed(Dense(2))])
    model.compile("sgd", "mse", metrics=[abs_error, sq_error, overall])
    _, got_abs, got_sq, got_max = model.evaluate(ids, y, verbose=0)
    pred, mask = model.predict(ids), ids != 0
    assert got_abs == pytest.approx(np.abs(pred - y).mean(axis=-1)[mask].mean(), rel=1e-5)
    assert got_sq == pytest.approx(((pred - y) ** 2).mean(axis=-1)[mask].mean(), rel=1e-5)
    assert got_max == pytest.approx(np.abs(pred).max(), rel=1e-6)
