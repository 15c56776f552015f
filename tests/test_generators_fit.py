"""fit_generator / evaluate_generator / predict_generator with Python generators and Sequence objects.

Oracle: the array methods. The same batches fed by a generator must give exactly what fit / evaluate / predict
give on the arrays (same weights, same order, same updates).
"""
import warnings

import numpy as np
import pytest

import minigrad as mg
from layers import LSTM, Dense, Sequential
from layers.training import Sequence
from optim import SGD
from optim.callbacks import LambdaCallback


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x.sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return x, y


def pair():
    """Two identical models (same weights)."""
    a = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1, activation="sigmoid")])
    b = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1, activation="sigmoid")])
    b.set_weights(a.get_weights())
    for m in (a, b):
        m.compile(SGD(lr=0.3), "binary_crossentropy", metrics=["accuracy"])
    return a, b


def looping(x, y, batch_size, w=None):
    """A Keras-style generator: loops over the data in order, forever."""
    while True:
        for s in range(0, len(x), batch_size):
            yield (x[s:s + batch_size], y[s:s + batch_size]) if w is None else \
                (x[s:s + batch_size], y[s:s + batch_size], w[s:s + batch_size])


class Batches(Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.ends = 0
        self.seen = []

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        self.seen.append(i)
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.ends += 1


def same_weights(a, b):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


# ============================================================ equivalence with the array methods

def test_fit_generator_equals_fit_on_the_same_batches():
    x, y = data()
    a, b = pair()
    ha = a.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(x[:8], y[:8]))
    hb = b.fit_generator(looping(x, y, 8), steps_per_epoch=3, epochs=3, verbose=0,
                         validation_data=looping(x[:8], y[:8], 8), validation_steps=1)
    same_weights(a, b)
    assert set(hb.history) == set(ha.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    for k in ha.history:
        np.testing.assert_allclose(hb.history[k], ha.history[k], rtol=1e-6)
    assert hb.history["val_acc"] == hb.history["val_accuracy"]


def test_fit_generator_with_weights_tuple_validation_and_class_weight():
    x, y = data()
    w = np.linspace(0.5, 2., len(x))
    a, b = pair()
    cw = {0: 1., 1: 3.}
    a.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0, sample_weight=w, class_weight=cw)
    h = b.fit_generator(looping(x, y, 6, w), steps_per_epoch=4, epochs=2, verbose=0, class_weight=cw,
                        validation_data=(x[:12], y[:12], w[:12]))
    same_weights(a, b)
    # tuple validation data is evaluated in batches of the last training batch's size (Keras 2.0)
    assert h.history["val_loss"][-1] == pytest.approx(
        b.evaluate(x[:12], y[:12], sample_weight=w[:12], batch_size=6, verbose=0)[0], rel=1e-6)


def test_sequence_is_read_in_passes_and_steps_default_to_its_length():
    x, y = data(20)
    a, b = pair()
    seq = Batches(x, y, 8)
    a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    b.fit_generator(seq, epochs=2, shuffle=False, verbose=0)
    same_weights(a, b)
    assert seq.seen == [0, 1, 2, 0, 1, 2] and seq.ends == 2


def test_sequence_shuffle_visits_every_batch_once_per_pass_reproducibly():
    x, y = data(40)
    orders = []
    for _ in range(2):
        mg.seed(3)
        seq = Batches(x, y, 5)
        model = Sequential([Dense(1, input_shape=(3,))])
        model.compile("sgd", "mse")
        model.fit_generator(seq, epochs=3, verbose=0)  # shuffle=True by default
        orders.append(seq.seen)
    assert orders[0] == orders[1]
    passes = [orders[0][i:i + 8] for i in range(0, 24, 8)]
    assert all(sorted(p) == list(range(8)) for p in passes)
    assert passes[0] != list(range(8)) or passes[1] != list(range(8))


def test_evaluate_and_predict_generator_equal_the_array_methods():
    x, y = data(20)
    model, _ = pair()
    w = np.linspace(0., 1., 20)
    ev = model.evaluate_generator(looping(x, y, 8, w), steps=3)
    np.testing.assert_allclose(ev, model.evaluate(x, y, batch_size=8, sample_weight=w, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.evaluate_generator(Batches(x, y, 8)),
                               model.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-6)
    inputs_only = (x[s:s + 8] for s in (0, 8, 16))
    np.testing.assert_allclose(model.predict_generator(inputs_only, steps=3), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict_generator(Batches(x, y, 8)), model.predict(x), rtol=1e-6)


def test_callbacks_see_steps_and_batches_and_can_stop():
    x, y = data()
    model, _ = pair()
    seen = []
    model.fit_generator(looping(x, y, 8), steps_per_epoch=3, epochs=5, verbose=0,
                        callbacks=[LambdaCallback(on_batch_end=lambda b, logs: seen.append((b, logs["size"])))])
    assert seen == [(0, 8), (1, 8), (2, 8)] * 5
    stopper = LambdaCallback(on_batch_end=lambda b, logs: setattr(model, "stop_training", b == 1))
    h = model.fit_generator(looping(x, y, 8), steps_per_epoch=3, epochs=5, verbose=0, callbacks=[stopper])
    assert len(h.history["loss"]) == 1


def test_progress_counts_steps(capsys):
    x, y = data()
    model, _ = pair()
    model.fit_generator(looping(x, y, 8), steps_per_epoch=3, epochs=1, verbose=1)
    assert "3/3 [" in capsys.readouterr().out


# ============================================================ generators that misbehave

def test_a_generator_that_runs_out_stops_training_with_a_warning():
    x, y = data(16)
    model, _ = pair()
    finite = ((x[s:s + 8], y[s:s + 8]) for s in (0, 8, 0, 8, 0))
    with pytest.warns(RuntimeWarning, match="stopped after 5 batches"):
        h = model.fit_generator(finite, steps_per_epoch=2, epochs=4, verbose=0)
    assert len(h.history["loss"]) == 3  # the third epoch was cut short; its partial loss is logged
    with pytest.raises(ValueError, match="stopped after 1 batches, but steps=2"):
        model.evaluate_generator(iter([(x, y)]), steps=2)
    with pytest.raises(ValueError, match="stopped after 0 batches"):
        model.predict_generator(iter([]), steps=1)


@pytest.mark.parametrize("call, match", [
    (lambda m, g: m.fit_generator(g), "steps_per_epoch` is required"),
    (lambda m, g: m.evaluate_generator(g), "steps` is required"),
    (lambda m, g: m.fit_generator(g, steps_per_epoch=0), "steps_per_epoch"),
    (lambda m, g: m.fit_generator(g, steps_per_epoch=2.0), "steps_per_epoch"),
    (lambda m, g: m.fit_generator(g, 1, validation_data=g), "validation_steps` is required"),
    (lambda m, g: m.fit_generator(g, 1, workers=-1), "workers"),
    (lambda m, g: m.fit_generator(g, 1, use_multiprocessing=1), "use_multiprocessing"),
    (lambda m, g: m.fit_generator(g, 1, max_queue_size=2.5), "max_queue_size"),
    (lambda m, g: m.fit_generator(g, 1, epochs=-1), "epochs"),
    (lambda m, g: m.fit_generator(g, 1, class_weight={0: -1.}), ">= 0"),
    (lambda m, g: m.predict_generator(g, steps=-2), "steps"),
])
def test_bad_generator_arguments(call, match):
    x, y = data(8)
    model, _ = pair()
    with pytest.raises(ValueError, match=match):
        call(model, looping(x, y, 4))
    assert model.optimizer.iterations == 0


def test_bad_generator_sources_and_batches():
    x, y = data(8)
    model, _ = pair()
    with pytest.raises(TypeError, match="generator"):
        model.fit_generator([(x, y)], steps_per_epoch=1)
    with pytest.raises(ValueError, match=r"tuple \(x, y\)"):
        model.fit_generator(iter([x]), steps_per_epoch=1, verbose=0)
    with pytest.raises(ValueError, match="4 items"):
        model.fit_generator(iter([(x, y, None, None)]), steps_per_epoch=1, verbose=0)
    bad = x.copy()
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"x holds inf at index \(2, 1\)"):
        model.fit_generator(iter([(bad, y)]), steps_per_epoch=1, verbose=0)
    with pytest.raises(TypeError, match="nb_val_samples.*validation_steps"):
        model.fit_generator(looping(x, y, 4), steps_per_epoch=1, nb_val_samples=4)
    with pytest.warns(DeprecationWarning, match="nb_epoch"):
        model.fit_generator(looping(x, y, 4), steps_per_epoch=1, nb_epoch=1, verbose=0)


def test_stateful_model_refuses_a_shuffled_sequence_but_takes_a_generator():
    x = np.random.default_rng(0).standard_normal((8, 5, 2)).astype(np.float32)
    y = np.zeros((8, 1), np.float32)
    model = Sequential([LSTM(3, stateful=True, batch_input_shape=(4, 5, 2)), Dense(1)])
    model.compile("sgd", "mse")
    seq = Batches(x, y, 4)
    with pytest.raises(ValueError, match="shuffle=False"):
        model.fit_generator(seq, verbose=0)
    model.fit_generator(seq, shuffle=False, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit_generator(looping(x, y, 4), steps_per_epoch=2, verbose=0)  # a generator's order is its own
    assert seq.seen == [0, 1]
