"""layers.regularizers and layers.constraints: lookup, Keras 2.0 formulas against numpy, gradients, dtypes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers import constraints, regularizers

EPS = 1e-7
fast = settings(max_examples=25, deadline=None)
matrices = st.sampled_from([np.float32, np.float64]).flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=st.floats(-10, 10, width=32)))


# ================================================================ regularizers

@pytest.mark.parametrize('name, l1, l2', [('l1', 0.01, 0.0), ('l2', 0.0, 0.01), ('l1_l2', 0.01, 0.01),
                                          ('L1L2', 0.0, 0.0)])
def test_regularizer_names_give_keras_defaults(name, l1, l2):
    reg = regularizers.get(name)
    assert isinstance(reg, regularizers.L1L2)
    assert (reg.l1, reg.l2) == (l1, l2)


def test_regularizer_functions_none_callables_and_dicts():
    assert regularizers.get(None) is None
    assert regularizers.l1(0.3).get_config() == {'l1': 0.3, 'l2': 0.0}
    assert regularizers.l2(0.3).get_config() == {'l1': 0.0, 'l2': 0.3}
    assert regularizers.l1_l2(l1=0.1, l2=0.2).get_config() == {'l1': 0.1, 'l2': 0.2}

    def custom(w):
        return (w * 0).sum()
    assert regularizers.get(custom) is custom
    reg = regularizers.get({'class_name': 'L1L2', 'config': {'l1': 0.5, 'l2': 0.25}})
    assert regularizers.serialize(reg) == {'class_name': 'L1L2', 'config': {'l1': 0.5, 'l2': 0.25}}
    assert regularizers.get({'class_name': 'l2', 'config': {'l': 0.5}}).l2 == 0.5


@pytest.mark.parametrize('bad', ['L2', 'l3', 'weight_decay'])
def test_unknown_regularizer_raises_listing_valid_names(bad):
    with pytest.raises(ValueError) as info:
        regularizers.get(bad)
    for name in [bad, 'l1', 'l2', 'l1_l2']:
        assert repr(name) in str(info.value)


@fast
@given(w=matrices, l1=st.floats(0, 1), l2=st.floats(0, 1))
def test_penalty_is_the_sum_formula_as_a_scalar_of_the_weights_dtype(w, l1, l2):
    penalty = regularizers.L1L2(l1=l1, l2=l2)(mg.Tensor(w))
    assert isinstance(penalty, mg.Tensor) and penalty.shape == () and penalty.dtype == w.dtype
    w64 = w.astype(np.float64)
    expected = np.sum(l1 * np.abs(w64)) + np.sum(l2 * w64 ** 2)  # a sum over elements, not a mean
    rtol = 1e-5 if w.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(penalty.data, expected, rtol=rtol, atol=1e-6)


def test_zero_coefficients_give_a_zero_penalty():
    w = mg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    penalty = regularizers.L1L2()(w)
    assert float(penalty.data) == 0.0 and penalty.dtype == np.float32


@fast
@given(values=st.lists(st.floats(0.05, 5).flatmap(lambda m: st.sampled_from([m, -m])), min_size=6, max_size=6))
def test_penalty_gradients(values):
    w = mg.Tensor(np.array(values).reshape(2, 3), requires_grad=True)
    reg = regularizers.l1_l2(l1=0.3, l2=0.7)
    assert mg.gradcheck(reg, [w])  # |w| has a kink at 0, so values keep clear of it
    w.grad = None
    reg(w).backward()
    np.testing.assert_allclose(w.grad, 0.3 * np.sign(w.data) + 2 * 0.7 * w.data, rtol=1e-12)


# ================================================================ constraints

CONSTRAINT_NAMES = {'max_norm': constraints.MaxNorm, 'non_neg': constraints.NonNeg,
                    'unit_norm': constraints.UnitNorm, 'min_max_norm': constraints.MinMaxNorm,
                    'maxnorm': constraints.MaxNorm, 'nonneg': constraints.NonNeg, 'unitnorm': constraints.UnitNorm}


@pytest.mark.parametrize('name', sorted(CONSTRAINT_NAMES))
def test_constraint_names_and_aliases_resolve(name):
    c = constraints.get(name)
    assert type(c) is CONSTRAINT_NAMES[name]
    assert getattr(constraints, name) is CONSTRAINT_NAMES[name]
    assert type(constraints.get(constraints.serialize(c))) is type(c)


def test_constraint_none_callables_classes():
    assert constraints.get(None) is None

    def clamp(w):
        return np.clip(w, -1, 1)
    assert constraints.get(clamp) is clamp
    assert isinstance(constraints.get(constraints.UnitNorm), constraints.UnitNorm)
    c = constraints.get({'class_name': 'MaxNorm', 'config': {'max_value': 3, 'axis': 1}})
    assert (c.max_value, c.axis) == (3, 1)


@pytest.mark.parametrize('bad', ['max-norm', 'MaxNorm2', 'positive'])
def test_unknown_constraint_raises_listing_valid_names(bad):
    with pytest.raises(ValueError) as info:
        constraints.get(bad)
    for name in [bad, *CONSTRAINT_NAMES]:
        assert repr(name) in str(info.value)


def _norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


def _axis_for(w, draw):
    return draw(st.integers(0, w.ndim - 1))


@fast
@given(w=matrices, data=st.data(), max_value=st.floats(0.1, 20))
def test_max_norm(w, data, max_value):
    axis = _axis_for(w, data.draw)
    n = _norms(w, axis)
    expected = w * (np.clip(n, 0, max_value) / (EPS + n))
    _check(constraints.MaxNorm(max_value, axis=axis), w, expected)


@fast
@given(w=matrices)
def test_non_neg(w):
    _check(constraints.NonNeg(), w, w * (w >= 0))


@fast
@given(w=matrices, data=st.data())
def test_unit_norm(w, data):
    axis = _axis_for(w, data.draw)
    _check(constraints.UnitNorm(axis=axis), w, w / (EPS + _norms(w, axis)))


@fast
@given(w=matrices, data=st.data(), lo=st.floats(0, 3), width=st.floats(0, 5), rate=st.floats(0, 1))
def test_min_max_norm(w, data, lo, width, rate):
    axis = _axis_for(w, data.draw)
    n = _norms(w, axis)
    desired = rate * np.clip(n, lo, lo + width) + (1 - rate) * n
    _check(constraints.MinMaxNorm(lo, lo + width, rate=rate, axis=axis), w, w * (desired / (EPS + n)))


def _check(constraint, w, expected):
    before = w.copy()
    out = constraint(w)
    assert out.dtype == w.dtype and out.shape == w.shape
    assert out is not w
    np.testing.assert_array_equal(w, before)  # the input is not modified in place
    rtol = 1e-5 if w.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=1e-6)


def test_default_axis_constrains_columns_of_a_fused_kernel():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((8, 4 * 5)).astype(np.float32) * 3
    out = constraints.get('max_norm')(w)  # max_value=2, axis=0: one norm per (gate, unit) column
    assert np.all(np.linalg.norm(out, axis=0) <= 2 + 1e-5)
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm()(w), axis=0), 1, rtol=1e-5)


def test_a_1d_bias_is_normed_as_a_whole():
    b = np.array([3.0, 4.0], dtype=np.float32)   # norm 5
    np.testing.assert_allclose(constraints.MaxNorm(1.0)(b), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(constraints.UnitNorm()(b), [0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(constraints.MinMaxNorm(6.0, 10.0)(b), [3.6, 4.8], rtol=1e-6)
    np.testing.assert_allclose(constraints.MinMaxNorm(6.0, 10.0, rate=0.5)(b), [3.3, 4.4], rtol=1e-6)


def test_zero_weights_stay_finite_and_nan_stays_visible():
    z = np.zeros((3, 2), dtype=np.float32)
    for c in (constraints.MaxNorm(), constraints.UnitNorm(), constraints.MinMaxNorm(1.0, 2.0)):
        assert np.all(np.isfinite(c(z)))
    assert np.isnan(constraints.NonNeg()(np.array([np.nan, -1.0]))[0])


def test_list_of_axes_as_in_keras():
    w = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    out = constraints.UnitNorm(axis=[0, 1])(w)
    np.testing.assert_allclose(np.sqrt((out ** 2).sum(axis=(0, 1))), 1, rtol=1e-6)
