"""Second derivatives of every op: gradgradcheck (the gradient of each op's recorded VJP, with respect to its inputs
and its cotangent, against float64 central differences) over random shapes, broadcasting pairs and axes. The
same tables as the first-order tests in test_ops_gradients.py."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def values(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, width=64))


@st.composite
def broadcast_pair(draw, lo=-2.0, hi=2.0):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    return draw(values(shapes.input_shapes[0], lo, hi)), draw(values(shapes.input_shapes[1], lo, hi))


def check2(f, *arrays):
    ts = [mg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    assert mg.gradgradcheck(f, ts, atol=1e-5, rtol=1e-3)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": mg.maximum,
    "minimum": mg.minimum,
    "where": lambda a, b: mg.where(a.data > b.data, a * b, b * 2.0),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair())
def test_binary_ops_second_order_with_broadcasting(name, pair):
    a, b = pair
    if name == "div":
        b = np.where(np.abs(b) < 0.5, 1.5, b)
    if name == "pow":
        a = np.abs(a) + 0.5
    if name in ("maximum", "minimum", "where"):
        b = b + 0.5 * (np.abs(a - b) < 1e-3)  # away from ties, where the derivative jumps
    check2(BINARY[name], a, b)


UNARY = {
    "neg": (lambda x: -x, -2, 2),
    "exp": (mg.exp, -2, 2),
    "log": (mg.log, 0.3, 3),
    "sqrt": (mg.sqrt, 0.3, 3),
    "abs": (lambda x: mg.abs(x) * x, 0.2, 2),
    "tanh": (mg.tanh, -2, 2),
    "sigmoid": (mg.sigmoid, -4, 4),
    "relu": (lambda x: mg.relu(x) * x, 0.1, 2),
    "softplus": (mg.softplus, -4, 4),
    "hard_sigmoid": (lambda x: mg.hard_sigmoid(x) * x, -2.4, 2.4),
    "clip": (lambda x: mg.clip(x, -1.0, 1.0) * x, 0.1, 0.9),
    "scalar_pow": (lambda x: x ** 3 + x ** -1.5, 0.3, 2),
    "scalar_rdiv": (lambda x: 2.0 / x, 0.5, 2),
    "rpow": (lambda x: 2.0 ** x, -2, 2),
    "cast": (lambda x: mg.cast(x * x, np.float64), -2, 2),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops_second_order(name, data):
    f, lo, hi = UNARY[name]
    a = data.draw(values(small_shapes, lo, hi))
    if name in ("abs", "relu"):
        a = a * data.draw(st.sampled_from([1.0, -1.0]))
    check2(f, a)


@given(a=values(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)), data=st.data())
def test_reductions_second_order(a, data):
    axis = data.draw(st.none() | st.integers(-a.ndim, a.ndim - 1)
                     | st.lists(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim, unique=True).map(tuple))
    keepdims = data.draw(st.booleans())
    check2(lambda x: x.sum(axis=axis, keepdims=keepdims) ** 2, a)
    check2(lambda x: x.mean(axis=axis, keepdims=keepdims) ** 2, a)
    b = a + np.arange(a.size).reshape(a.shape) * 1e-2  # a unique extremum
    check2(lambda x: x.max(axis=axis, keepdims=keepdims) ** 2, b)
    check2(lambda x: x.min(axis=axis, keepdims=keepdims) ** 2, b)


@given(a=values(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)), data=st.data())
def test_softmax_and_log_softmax_second_order(a, data):
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    check2(lambda x: mg.softmax(x, axis=axis), a)
    check2(lambda x: mg.log_softmax(x, axis=axis), a)


@given(data=st.data())
def test_matmul_second_order_every_shape_case(data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,), (1,), (2, 1)]))
    batch_b = data.draw(st.sampled_from([(), batch, (1,) * len(batch)]))
    a = data.draw(values(batch + (n, k)))
    b = data.draw(values(batch_b + (k, m)))
    v, w = data.draw(values((k,))), data.draw(values((k,)))
    check2(lambda x, y: x @ y, a, b)
    check2(lambda x, y: x @ y, a, v)   # matrix @ vector
    check2(lambda x, y: x @ y, v, b)   # vector @ matrix
    check2(lambda x, y: x @ y, v, w)   # vector @ vector: a 0-d result


@given(a=values(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=3)))
def test_movement_ops_second_order(a):
    check2(lambda x: x.reshape(-1) * x.reshape(-1), a)
    check2(lambda x: x.T * x.T, a)
    check2(lambda x: mg.transpose(x, (-1,) + tuple(range(a.ndim - 1))) ** 2, a)  # negative axes
    check2(lambda x: x[1:, ..., ::-1] ** 2, a)
    check2(lambda x: x[np.array([0, 1, 0])] ** 2, a)   # repeated fancy index: a scatter-add
    check2(lambda x: x[a > 0] ** 2, a)
    check2(lambda x: mg.broadcast_to(x, (2,) + a.shape) ** 2, a)
    check2(lambda x: mg.sum_to(x * x, (1,) + a.shape[1:]), a)


@given(data=st.data())
def test_concatenate_stack_split_second_order(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    a, b = data.draw(values(shape)), data.draw(values(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check2(lambda x, y: mg.concatenate([x, y * x], axis=axis) ** 2, a, b)
    check2(lambda x, y: mg.stack([x, y * x], axis=axis) ** 2, a, b)
    check2(lambda x: mg.concatenate(mg.split(x * x, [1], axis=axis)[::-1], axis=axis), a)
    check2(lambda x: mg.stack(mg.unstack(x * x, axis=axis)[::-1], axis=axis), a)
    check2(lambda x: mg.unstack(x * x, axis=axis)[0], a)  # unused pieces: zeros in the recorded backward


def test_every_op_of_the_table_has_a_graph_rule():
    """Each Function in minigrad.ops can be differentiated twice: it has a graph_backward (or a reference)."""
    import minigrad.ops as ops
    classes = [v for v in vars(ops).values() if isinstance(v, type) and issubclass(v, mg.Function)
               and v is not mg.Function]
    assert len(classes) > 30
    missing = [c.__name__ for c in classes if c.graph_backward is None and c.reference_forward is None]
    assert missing == []
