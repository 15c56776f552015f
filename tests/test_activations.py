"""layers.activations: name lookup, values against numpy formulas, gradients against finite differences,
stability at +-1000."""
import functools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers import activations

NAMES = ['tanh', 'sigmoid', 'hard_sigmoid', 'relu', 'linear', 'softmax', 'elu', 'selu', 'softplus', 'softsign']
ALPHA = 1.6732632423543772848170429916717
SCALE = 1.0507009873554804934193349852946


def _np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# The independent oracle: each activation written once more in plain numpy (float64).
REFERENCE = {
    'tanh': np.tanh,
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0, 1),
    'relu': lambda x: np.maximum(x, 0),
    'linear': lambda x: x,
    'softmax': _np_softmax,
    'elu': lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    'selu': lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(np.minimum(x, 0))),
    'softplus': lambda x: np.logaddexp(0, x),
    'softsign': lambda x: x / (1 + np.abs(x)),
}

# Values drawn here stay clear of the kinks: 0 (relu, elu, selu) and +-2.5 (hard_sigmoid).
away_from_kinks = st.floats(0.05, 6.0).flatmap(
    lambda m: st.sampled_from([m, -m])).filter(lambda v: abs(abs(v) - 2.5) > 0.05)
fast = settings(max_examples=15, deadline=None)


def _quiet(fn, *args):
    """Call fn with overflow, invalid-value and division warnings turned into errors (underflow to 0 is fine)."""
    with warnings.catch_warnings(), np.errstate(over='raise', invalid='raise', divide='raise', under='ignore'):
        warnings.simplefilter('error')
        return fn(*args)


# ---------------------------------------------------------------- lookup

@pytest.mark.parametrize('name', NAMES)
def test_every_name_resolves_to_a_function_of_that_name(name):
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert fn.__name__ == name
    assert activations.builtin_name(fn) == name
    assert activations.serialize(fn) == name
    assert activations.get({'class_name': name, 'config': {}}) is fn


def test_none_means_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear

    def custom(x):
        return x * 2
    assert activations.get(custom) is custom
    assert activations.builtin_name(custom) is None


def test_a_user_function_named_like_a_builtin_is_not_taken_for_it():
    def tanh(x):
        return x
    assert activations.builtin_name(tanh) is None


@pytest.mark.parametrize('bad', ['tahn', 'Tanh', 'leaky_relu', ''])
def test_unknown_name_raises_listing_valid_names(bad):
    with pytest.raises(ValueError) as info:
        activations.get(bad)
    message = str(info.value)
    assert repr(bad) in message
    for name in NAMES:
        assert repr(name) in message


def test_uninterpretable_identifiers_raise():
    with pytest.raises(ValueError, match='42'):
        activations.get(42)
    with pytest.raises(ValueError, match='tahn'):
        activations.get({'class_name': 'tahn', 'config': {}})
    with pytest.raises(ValueError, match='alpha'):
        activations.get({'class_name': 'elu', 'config': {'alpha': 0.5}})


# ---------------------------------------------------------------- values

@pytest.mark.parametrize('name', NAMES)
@fast
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-30, 30)))
def test_values_match_numpy(name, x):
    out = activations.get(name)(mg.Tensor(x))
    np.testing.assert_allclose(out.data, REFERENCE[name](x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_dtype_and_shape_kept(name, dtype):
    x = mg.Tensor(np.linspace(-3, 3, 12).reshape(3, 4).astype(dtype))
    out = activations.get(name)(x)
    assert out.dtype == dtype and out.shape == (3, 4)


def test_softmax_normalises_the_last_axis_or_the_given_one():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    assert np.allclose(activations.softmax(mg.Tensor(x)).data.sum(axis=-1), 1)
    out = activations.softmax(mg.Tensor(x), axis=1).data
    assert np.allclose(out.sum(axis=1), 1)
    np.testing.assert_allclose(out, np.moveaxis(_np_softmax(np.moveaxis(x, 1, -1)), -1, 1), rtol=1e-12)


def test_relu_keras_options():
    x = np.array([-2.0, -0.5, 0.5, 3.0, 10.0])
    out = activations.relu(mg.Tensor(x), alpha=0.1, max_value=6.0).data
    np.testing.assert_allclose(out, [-0.2, -0.05, 0.5, 3.0, 6.0])


def test_hard_sigmoid_is_keras_2_0s():
    out = activations.hard_sigmoid(mg.Tensor(np.array([-3.0, -2.5, 0.0, 1.0, 2.5, 3.0]))).data
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 0.7, 1.0, 1.0])


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize('name', NAMES)
@fast
@given(values=st.lists(away_from_kinks, min_size=6, max_size=6))
def test_gradients_pass_gradcheck(name, values):
    x = mg.Tensor(np.array(values).reshape(2, 3), requires_grad=True)
    assert mg.gradcheck(activations.get(name), [x])


def test_gradients_at_zero_are_the_true_derivatives():
    # softplus'(0) = sigmoid(0) = 1/2 (a relu + |x| formulation would give 0 there); softsign'(0) = 1.
    for fn, expected in [(activations.softplus, 0.5), (activations.softsign, 1.0), (activations.elu, 1.0)]:
        x = mg.Tensor(np.zeros(3), requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad, expected, err_msg=fn.__name__)


# ---------------------------------------------------------------- stability

LIMITS = {
    'tanh': [-1.0, 1.0],
    'sigmoid': [0.0, 1.0],
    'hard_sigmoid': [0.0, 1.0],
    'relu': [0.0, 1000.0],
    'linear': [-1000.0, 1000.0],
    'softmax': [0.0, 1.0],
    'elu': [-1.0, 1000.0],
    'selu': [-SCALE * ALPHA, SCALE * 1000.0],
    'softplus': [0.0, 1000.0],
    'softsign': [-1000 / 1001, 1000 / 1001],
}


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_finite_without_warnings_at_plus_minus_1000(name, dtype):
    x = mg.Tensor(np.array([-1000.0, 1000.0], dtype=dtype), requires_grad=True)
    out = _quiet(activations.get(name), x)
    np.testing.assert_allclose(out.data, LIMITS[name], rtol=1e-6)
    if name != 'linear':
        _quiet(lambda: (out * out).sum().backward())
        assert np.all(np.isfinite(x.grad))


def test_saturated_gradients():
    x = mg.Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
    _quiet(lambda: activations.softplus(x).sum().backward())
    np.testing.assert_allclose(x.grad, [0.0, 1.0])
    x.grad = None
    _quiet(lambda: activations.elu(x).sum().backward())
    np.testing.assert_allclose(x.grad, [0.0, 1.0])
    x.grad = None
    _quiet(lambda: activations.selu(x).sum().backward())
    np.testing.assert_allclose(x.grad, [0.0, SCALE])


def test_partial_application_keeps_working_as_a_callable():
    leaky = functools.partial(activations.relu, alpha=0.2)
    assert activations.get(leaky) is leaky
    assert activations.builtin_name(leaky) is None
