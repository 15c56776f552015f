"""Every op's tape gradient against float64 central differences, over random shapes (broadcasting pairs and size-1
axes included) and values. One table of ops drives the property tests, as in HIPS autograd's test suite."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def values(shape, lo=-3.0, hi=3.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


@st.composite
def broadcast_pair(draw, lo=-3.0, hi=3.0):
    """Two arrays whose shapes broadcast against each other (size-1 axes and missing leading axes)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    a = draw(values(shapes.input_shapes[0], lo, hi))
    b = draw(values(shapes.input_shapes[1], lo, hi))
    return a, b


def check(f, *arrays):
    ts = [mg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    assert mg.gradcheck(f, ts, atol=1e-6, rtol=1e-4)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "maximum": mg.maximum,
    "minimum": mg.minimum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair())
def test_binary_ops_broadcasting(name, pair):
    a, b = pair
    if name in ("maximum", "minimum"):
        b = b + 0.5 * (np.abs(a - b) < 1e-3)  # keep away from ties, where the derivative is undefined
    check(BINARY[name], a, b)


@given(pair=broadcast_pair())
def test_div_broadcasting(pair):
    a, b = pair
    b = np.where(np.abs(b) < 0.5, 1.5, b)
    check(lambda x, y: x / y, a, b)


@given(pair=broadcast_pair(lo=0.5, hi=2.0))
def test_pow_tensor_exponent(pair):
    check(lambda x, y: x ** y, *pair)


@given(a=values(small_shapes, 0.2, 3.0), p=st.sampled_from([2, 3, 0.5, -1.5]))
def test_pow_scalar_exponent(a, p):
    check(lambda x: x ** p, a)


UNARY = {
    "neg": (lambda x: -x, -3, 3),
    "exp": (mg.exp, -3, 3),
    "log": (mg.log, 0.1, 3),
    "sqrt": (mg.sqrt, 0.1, 3),
    "abs": (mg.abs, 0.1, 3),
    "tanh": (mg.tanh, -3, 3),
    "sigmoid": (mg.sigmoid, -6, 6),
    "relu": (mg.relu, 0.1, 3),
    "softplus": (mg.softplus, -5, 5),
    "scalar_rsub": (lambda x: 2.0 - x, -3, 3),
    "scalar_rdiv": (lambda x: 2.0 / x, 0.5, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops(name, data):
    f, lo, hi = UNARY[name]
    a = data.draw(values(small_shapes, lo, hi))
    if name == "abs":  # both signs, away from the kink
        a = a * data.draw(st.sampled_from([1.0, -1.0]))
    check(f, a)


@given(a=values(small_shapes, -2.4, 2.4))
def test_hard_sigmoid_inside_and_outside(a):
    check(mg.hard_sigmoid, a)
    check(mg.hard_sigmoid, a + np.sign(a + 1e-9) * 3.0)  # beyond +-2.5 the slope is 0


@given(a=values(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_reductions(a, data):
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1))
    keepdims = data.draw(st.booleans())
    check(lambda x: x.sum(axis=axis, keepdims=keepdims), a)
    check(lambda x: x.mean(axis=axis, keepdims=keepdims), a)
    # distinct values a step apart (in a's order), so every extremum is unique and the derivative exists
    b = np.empty(a.size)
    b[np.argsort(a, axis=None, kind="stable")] = np.arange(a.size) * 0.37
    b = b.reshape(a.shape)
    check(lambda x: x.max(axis=axis, keepdims=keepdims), b)
    check(lambda x: x.min(axis=axis, keepdims=keepdims), b)


@given(a=values(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_softmax_and_log_softmax(a, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    check(lambda x: mg.softmax(x, axis=axis), a)
    check(lambda x: mg.log_softmax(x, axis=axis), a)


@given(data=st.data())
def test_matmul_shapes(data):
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (1,), (3, 1)]))
    batch_b = data.draw(st.sampled_from([(), batch, (1,) * len(batch)]))
    a = data.draw(values(batch + (n, k)))
    b = data.draw(values(batch_b + (k, m)))
    check(lambda x, y: x @ y, a, b)
    v = data.draw(values((k,)))
    check(lambda x, y: x @ y, a, v)      # matrix @ vector
    check(lambda x, y: x @ y, v, b)      # vector @ matrix


@given(a=values(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=4)))
def test_movement_ops(a):
    check(lambda x: x.reshape(-1), a)
    check(lambda x: x.T, a)
    check(lambda x: x.transpose(tuple(reversed(range(a.ndim)))), a)
    check(lambda x: x[1:, ..., ::-1], a)
    check(lambda x: x[np.array([0, 1, 0])], a)      # repeated fancy index: gradients add up
    mask = a > 0
    check(lambda x: x[mask], a)                      # boolean mask
    check(lambda x: mg.clip(x, -1.0, 1.0), np.where(np.abs(np.abs(a) - 1) < 1e-3, 0.5, a))


@given(data=st.data())
def test_concatenate_stack_split_where(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    a = data.draw(values(shape))
    b = data.draw(values(shape))
    axis = data.draw(st.integers(0, len(shape) - 1))
    check(lambda x, y: mg.concatenate([x, y, x], axis=axis), a, b)
    check(lambda x, y: mg.stack([x, y], axis=axis), a, b)
    check(lambda x, y: mg.where(a > b, x * 2, y), a, b)
    check(lambda x: mg.concatenate(mg.split(x * 1.0, [1], axis=axis)[::-1], axis=axis), a)
    pieces = mg.split(mg.Tensor(a), [1], axis=axis)
    assert [p.shape[axis] for p in pieces] == [1, shape[axis] - 1]
    check(lambda x: mg.stack(mg.unstack(x, axis=axis)[::-1], axis=axis), a)
    check(lambda x: mg.unstack(x, axis=axis)[0], a)  # unused pieces get no gradient, the used one all of it


@pytest.mark.parametrize("f", [mg.sigmoid, mg.softmax, mg.log_softmax, mg.softplus, mg.tanh, mg.hard_sigmoid])
def test_extreme_inputs_stay_finite(f):
    x = mg.Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]]), requires_grad=True)
    y = f(x)
    (y * np.arange(6.0).reshape(2, 3)).sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad))


def test_extreme_values_are_right():
    assert np.allclose(mg.sigmoid(mg.Tensor([1000.0, -1000.0])).data, [1.0, 0.0])
    assert np.allclose(mg.log_softmax(mg.Tensor([1000.0, -1000.0])).data, [0.0, -2000.0])
    assert np.allclose(mg.softplus(mg.Tensor([1000.0, -1000.0])).data, [1000.0, 0.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_accurate_to_a_few_ulp_and_flushes_only_below_the_normal_range(dtype):
    x = np.linspace(-80, 80, 2001).astype(dtype)
    want = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(-a) overflowing for a << 0 must not warn
        got = mg.sigmoid(x).data
        extremes = mg.sigmoid(np.array([-1000.0, 1000.0], dtype)).data
        scalar = mg.sigmoid(np.array(-3.0, dtype))
    assert got.dtype == dtype and scalar.shape == ()
    rel = np.abs(got - want) / want
    assert rel.max() <= 4 * np.finfo(dtype).eps  # relative, so tiny outputs keep their digits too
    np.testing.assert_array_equal(extremes, [0.0, 1.0])
    np.testing.assert_allclose(scalar.data, 1 / (1 + np.exp(3.0)), rtol=4 * np.finfo(dtype).eps)


def test_hard_sigmoid_slope_is_zero_at_and_beyond_the_kinks():
    x = mg.Tensor(np.array([-3.0, -2.5, -1.0, 0.0, 2.4, 2.5, 3.0]), requires_grad=True)
    y = mg.hard_sigmoid(x)
    y.sum().backward()
    np.testing.assert_allclose(y.data, np.clip(0.2 * x.data + 0.5, 0, 1))
    np.testing.assert_array_equal(x.grad, [0, 0, 0.2, 0.2, 0.2, 0, 0])
    assert mg.hard_sigmoid(np.float32(1.0)).dtype == np.float32
