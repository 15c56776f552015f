"""A sweep of bad arguments over the public entry points of the training code: compile, fit, evaluate, predict,
the *_on_batch and generator methods, every optimizer, every callback, the regularizers and the constraints.

Each numeric argument is listed once with its valid range; hypothesis draws values outside it (below, above,
NaN, +-Inf, bools, strings, None, floats where an int is due) and every one must raise ValueError naming the
argument, before anything changes. Values inside the range must be accepted, so the checks are not too strict.
Then tables of malformed data (types, shapes, structures) for the methods that take arrays.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Dense, Sequential, constraints, regularizers
from optim import SGD, Adadelta, Adagrad, Adam, Adamax, Nadam, RMSprop
from optim.callbacks import CSVLogger, EarlyStopping, LearningRateScheduler, Progbar, ProgbarLogger, ReduceLROnPlateau

# ============================================================ ranges and the values outside them


class Real:
    """A finite number in [low, high] (an open end excludes the bound; None is unbounded)."""

    def __init__(self, low=None, high=None, low_open=False, high_open=False, none_ok=False):
        self.low, self.high, self.low_open, self.high_open, self.none_ok = low, high, low_open, high_open, none_ok

    def bad(self):
        options = [st.sampled_from([math.nan, math.inf, -math.inf, True, False, "1", [0.5], 1j])]
        if not self.none_ok:
            options.append(st.none())
        if self.low is not None:
            options.append(st.floats(max_value=self.low, exclude_max=not self.low_open, allow_nan=False,
                                     allow_infinity=False))
        if self.high is not None:
            options.append(st.floats(min_value=self.high, exclude_min=not self.high_open, allow_nan=False,
                                     allow_infinity=False))
        return st.one_of(options)

    def good(self):
        low = -1e6 if self.low is None else self.low
        high = 1e6 if self.high is None else self.high
        return st.floats(low, high, exclude_min=self.low_open, exclude_max=self.high_open)


class Int:
    """An integer >= low (Python or numpy ints; not bools, not floats)."""

    def __init__(self, low=0, none_ok=False):
        self.low, self.none_ok = low, none_ok

    def bad(self):
        options = [st.integers(max_value=self.low - 1), st.sampled_from([True, False, 2.0, 1.5, "3", math.nan, [1]])]
        if not self.none_ok:
            options.append(st.none())
        return st.one_of(options)

    def good(self):
        return st.one_of(st.integers(self.low, self.low + 1000), st.integers(self.low, 50).map(np.int64))


FRACTION = Real(0., 1., high_open=True)
NONNEG = Real(0.)
POSITIVE = Real(0., low_open=True)

# (constructor, argument, range)
CONSTRUCTORS = [
    *[(cls, "lr", NONNEG) for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)],
    *[(cls, "learning_rate", Real(0., none_ok=True)) for cls in (SGD, Adam)],
    *[(cls, arg, Real(0., none_ok=True)) for cls in (SGD, Adam, Nadam) for arg in ("clipnorm", "clipvalue")],
    (SGD, "momentum", Real(0., 1.)), (SGD, "decay", NONNEG),
    (RMSprop, "rho", FRACTION), (RMSprop, "epsilon", Real(0., low_open=True, none_ok=True)), (RMSprop, "decay", NONNEG),
    (Adagrad, "epsilon", Real(0., low_open=True, none_ok=True)), (Adagrad, "decay", NONNEG),
    (Adadelta, "rho", FRACTION), (Adadelta, "epsilon", Real(0., low_open=True, none_ok=True)),
    (Adadelta, "decay", NONNEG),
    *[(cls, arg, FRACTION) for cls in (Adam, Adamax, Nadam) for arg in ("beta_1", "beta_2")],
    *[(cls, "epsilon", Real(0., low_open=True, none_ok=True)) for cls in (Adam, Adamax, Nadam)],
    (Adam, "decay", NONNEG), (Adamax, "decay", NONNEG), (Nadam, "schedule_decay", NONNEG),
    (regularizers.L1L2, "l1", NONNEG), (regularizers.L1L2, "l2", NONNEG),
    (regularizers.l1_l2, "l1", NONNEG), (regularizers.l1_l2, "l2", NONNEG),
    (constraints.MaxNorm, "max_value", NONNEG), (constraints.MinMaxNorm, "rate", Real(0., 1.)),
    (lambda **kw: constraints.MinMaxNorm(max_value=1e9, **kw), "min_value", Real(0., 1e9)),
    (lambda **kw: constraints.MinMaxNorm(min_value=0., **kw), "max_value", NONNEG),
    (EarlyStopping, "patience", Int()), (EarlyStopping, "min_delta", Real()), (EarlyStopping, "verbose", Int()),
    (ReduceLROnPlateau, "factor", Real(0., 1., low_open=True, high_open=True)), (ReduceLROnPlateau, "patience", Int()),
    (ReduceLROnPlateau, "cooldown", Int()), (ReduceLROnPlateau, "min_lr", NONNEG),
    (ReduceLROnPlateau, "epsilon", NONNEG), (ReduceLROnPlateau, "min_delta", Real(0., none_ok=True)),
    (lambda **kw: LearningRateScheduler(lambda e: 0.1, **kw), "verbose", Int()),
    (lambda **kw: Progbar(**{"target": 10, **kw}), "target", Int(none_ok=True)),
    (lambda **kw: Progbar(10, **kw), "width", Int(1)), (lambda **kw: Progbar(10, **kw), "interval", NONNEG),
]


def _name(entry):
    make, arg, _ = entry
    return f"{getattr(make, '__name__', 'lambda')}-{arg}"


@pytest.mark.parametrize("entry", CONSTRUCTORS, ids=[_name(e) for e in CONSTRUCTORS])
@given(data=st.data())
def test_constructor_arguments_outside_their_range_raise_naming_them(entry, data):
    make, arg, valid = entry
    value = data.draw(valid.bad(), label=arg)
    with pytest.raises(ValueError, match=arg):
        make(**{arg: value})


@pytest.mark.parametrize("entry", CONSTRUCTORS, ids=[_name(e) for e in CONSTRUCTORS])
@given(data=st.data())
def test_constructor_arguments_inside_their_range_are_accepted(entry, data):
    make, arg, valid = entry
    make(**{arg: data.draw(valid.good(), label=arg)})


@pytest.mark.parametrize("make", [constraints.MaxNorm, constraints.UnitNorm, constraints.MinMaxNorm])
@pytest.mark.parametrize("axis", [1.5, True, "0", [], [0, 0], [0, 1.0], (None,)])
def test_constraint_axes_must_be_ints(make, axis):
    with pytest.raises(ValueError, match="axis"):
        make(axis=axis)


def test_constraint_bounds_and_axes_against_the_weight():
    with pytest.raises(ValueError, match="min_value.*must not exceed"):
        constraints.MinMaxNorm(min_value=2., max_value=1.)
    with pytest.raises(ValueError, match=r"axis 2 is out of range for a weight of shape \(4,\)"):
        constraints.MaxNorm(axis=2)(np.ones(4))
    np.testing.assert_allclose(constraints.UnitNorm(axis=None)(np.array([3., 4.])), [0.6, 0.8], rtol=1e-6)


@pytest.mark.parametrize("make, match", [(lambda: SGD(nesterov=1), "nesterov"),
                                         (lambda: SGD(nesterov="yes"), "nesterov"),
                                         (lambda: ProgbarLogger(count_mode="epochs"), "count_mode")])
def test_flags_and_modes(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_writing_a_bad_lr_later_is_refused_too():
    opt = Adam()
    for bad in (-1., math.nan, math.inf, True, "0.1"):
        with pytest.raises(ValueError, match="lr"):
            opt.lr = bad
    assert opt.lr == 0.001


# ============================================================ the training methods' numeric arguments

def model_and_data():
    mg.seed(0)
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.compile(SGD(lr=0.1), "mse")
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    return model, x, np.ones((8, 1), np.float32)


def batches(x, y):
    while True:
        yield x[:4], y[:4]


METHOD_ARGS = [
    ("fit", "epochs", Int(), lambda m, x, y, v: m.fit(x, y, epochs=v, verbose=0)),
    ("fit", "initial_epoch", Int(), lambda m, x, y, v: m.fit(x, y, initial_epoch=v, epochs=2, verbose=0)),
    ("fit", "batch_size", Int(1, none_ok=True), lambda m, x, y, v: m.fit(x, y, batch_size=v, verbose=0)),
    ("fit", "validation_split", Real(0., 1., high_open=True),
     lambda m, x, y, v: m.fit(x, y, validation_split=v, verbose=0)),
    ("evaluate", "batch_size", Int(1, none_ok=True), lambda m, x, y, v: m.evaluate(x, y, batch_size=v, verbose=0)),
    ("predict", "batch_size", Int(1, none_ok=True), lambda m, x, y, v: m.predict(x, batch_size=v)),
    ("fit_generator", "steps_per_epoch", Int(1, none_ok=True),
     lambda m, x, y, v: m.fit_generator(batches(x, y), steps_per_epoch=v, verbose=0)),
    ("fit_generator", "epochs", Int(), lambda m, x, y, v: m.fit_generator(batches(x, y), 1, epochs=v, verbose=0)),
    ("fit_generator", "initial_epoch", Int(),
     lambda m, x, y, v: m.fit_generator(batches(x, y), 1, initial_epoch=v, verbose=0)),
    ("fit_generator", "workers", Int(), lambda m, x, y, v: m.fit_generator(batches(x, y), 1, workers=v, verbose=0)),
    ("fit_generator", "max_queue_size", Int(),
     lambda m, x, y, v: m.fit_generator(batches(x, y), 1, max_queue_size=v, verbose=0)),
    ("fit_generator", "validation_steps", Int(1, none_ok=True),
     lambda m, x, y, v: m.fit_generator(batches(x, y), 1, validation_data=batches(x, y), validation_steps=v,
                                        verbose=0)),
    ("evaluate_generator", "steps", Int(1, none_ok=True), lambda m, x, y, v: m.evaluate_generator(batches(x, y), v)),
    ("predict_generator", "steps", Int(1, none_ok=True), lambda m, x, y, v: m.predict_generator(batches(x, y), v)),
    ("compile", "loss_weights", Real(0., none_ok=True), lambda m, x, y, v: m.compile("sgd", "mse", loss_weights=[v])),
]


@pytest.mark.parametrize("entry", METHOD_ARGS, ids=[f"{e[0]}-{e[1]}" for e in METHOD_ARGS])
@given(data=st.data())
def test_method_arguments_outside_their_range_raise_and_change_nothing(entry, data):
    _, arg, valid, call = entry
    model, x, y = model_and_data()
    before = model.get_weights()
    value = data.draw(valid.bad(), label=arg)
    with pytest.raises(ValueError, match=arg):
        call(model, x, y, value)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "fit_generator", "evaluate_generator",
                                    "predict_generator"])
@pytest.mark.parametrize("verbose", [3, -1, "1", 1.5, None])
def test_verbose_is_0_1_or_2(method, verbose):
    model, x, y = model_and_data()
    calls = {"fit": lambda: model.fit(x, y, verbose=verbose), "evaluate": lambda: model.evaluate(x, y, verbose=verbose),
             "predict": lambda: model.predict(x, verbose=verbose),
             "fit_generator": lambda: model.fit_generator(batches(x, y), 1, verbose=verbose),
             "evaluate_generator": lambda: model.evaluate_generator(batches(x, y), 1, verbose=verbose),
             "predict_generator": lambda: model.predict_generator(batches(x, y), 1, verbose=verbose)}
    with pytest.raises(ValueError, match="verbose"):
        calls[method]()


@pytest.mark.parametrize("shuffle", ["yes", 1, 0, None, "Batch"])
def test_shuffle_is_true_false_or_batch(shuffle):
    model, x, y = model_and_data()
    with pytest.raises(ValueError, match="shuffle"):
        model.fit(x, y, shuffle=shuffle, verbose=0)
    with pytest.raises(ValueError, match="shuffle"):
        model.fit_generator(batches(x, y), 1, shuffle=shuffle, verbose=0)


# ============================================================ malformed data

BAD_DATA = [
    ("x of strings", lambda m, x, y: m.fit(np.array([["a"] * 3] * 8), y, verbose=0), TypeError, "numeric"),
    ("x missing", lambda m, x, y: m.fit(None, y, verbose=0), ValueError, "no inputs"),
    ("y missing", lambda m, x, y: m.evaluate(x, None, verbose=0), ValueError, "no targets"),
    ("scalar x", lambda m, x, y: m.predict(3.0), ValueError, "batch axis"),
    ("empty x", lambda m, x, y: m.fit(x[:0], y[:0], verbose=0), ValueError, "no samples"),
    ("counts differ", lambda m, x, y: m.train_on_batch(x, y[:5]), ValueError, "same number of samples"),
    ("dict for a Sequential", lambda m, x, y: m.fit({"a": x}, y, verbose=0), TypeError, "dict"),
    ("two inputs for one", lambda m, x, y: m.evaluate([x, x], y, verbose=0), ValueError, "1 input, but .* 2 arrays"),
    ("validation not a tuple", lambda m, x, y: m.fit(x, y, validation_data=x, verbose=0), ValueError,
     "validation_data"),
    ("validation of 4", lambda m, x, y: m.fit(x, y, validation_data=(x, y, None, None), verbose=0), ValueError,
     "4 items"),
    ("validation counts", lambda m, x, y: m.fit(x, y, validation_data=(x, y[:3]), verbose=0), ValueError,
     "same number"),
    ("split leaves nothing", lambda m, x, y: m.fit(x[:1], y[:1], validation_split=0.5, verbose=0), ValueError,
     "empty"),
    ("sample_weight 2-D", lambda m, x, y: m.fit(x, y, sample_weight=np.ones((8, 1)), verbose=0), ValueError,
     "temporal"),
    ("sample_weight too short", lambda m, x, y: m.test_on_batch(x, y, sample_weight=np.ones(7)), ValueError,
     "shape"),
    ("class_weight not a dict", lambda m, x, y: m.train_on_batch(x, y, class_weight=[1., 2.]), ValueError, "dict"),
    ("unknown fit keyword", lambda m, x, y: m.fit(x, y, epoch=2, verbose=0), TypeError, "epoch"),
    ("Keras 1 generator keyword", lambda m, x, y: m.fit_generator(batches(x, y), samples_per_epoch=8),
     TypeError, "steps_per_epoch"),
    ("generator of arrays", lambda m, x, y: m.fit_generator(x, 1), TypeError, "generator"),
    ("callbacks not a list", lambda m, x, y: m.fit(x, y, callbacks=EarlyStopping(), verbose=0), TypeError,
     "list"),
    ("callback instance", lambda m, x, y: m.fit(x, y, callbacks=[1], verbose=0), TypeError, "not a Callback"),
    ("CSVLogger path", lambda m, x, y: CSVLogger(None), ValueError, "filename"),
]


@pytest.mark.parametrize("case", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_malformed_data_raises_clearly_and_changes_nothing(case):
    _, call, error, match = case
    model, x, y = model_and_data()
    before = model.get_weights()
    with pytest.raises(error, match=match):
        call(model, x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0


def test_uncompiled_models_say_so():
    _, x, y = model_and_data()
    fresh = Sequential([Dense(1, input_shape=(3,))])
    for call in (lambda: fresh.fit(x, y), lambda: fresh.evaluate(x, y), lambda: fresh.train_on_batch(x, y),
                 lambda: fresh.test_on_batch(x, y), lambda: fresh.fit_generator(batches(x, y), 1),
                 lambda: fresh.evaluate_generator(batches(x, y), 1)):
        with pytest.raises(RuntimeError, match="compile"):
            call()
    assert fresh.predict(x).shape == (8, 1)  # predicting needs no compile
