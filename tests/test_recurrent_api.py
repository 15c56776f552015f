"""The recurrent layers' surface: constructor arguments and Keras 1 aliases, weights, shapes, the seed document's
examples, and every bad input (each must raise a clear exception naming what was expected and what was found).

The numerics (reference outputs, gradients, masking, stateful, dropout) are in test_recurrent.py.
"""
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, SimpleRNN, activations, regularizers

CELLS = {"SimpleRNN": SimpleRNN, "GRU": GRU, "LSTM": LSTM}
N_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def built(cls, units=2, shape=(None, 4, 3), **kw):
    layer = cls(units, **kw)
    layer._maybe_build(shape)
    return layer


# ------------------------------------------------------------------------------------------------------------
# Bad inputs: (what, thunk, exception, regex the message must match -- expected and found values)
# ------------------------------------------------------------------------------------------------------------

def _stateful(cls=GRU, batch=2):
    layer = cls(2, stateful=True, batch_input_shape=(batch, None, 3))
    layer._maybe_build((batch, 4, 3))
    return layer


BAD_INPUTS = [
    ("2-D input", lambda: LSTM(2)(np.zeros((2, 3))), ValueError, r"3-D.*ndim=2.*\(2, 3\)"),
    ("4-D input", lambda: GRU(2)(np.zeros((2, 4, 3, 1))), ValueError, r"3-D.*ndim=4"),
    ("2-D shape at build", lambda: LSTM(2)._maybe_build((None, 32)), ValueError, r"3-D.*ndim=2"),
    ("feature size differs from the built one", lambda: built(LSTM)(np.zeros((2, 4, 5))), ValueError,
     r"input_dim=3.*\(2, 4, 5\)"),
    ("stateful, batch None at build", lambda: LSTM(2, stateful=True)._maybe_build((None, 5, 3)), ValueError,
     r"stateful.*batch size.*batch_input_shape"),
    ("stateful, input_shape without batch", lambda: SimpleRNN(2, stateful=True, input_shape=(5, 3)), ValueError,
     r"stateful.*batch size"),
    ("stateful, batch of another size", lambda: _stateful()(np.zeros((3, 4, 3))), ValueError,
     r"batches of 2 .*batch of 3"),
    ("too few initial states", lambda: built(LSTM)(np.zeros((2, 4, 3)), initial_state=np.zeros((2, 2))),
     ValueError, r"2 state.*passed 1"),
    ("too many initial states", lambda: built(GRU)(np.zeros((2, 4, 3)), initial_state=[np.zeros((2, 2))] * 2),
     ValueError, r"1 state.*passed 2"),
    ("initial state of the wrong shape",
     lambda: built(LSTM)(np.zeros((2, 4, 3)), initial_state=[np.zeros((2, 2)), np.zeros((2, 3))]),
     ValueError, r"state 1.*expected shape \(2, 2\).*found shape \(2, 3\)"),
    ("initial state of the wrong batch",
     lambda: built(SimpleRNN)(np.zeros((2, 4, 3)), initial_state=np.zeros((3, 2))),
     ValueError, r"expected shape \(2, 2\).*found shape \(3, 2\)"),
    ("reset_states with too many arrays", lambda: _stateful().reset_states([np.zeros((2, 2))] * 2),
     ValueError, r"expects 1 state.*received 2"),
    ("reset_states with too few arrays", lambda: _stateful(LSTM).reset_states([np.zeros((2, 2))]),
     ValueError, r"expects 2 state.*received 1"),
    ("reset_states with the wrong shape", lambda: _stateful(LSTM).reset_states([np.zeros((2, 2)), np.zeros((3, 2))]),
     ValueError, r"state 1.*expected shape \(2, 2\).*found shape \(3, 2\)"),
    ("reset_states on a non-stateful layer", lambda: built(LSTM).reset_states(), AttributeError, r"not stateful"),
    ("reset_states(arrays) on a non-stateful layer", lambda: built(GRU).reset_states(np.zeros((2, 2))),
     AttributeError, r"not stateful"),
    ("reset_states before build", lambda: LSTM(2, stateful=True).reset_states(), RuntimeError, r"not been built"),
    ("mask of the wrong shape", lambda: built(LSTM)(np.zeros((2, 4, 3)), mask=np.ones((2, 3), bool)),
     ValueError, r"\(2, 3\).*\(2, 4\)"),
    ("unknown kwarg", lambda: GRU(2, unit_forget_bias=True), TypeError, r"unit_forget_bias"),
    ("two positional arguments", lambda: LSTM(2, "tanh"), TypeError, r"positional"),
    ("units not a positive integer", lambda: LSTM(0), ValueError, r"units.*0"),
    ("unknown activation name", lambda: GRU(2, activation="tanhh"), ValueError, r"tanhh"),
] + [
    (f"{arg}={rate}", (lambda a=arg, r=rate: LSTM(2, **{a: r})), ValueError,
     rf"{arg}.*\[0, 1\).*{re.escape(str(rate))}")
    for arg in ("dropout", "recurrent_dropout") for rate in (-0.1, 1.0, 1.5)
] + [
    (f"implementation={impl!r}", (lambda c=cls, i=impl: c(2, implementation=i)), ValueError,
     rf"implementation.*{re.escape(repr(impl))}")
    for cls in (SimpleRNN, GRU, LSTM) for impl in (3, -1, "gpu", None)
]


@pytest.mark.parametrize("thunk, exc, pattern", [pytest.param(*row[1:], id=row[0]) for row in BAD_INPUTS])
def test_bad_input_raises_a_clear_error(thunk, exc, pattern):
    with pytest.raises(exc, match=pattern):
        thunk()


def test_a_rejected_call_changes_no_state():
    layer = _stateful(LSTM)
    layer.reset_states([np.ones((2, 2)), np.full((2, 2), 2.0)])
    with pytest.raises(ValueError):
        layer(np.zeros((3, 4, 3)))
    with pytest.raises(ValueError):
        layer.reset_states([np.zeros((2, 2)), np.zeros((2, 3))])
    np.testing.assert_array_equal(layer.states[0], 1.0)
    np.testing.assert_array_equal(layer.states[1], 2.0)


def test_set_weights_errors_change_nothing():
    layer = built(LSTM, dtype="float64")
    before = layer.get_weights()
    bad_lists = [before[:2], before + [before[2]], [before[0], before[1], np.zeros(7)],
                 [before[0].T, before[1], before[2]]]
    for bad in bad_lists:
        with pytest.raises(ValueError, match=r"expect|shape"):
            layer.set_weights(bad)
        for got, want in zip(layer.get_weights(), before):
            np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"\(3, 8\).*\(3, 6\)|\(3, 6\).*\(3, 8\)"):
        layer.set_weights([np.zeros((3, 6)), before[1], before[2]])


def test_weights_argument_of_the_wrong_shape_raises_at_build():
    layer = GRU(2, weights=[np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(5)])
    with pytest.raises(ValueError, match=r"\(6,\).*\(5,\)"):
        layer(np.zeros((1, 4, 3)))


def test_get_weights_before_build_and_set_weights_before_build():
    layer = LSTM(2)
    assert layer.get_weights() == []
    with pytest.raises(RuntimeError, match="no weights yet"):
        layer.set_weights([np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(8)])


# ------------------------------------------------------------------------------------------------------------
# Weights: layout, use_bias, unit_forget_bias
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
def test_weight_layout(cell):
    k = N_GATES[cell]
    layer = built(CELLS[cell], 5, (None, 4, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, k * 5), (5, k * 5), (k * 5,)]
    assert layer.weights == [layer.kernel, layer.recurrent_kernel, layer.bias]
    assert layer.trainable_weights == layer.weights
    assert layer.count_params() == 3 * k * 5 + 5 * k * 5 + k * 5


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("impl", [0, 1, 2])
def test_use_bias_false_has_two_weights_and_runs(cell, impl):
    layer = built(CELLS[cell], 2, (None, 4, 3), use_bias=False, implementation=impl)
    assert [w.shape for w in layer.get_weights()] == [(3, N_GATES[cell] * 2), (2, N_GATES[cell] * 2)]
    assert layer.bias is None
    x = mg.Tensor(np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32), requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.shape == x.shape and layer.kernel.grad is not None


def test_unit_forget_bias_puts_ones_in_the_f_block():
    u = 3
    np.testing.assert_array_equal(built(LSTM, u).get_weights()[2], np.r_[np.zeros(u), np.ones(u), np.zeros(2 * u)])
    np.testing.assert_array_equal(built(LSTM, u, unit_forget_bias=False).get_weights()[2], np.zeros(4 * u))
    # the other blocks still come from bias_initializer; the f block is ones (not bias_initializer + 1)
    np.testing.assert_array_equal(built(LSTM, u, bias_initializer="ones").get_weights()[2], np.ones(4 * u))
    mg.seed(0)
    b = built(LSTM, u, bias_initializer="random_uniform").get_weights()[2]
    np.testing.assert_array_equal(b[u:2 * u], 1.0)
    assert np.all(b[:u] != 0) and np.all(b[2 * u:] != 0) and np.all(np.abs(b[2 * u:]) <= 0.05)
    assert built(LSTM, u, use_bias=False).bias is None
    # it is an initialisation only: the bias stays trainable
    assert built(LSTM, u).bias.requires_grad


@pytest.mark.parametrize("cell", ["SimpleRNN", "GRU"])
def test_other_cells_honour_bias_initializer(cell):
    np.testing.assert_array_equal(built(CELLS[cell], 2, bias_initializer="ones").get_weights()[2], 1.0)


def test_initializers_are_used():
    layer = built(GRU, 2, kernel_initializer="ones", recurrent_initializer="zeros")
    np.testing.assert_array_equal(layer.get_weights()[0], 1.0)
    np.testing.assert_array_equal(layer.get_weights()[1], 0.0)
    r = built(SimpleRNN, 4).get_weights()[1]            # default recurrent_initializer: orthogonal
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-5)


# ------------------------------------------------------------------------------------------------------------
# Constructor arguments readable as attributes; Keras 1 aliases
# ------------------------------------------------------------------------------------------------------------

def test_constructor_arguments_are_attributes():
    layer = LSTM(7, dropout=0.1, recurrent_dropout=0.2, implementation=2, return_sequences=True,
                 return_state=True, go_backwards=True, stateful=False, unroll=True, use_bias=False,
                 unit_forget_bias=False, activation="relu", recurrent_activation="sigmoid")
    assert (layer.units, layer.dropout, layer.recurrent_dropout, layer.implementation) == (7, 0.1, 0.2, 2)
    assert layer.return_sequences and layer.return_state and layer.go_backwards and layer.unroll
    assert not layer.stateful and not layer.use_bias and not layer.unit_forget_bias
    assert layer.activation is activations.relu and layer.recurrent_activation is activations.sigmoid
    assert SimpleRNN(3, activation=None).activation is activations.linear
    d = LSTM(3)
    assert (d.activation, d.recurrent_activation) == (activations.tanh, activations.hard_sigmoid)
    assert d.implementation == 0 and d.unit_forget_bias and d.use_bias


L1 = regularizers.l1(0.5)
LEGACY = [  # (cell, Keras 1 kwargs, attribute, expected value)
    ("SimpleRNN", {"output_dim": 4}, "units", 4),
    ("GRU", {"init": "ones"}, "kernel_initializer", "ones"),
    ("LSTM", {"inner_init": "zeros"}, "recurrent_initializer", "zeros"),
    ("GRU", {"inner_activation": "sigmoid"}, "recurrent_activation", activations.sigmoid),
    ("LSTM", {"W_regularizer": L1}, "kernel_regularizer", L1),
    ("SimpleRNN", {"U_regularizer": L1}, "recurrent_regularizer", L1),
    ("GRU", {"b_regularizer": L1}, "bias_regularizer", L1),
    ("LSTM", {"dropout_W": 0.25}, "dropout", 0.25),
    ("GRU", {"dropout_U": 0.5}, "recurrent_dropout", 0.5),
    ("LSTM", {"consume_less": "cpu"}, "implementation", 0),
    ("GRU", {"consume_less": "mem"}, "implementation", 1),
    ("SimpleRNN", {"consume_less": "gpu"}, "implementation", 2),
    ("LSTM", {"forget_bias_init": "one"}, "unit_forget_bias", True),
    ("LSTM", {"forget_bias_init": "zero"}, "unit_forget_bias", False),
]


@pytest.mark.parametrize("cell, kwargs, attr, value", LEGACY,
                         ids=[f"{c}-{next(iter(k))}-{k[next(iter(k))]}" for c, k, _, _ in LEGACY])
def test_keras1_alias_warns_and_maps(cell, kwargs, attr, value):
    args = () if "output_dim" in kwargs else (2,)
    with pytest.warns(DeprecationWarning, match=next(iter(kwargs))):
        layer = CELLS[cell](*args, **kwargs)
    assert getattr(layer, attr) == value


def test_keras1_aliases_take_effect():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        layer = LSTM(output_dim=2, init="ones", inner_init="zeros", W_regularizer=regularizers.l1(1.0),
                     forget_bias_init="zero", consume_less="gpu")
        layer._maybe_build((None, 4, 3))
    w, r, b = layer.get_weights()
    assert w.shape == (3, 8) and np.all(w == 1) and np.all(r == 0) and np.all(b == 0)
    assert layer.implementation == 2
    np.testing.assert_allclose(float(layer.losses[0].data), 24.0)


BOTH = [("output_dim", "units", 3), ("init", "kernel_initializer", "ones"),
        ("inner_init", "recurrent_initializer", "ones"), ("inner_activation", "recurrent_activation", "tanh"),
        ("W_regularizer", "kernel_regularizer", None), ("U_regularizer", "recurrent_regularizer", None),
        ("b_regularizer", "bias_regularizer", None), ("dropout_W", "dropout", 0.1),
        ("dropout_U", "recurrent_dropout", 0.1), ("consume_less", "implementation", "cpu"),
        ("forget_bias_init", "unit_forget_bias", "one")]


@pytest.mark.parametrize("old, new, value", BOTH, ids=[b[0] for b in BOTH])
def test_old_and_new_name_together_raise_type_error(old, new, value):
    new_value = 0 if new == "implementation" else value
    kwargs = {old: value, new: new_value}
    if new != "units":
        kwargs["units"] = 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeError, match=rf"{old}.*{new}"):
            LSTM(**kwargs)


def test_output_dim_with_positional_units_raises_type_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeError, match=r"output_dim.*units"):
            LSTM(3, output_dim=3)


def test_forget_bias_init_other_values_raise():
    with pytest.raises(ValueError, match=r"forget_bias_init.*'uniform'"):
        LSTM(2, forget_bias_init="uniform")


def test_legacy_input_dim_and_input_length():
    layer = LSTM(64, input_dim=64, input_length=10, return_sequences=True)
    assert layer.input_shape == (None, 10, 64)
    assert layer.output_shape == (None, 10, 64)
    assert GRU(3, input_dim=5).input_shape == (None, None, 5)


# ------------------------------------------------------------------------------------------------------------
# The seed document's examples (keras.layers.recurrent.Recurrent)
# ------------------------------------------------------------------------------------------------------------

def test_seed_first_example_output_shape_and_2d_error():
    first = LSTM(32, input_shape=(10, 64))
    assert first.output_shape == (None, 32)
    out = first(np.random.default_rng(0).standard_normal((2, 10, 64)))
    assert out.shape == (2, 32)
    second = LSTM(16)
    with pytest.raises(ValueError, match=r"return_sequences=True"):
        second._maybe_build(first.output_shape)
    with pytest.raises(ValueError, match=r"return_sequences=True"):
        LSTM(16)(out)
    with pytest.raises(ValueError, match=r"return_sequences=True"):
        LSTM(16).compute_output_shape((None, 32))


def test_seed_stacked_example_at_layer_level():
    layers_ = [LSTM(64, input_dim=64, input_length=10, return_sequences=True), LSTM(32, return_sequences=True),
               LSTM(10)]
    shape, x = layers_[0].input_shape, np.random.default_rng(0).standard_normal((3, 10, 64)).astype(np.float32)
    for layer in layers_:
        shape = layer.compute_output_shape(shape)
        x = layer(x)
        assert x.shape == (3,) + tuple(shape[1:])
    assert shape == (None, 10)
    assert layers_[-1].output_shape == (None, 10)


def _sequential():
    return pytest.importorskip("layers.sequential").Sequential


def test_seed_examples_in_a_sequential_model():
    Sequential = _sequential()
    model = Sequential()
    model.add(LSTM(32, input_shape=(10, 64)))
    assert model.output_shape == (None, 32)
    with pytest.raises(ValueError, match=r"return_sequences=True"):
        model.add(LSTM(16))

    model = Sequential()
    model.add(LSTM(64, input_dim=64, input_length=10, return_sequences=True))
    model.add(LSTM(32, return_sequences=True))
    model.add(LSTM(10))
    assert model.output_shape == (None, 10)
    x = np.random.default_rng(0).standard_normal((4, 10, 64)).astype(np.float32)
    assert model.predict(x, batch_size=2).shape == (4, 10)


def test_stateful_sequential_needs_batch_input_shape():
    Sequential = _sequential()
    model = Sequential()
    with pytest.raises(ValueError, match=r"batch"):
        model.add(LSTM(4, stateful=True, input_shape=(5, 3)))
    model = Sequential()
    model.add(GRU(4, return_sequences=True, input_shape=(5, 3)))          # batch None
    with pytest.raises(ValueError, match=r"stateful.*batch size"):
        model.add(LSTM(4, stateful=True))
    assert len(model.layers) == 1
    model = Sequential()
    model.add(LSTM(4, stateful=True, batch_input_shape=(2, 5, 3)))
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    a = model.predict(x, batch_size=2)
    assert not np.allclose(model.predict(x, batch_size=2), a)  # the state carried over
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2), a, rtol=1e-6)


def test_masked_sequential_matches_unpadded():
    Sequential = _sequential()
    from layers import Embedding
    emb = Embedding(6, 3, mask_zero=True, input_length=5)
    rnn = GRU(2, go_backwards=True)
    model = Sequential()
    model.add(emb)
    model.add(rnn)
    ids = np.array([[0, 0, 3, 1, 5], [2, 4, 0, 0, 0]])
    out = model.predict(ids, batch_size=2)
    vectors = emb.get_weights()[0]
    for i, valid in enumerate([ids[0, 2:], ids[1, :2]]):
        np.testing.assert_allclose(out[i], rnn(vectors[valid][None]).data[0], rtol=1e-5, atol=1e-6)
