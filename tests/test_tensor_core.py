"""The tape's bookkeeping: accumulation, no_grad, dtypes, the functional API, gradcheck's report, bad input."""
import numpy as np
import pytest

import minigrad as mg


def leaf(*shape, dtype=np.float64, seed=0):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def test_gradient_accumulates_over_repeated_use_in_one_graph():
    x = leaf(3)
    y = x * x + x * 3 + x  # x used four times
    y.sum().backward()
    assert np.allclose(x.grad, 2 * x.data + 4)


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = leaf(2)
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    assert np.allclose(x.grad, 4)
    x.zero_grad()
    assert x.grad is None
    (x * 2).sum().backward()
    assert np.allclose(x.grad, 2)


def test_diamond_graph_and_shared_subexpression():
    x = leaf(4)
    h = mg.tanh(x)
    y = (h * h + h).sum()
    y.backward()
    t = np.tanh(x.data)
    assert np.allclose(x.grad, (2 * t + 1) * (1 - t ** 2))


def test_no_grad_records_nothing():
    x = leaf(3)
    with mg.no_grad():
        y = x * 2 + 1
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y._node is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_float32_stays_float32_through_every_op_and_gradient():
    x, w = leaf(3, 4, dtype=np.float32), leaf(4, 2, dtype=np.float32)
    y = mg.softmax(mg.tanh(x @ w) * 2.0 + 1.0) / 3.0 - mg.sigmoid(x @ w) ** 2
    z = mg.log_softmax(mg.concatenate([y, mg.relu(y)], axis=1)).mean() + mg.hard_sigmoid(x).sum()
    z = z + mg.softplus(x).sum() + mg.sqrt(mg.exp(x)).sum() + mg.clip(x, -1, 1).max() + mg.abs(x).min()
    assert z.dtype == np.float32
    z.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32


def test_ints_are_data_without_gradient():
    ids = mg.Tensor(np.array([1, 2, 3]))
    assert ids.dtype.kind == "i"
    with pytest.raises(TypeError, match="floating-point"):
        mg.Tensor(np.array([1, 2]), requires_grad=True)
    emb = leaf(5, 2)
    emb[ids.data].sum().backward()
    assert np.allclose(emb.grad[[1, 2, 3]], 1) and np.allclose(emb.grad[[0, 4]], 0)


def test_scalars_and_arrays_mix_on_either_side():
    x = leaf(2, 2)
    a = np.ones((2, 2))
    y = 1 + x
    y = a * y - 2
    y = a / (y + 10) + 3 ** x
    assert isinstance(y, mg.Tensor)
    y.sum().backward()
    assert x.grad.shape == (2, 2)


def test_deep_graph_does_not_hit_recursion_limit():
    x = leaf(3)
    h = x
    for _ in range(30000):
        h = h * 1.0 + 0.0
    h.sum().backward()
    assert np.allclose(x.grad, 1)


def test_backward_on_non_scalar_needs_a_seed_of_the_right_shape():
    y = leaf(2, 3) * 2
    with pytest.raises(RuntimeError, match=r"non-scalar.*\(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"seed gradient has shape \(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 3)))


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\)"):
        leaf(3, 4) @ leaf(5, 2)


def test_unsupported_operand_type_is_a_type_error():
    x = leaf(2)
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError, match="dict"):
        mg.exp({})
    with pytest.raises(TypeError, match="numeric"):
        mg.Tensor(["a", "b"])


def test_custom_function_records_one_entry_and_checks():
    class Cube(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    t = leaf(4)
    y = Cube.apply(t)
    assert y._node is not None and y._node.inputs == (t,)
    assert mg.gradcheck(Cube.apply, [t])


def test_function_with_several_outputs_gets_zeros_for_unused_ones():
    class SplitTwo(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            return 2 * ga + 3 * gb

    x = leaf(3)
    a, b = SplitTwo.apply(x)
    a.sum().backward()
    assert np.allclose(x.grad, 2)


def test_ctx_is_the_tape_entry_and_tells_which_inputs_need_a_gradient():
    seen = {}

    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, s, c, factor=1.0):
            seen["forward"] = ctx.needs_input_grad
            ctx.factor = factor * c  # an op's own attribute, kept for backward
            ctx.save_for_backward(s)
            return x * s * ctx.factor

        @staticmethod
        def backward(ctx, g):
            seen["backward"] = ctx.needs_input_grad
            (s,) = ctx.saved_tensors
            return g * s * ctx.factor, None, None

    x, s = leaf(3), leaf(3, seed=1)
    s.requires_grad = False
    y = Scale.apply(x, s, 2.0, factor=0.5)  # a non-Tensor argument needs no gradient either
    assert y._node.ctx is y._node and y._node.factor == 1.0
    assert seen["forward"] == (True, False, False)
    y.sum().backward()
    assert seen["backward"] == (True, False, False)
    np.testing.assert_allclose(x.grad, s.data * 1.0)
    with mg.no_grad():
        z = Scale.apply(x, s, 2.0)
    assert z._node is None and seen["forward"] == (False, False, False)


def test_grad_and_value_and_grad():
    def f(x, w):
        return mg.tanh(x @ w).sum()

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    gx = mg.grad(f)(x, w)
    gx2, gw = mg.grad(f, argnums=(0, 1))(x, w)
    val, gx3 = mg.value_and_grad(f)(x, w)
    d = 1 - np.tanh(x @ w) ** 2
    assert np.allclose(gx, d @ w.T) and np.allclose(gx2, gx) and np.allclose(gx3, gx)
    assert np.allclose(gw, x.T @ d)
    assert np.isclose(val.item(), np.tanh(x @ w).sum())


def test_gradcheck_reports_input_index_and_values_on_a_wrong_gradient():
    class BadSquare(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2.1 * x * g  # wrong on purpose

    ok, bad = leaf(3), leaf(2, 2, seed=1)
    bad.name = "w"
    with pytest.raises(mg.GradcheckError, match=r"input 1 \('w'\) of shape \(2, 2\) at index \(\d, \d\): analytic"):
        mg.gradcheck(lambda a, b: a.sum() + BadSquare.apply(b).sum(), [ok, bad])


def test_gradcheck_restores_data_and_grads_and_works_through_closures():
    w = leaf(3, 2, dtype=np.float32)
    before = w.data.copy()
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert mg.gradcheck(lambda _w: mg.tanh(x @ w), [w])  # f ignores its argument and uses the closure
    assert w.data.dtype == np.float32 and np.array_equal(w.data, before) and w.grad is None


def test_seed_makes_draws_reproducible():
    mg.seed(3)
    a = mg.get_rng().standard_normal(4)
    mg.seed(3)
    assert np.array_equal(a, mg.get_rng().standard_normal(4))
    with pytest.raises(ValueError):
        mg.seed(-1)


def test_leaves_lists_each_leaf_that_requires_grad_once():
    a = mg.Tensor(np.ones(2), requires_grad=True)
    b = mg.Tensor(np.ones(2), requires_grad=True)
    c = mg.Tensor(np.ones(2))  # no gradient: not a leaf of interest
    y = (a * b + a * c).sum()
    assert {id(t) for t in mg.leaves([y])} == {id(a), id(b)} and len(mg.leaves([y, a])) == 2
    assert mg.leaves([c]) == []
