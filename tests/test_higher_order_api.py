"""Higher-order differentiation: mg.gradients(create_graph=...), nested mg.grad, hvp, jvp, vjp, hessian,
gradgradcheck, and how a user's Function becomes differentiable twice (graph_backward, reference_forward,
apply_with_reference). Values are checked against analytic derivatives and float64 central differences."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg


def leaf(*shape, seed=0, scale=1.0):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape) * scale, requires_grad=True)


def numeric_jacobian(fn, x, eps=1e-6):
    """Central differences of an array-valued fn of an array x: shape fn(x).shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        d = np.zeros(x.size)
        d[k] = eps
        d = d.reshape(x.shape)
        cols.append((np.asarray(fn(x + d)) - np.asarray(fn(x - d))) / (2 * eps))
    out_shape = np.shape(fn(x))
    return np.stack(cols, axis=-1).reshape(out_shape + x.shape)


def rnn_loss(xs, target):
    """A tanh RNN written with minigrad ops; returns loss(W, R, b, V)."""
    def loss(W, R, b, V):
        h = mg.Tensor(np.zeros((xs.shape[1], R.shape[0])))
        for t in range(xs.shape[0]):
            h = mg.tanh(xs[t] @ W + h @ R + b)
        return ((h @ V - target) ** 2).mean()
    return loss


# ============================================================ Hessians: analytic and by differences

def test_hessian_of_small_functions_against_analytic_values():
    x = np.array([0.5, -1.0, 2.0])
    A = np.random.default_rng(0).standard_normal((3, 3))
    np.testing.assert_allclose(mg.hessian(lambda t: (t ** 3).sum())(x), np.diag(6 * x), rtol=1e-12)
    np.testing.assert_allclose(mg.hessian(lambda t: t @ (A @ t))(x), A + A.T, rtol=1e-12, atol=1e-12)
    p = np.exp(x) / np.exp(x).sum()  # log-sum-exp: diag(p) - p p^T
    lse = mg.hessian(lambda t: mg.log(mg.exp(t).sum()))(x)
    np.testing.assert_allclose(lse, np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mg.hessian(lambda t: mg.log_softmax(t)[0])(x), -(np.diag(p) - np.outer(p, p)),
                               rtol=1e-10, atol=1e-12)
    h = mg.hessian(lambda t: mg.tanh(t).sum())(x)
    np.testing.assert_allclose(h, np.diag(-2 * np.tanh(x) * (1 - np.tanh(x) ** 2)), rtol=1e-12)
    assert mg.hessian(lambda t: (t * 2.0).sum())(x).shape == (3, 3)  # linear: zeros
    assert not mg.hessian(lambda t: (t * 2.0).sum())(x).any()


def test_hessian_of_a_matrix_argument_has_shape_x_shape_twice_and_matches_differences():
    W = np.random.default_rng(1).standard_normal((2, 3)) * 0.5
    x = np.random.default_rng(2).standard_normal((4, 2))

    def f(w):
        return (mg.sigmoid(x @ w) ** 2).sum() + mg.softmax(w, axis=0).max()
    h = mg.hessian(f)(W)
    assert h.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(h, numeric_jacobian(lambda w: mg.grad(f)(w), W), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(h.reshape(6, 6), h.reshape(6, 6).T, atol=1e-12)  # symmetric


@given(x=hnp.arrays(np.float64, st.integers(1, 4), elements=st.floats(0.2, 2.0)))
def test_hessian_matches_central_differences_of_the_gradient(x):
    def f(t):
        return (mg.sqrt(t) * mg.exp(-t) + t ** 2.5 / (1 + t)).sum() * mg.log(t).mean()
    np.testing.assert_allclose(mg.hessian(f)(x), numeric_jacobian(mg.grad(f), x), rtol=1e-5, atol=1e-7)


# ============================================================ HVP, JVP, VJP

def test_hvp_of_an_rnn_loss_matches_differences_of_first_order_gradients():
    rng = np.random.default_rng(3)
    xs, target = rng.standard_normal((6, 4, 3)), rng.standard_normal((4, 1))
    loss = rnn_loss(xs, target)
    params = [rng.standard_normal((3, 5)) * 0.5, rng.standard_normal((5, 5)) * 0.4, rng.standard_normal(5) * 0.1,
              rng.standard_normal((5, 1))]
    vs = [rng.standard_normal(p.shape) for p in params]
    hv = mg.hvp(loss, params, vs)
    grad = mg.grad(loss, argnums=(0, 1, 2, 3))
    eps = 1e-5
    plus = grad(*[p + eps * v for p, v in zip(params, vs)])
    minus = grad(*[p - eps * v for p, v in zip(params, vs)])
    for h, gp, gm in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (gp - gm) / (2 * eps), rtol=1e-5, atol=1e-8)


def test_hvp_equals_hessian_times_vector_and_is_linear():
    x, v = np.array([0.3, -0.7, 1.1]), np.array([1.0, 2.0, -1.0])

    def f(t):
        return (mg.softplus(t) * t).sum() * mg.tanh(t).sum()
    np.testing.assert_allclose(mg.hvp(f, x, v), mg.hessian(f)(x) @ v, rtol=1e-12)
    np.testing.assert_allclose(mg.hvp(f, x, 3 * v), 3 * mg.hvp(f, x, v), rtol=1e-12)
    np.testing.assert_array_equal(mg.hvp(lambda t: (t * 2).sum(), x, v), np.zeros(3))  # a linear f


def test_jvp_matches_differences_and_the_jacobian():
    A = np.random.default_rng(4).standard_normal((3, 2))
    x, t = np.array([0.4, -0.2]), np.array([1.0, 0.5])

    def f(u):
        return mg.tanh(A @ u) * u.sum()
    value, jt = mg.jvp(f, x, t)
    np.testing.assert_allclose(value, np.tanh(A @ x) * x.sum())
    np.testing.assert_allclose(jt, numeric_jacobian(lambda u: f(mg.Tensor(u)).data, x) @ t, rtol=1e-6, atol=1e-9)


def test_jvp_with_several_inputs_and_outputs():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    ta, tb = rng.standard_normal((2, 3)), rng.standard_normal(3)

    def f(x, y):
        return x * y, (x ** 2).sum(axis=0) + y
    (v1, v2), (j1, j2) = mg.jvp(f, (a, b), (ta, tb))
    np.testing.assert_allclose(v1, a * b)
    np.testing.assert_allclose(j1, ta * b + a * tb, rtol=1e-12)
    np.testing.assert_allclose(j2, (2 * a * ta).sum(axis=0) + tb, rtol=1e-12)
    _, j_const = mg.jvp(lambda x: x * 0 + 1.0, np.ones(2), np.ones(2))  # derivative zero, still an array
    np.testing.assert_array_equal(j_const, np.zeros(2))


def test_vjp_returns_value_and_a_reusable_pullback():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    value, pullback = mg.vjp(lambda x, y: mg.tanh(x @ y), a, b)
    np.testing.assert_allclose(value, np.tanh(a @ b))
    for seed in range(2):  # callable more than once
        u = np.random.default_rng(seed).standard_normal((2, 4))
        ga, gb = pullback(u)
        d = u * (1 - np.tanh(a @ b) ** 2)
        np.testing.assert_allclose(ga, d @ b.T)
        np.testing.assert_allclose(gb, a.T @ d)
    value, pullback = mg.vjp(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    np.testing.assert_allclose(pullback(1.0), [2.0, 4.0])


# ============================================================ mg.gradients

def test_gradients_leaves_grad_alone_and_records_only_on_request():
    x, w = leaf(3, 2), leaf(2, seed=1)
    x.grad = np.full((3, 2), 7.0)
    loss = (mg.tanh(x @ w) ** 2).sum()
    gx, gw = mg.gradients(loss, [x, w])
    assert isinstance(gx, mg.Tensor) and not gx.requires_grad and gx.shape == (3, 2)
    np.testing.assert_array_equal(x.grad, np.full((3, 2), 7.0))
    assert w.grad is None
    loss.backward()  # the same as the tape's first-order pass
    np.testing.assert_allclose(gx.data, x.grad - 7.0, rtol=1e-12)
    np.testing.assert_allclose(gw.data, w.grad, rtol=1e-12)
    gx2, = mg.gradients(loss, [x], create_graph=True)
    assert gx2.requires_grad and gx2._node is not None
    np.testing.assert_allclose(gx2.data, gx.data, rtol=1e-12)


def test_gradients_with_respect_to_an_intermediate_result_and_a_seed():
    x = leaf(4)
    h = mg.exp(x)
    y = h * 3.0 + x
    gh, gx = mg.gradients(y, [h, x], grad_outputs=np.arange(4.0))
    np.testing.assert_allclose(gh.data, 3 * np.arange(4.0))
    np.testing.assert_allclose(gx.data, np.arange(4.0) * (3 * np.exp(x.data) + 1))  # the total derivative


def test_gradients_allow_unused_and_the_errors_it_replaces():
    x, unused = leaf(2), leaf(2, seed=1)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"inputs\[1\].*not used.*allow_unused"):
        mg.gradients(y, [x, unused])
    gx, gu = mg.gradients(y, [x, unused], allow_unused=True)
    assert gu is None and np.allclose(gx.data, 2 * x.data)
    with pytest.raises(RuntimeError, match=r"outputs\[0\] has shape \(2,\).*grad_outputs"):
        mg.gradients(x * 2, [x])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\) but outputs\[0\] has shape \(2,\)"):
        mg.gradients(x * 2, [x], grad_outputs=[np.ones(3)])
    with pytest.raises(RuntimeError, match=r"inputs\[0\].*does not require grad"):
        mg.gradients(y, [mg.Tensor(np.ones(2))])
    with pytest.raises(RuntimeError, match=r"outputs\[0\].*does not require grad"):
        mg.gradients(mg.Tensor(np.ones(2)).sum(), [x])


def test_gradients_with_respect_to_the_cotangent_gives_the_jacobian_product():
    x = leaf(3)
    u = mg.Tensor(np.zeros(3), requires_grad=True)
    gx, = mg.gradients(mg.tanh(x), [x], grad_outputs=[u], create_graph=True)  # J^T u, linear in u
    t = np.array([1.0, -2.0, 0.5])
    ju, = mg.gradients((gx * t).sum(), [u])
    np.testing.assert_allclose(ju.data, (1 - np.tanh(x.data) ** 2) * t)


def test_third_and_fourth_derivatives_by_repeated_create_graph():
    x = mg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = (x ** 4).sum()
    g1, = mg.gradients(y, [x], create_graph=True)
    g2, = mg.gradients(g1.sum(), [x], create_graph=True)
    g3, = mg.gradients(g2.sum(), [x], create_graph=True)
    g4, = mg.gradients(g3.sum(), [x])
    np.testing.assert_allclose(g3.data, 24 * x.data)
    np.testing.assert_allclose(g4.data, [24.0, 24.0])


def test_deep_graphs_do_not_hit_the_recursion_limit_in_create_graph_mode():
    x = mg.Tensor(np.array([0.7]), requires_grad=True)
    a, b, h = 0.9999, 1e-4, x
    n = 10_000  # 4 recorded ops per step: 40,000 ops, whose gradient graph is larger still
    for _ in range(n):
        h = h * a + x * x * b
    g, = mg.gradients(h.sum(), [x], create_graph=True)
    g2, = mg.gradients(g.sum(), [x])
    series = (1 - a ** n) / (1 - a)  # h_n = a^n x + b x^2 (1 - a^n) / (1 - a)
    np.testing.assert_allclose(g.data, a ** n + 2 * b * x.data * series, rtol=1e-9)
    np.testing.assert_allclose(g2.data, 2 * b * series, rtol=1e-9)


# ============================================================ nesting mg.grad

def test_nested_grad_returns_tensors_inside_and_arrays_outside():
    f = lambda t: (t ** 3).sum()  # noqa: E731
    x = np.array([1.0, -2.0])
    assert isinstance(mg.grad(f)(x), np.ndarray)
    seen = {}

    def outer(t):
        inner = mg.grad(f)(t)
        seen["inner"] = inner
        return inner.sum()
    np.testing.assert_allclose(mg.grad(outer)(x), 6 * x)
    assert isinstance(seen["inner"], mg.Tensor) and seen["inner"].requires_grad
    d3 = mg.grad(lambda t: mg.grad(lambda s: mg.grad(f)(s).sum())(t).sum())(x)
    np.testing.assert_allclose(d3, [6.0, 6.0])


def test_nested_grad_through_a_closure_meta_learning_step():
    """d/dw of L(w - lr * dL/dw): the inner gradient is differentiated with respect to the outer parameter."""
    rng = np.random.default_rng(7)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
    lr = 0.1

    def loss(w):
        return ((X @ w - y) ** 2).mean()

    def meta(w):
        return loss(w - lr * mg.grad(loss)(w))
    w0 = rng.standard_normal(3)
    A = 2 * X.T @ X / 5  # loss is quadratic: grad = A w - c, so meta(w) = loss((I - lr A) w + lr c)
    c = 2 * X.T @ y / 5
    inner = (np.eye(3) - lr * A)
    expected = inner.T @ (A @ (inner @ w0 + lr * c) - c)
    np.testing.assert_allclose(mg.grad(meta)(w0), expected, rtol=1e-10)


def test_argnums_naming_an_argument_twice_is_refused():
    f = lambda a, b: (a * b).sum()  # noqa: E731
    with pytest.raises(ValueError, match=r"argnums \(0, 0\) names the same argument twice"):
        mg.grad(f, argnums=(0, 0))(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="same argument twice"):
        mg.grad(f, argnums=(1, -1))(np.ones(2), np.ones(2))


# ============================================================ user Functions and second derivatives

class NumpyCube(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x ** 2 * g


class GraphCube(NumpyCube):
    @staticmethod
    def graph_backward(ctx, g):
        (x,) = ctx.inputs
        return 3 * x ** 2 * g


class ReferenceCube(NumpyCube):
    @staticmethod
    def reference_forward(x):
        return x * x * x


class WrongSecondDerivative(NumpyCube):
    """The right first derivative, written so that its own derivative is wrong: x's value enters as a constant."""

    @staticmethod
    def graph_backward(ctx, g):
        (x,) = ctx.inputs
        return g * (3 * x.data ** 2)


def test_numpy_only_backward_works_to_first_order_and_refuses_a_second_derivative():
    x = leaf(3)
    assert mg.gradcheck(NumpyCube.apply, [x])
    g, = mg.gradients(NumpyCube.apply(x).sum(), [x], create_graph=True)  # the gradient itself is fine
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    with pytest.raises(RuntimeError, match="NumpyCube cannot be differentiated twice.*graph_backward"):
        mg.gradients(g.sum(), [x])
    with pytest.raises(RuntimeError, match="NumpyCube cannot be differentiated twice"):
        g.sum().backward()
    with pytest.raises(RuntimeError, match="NumpyCube"):
        mg.hessian(lambda t: NumpyCube.apply(t).sum())(x.data)
    # a second derivative that does not pass through the op is unaffected
    w = leaf(3, seed=1)
    gw, = mg.gradients((NumpyCube.apply(x) + w ** 3).sum(), [w], create_graph=True)
    np.testing.assert_allclose(mg.gradients(gw.sum(), [w])[0].data, 6 * w.data)


@pytest.mark.parametrize("op", [GraphCube, ReferenceCube])
def test_a_user_op_declares_a_differentiable_backward(op):
    x = mg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    np.testing.assert_allclose(mg.hessian(lambda t: op.apply(t).sum())(x.data), np.diag(6 * x.data))
    assert mg.gradgradcheck(op.apply, [x])
    y = op.apply(x)
    assert y._node.fn is op  # still one tape entry with the numpy backward for first order
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data ** 2)


def test_gradgradcheck_catches_a_wrong_second_derivative_that_gradcheck_misses():
    x = mg.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert mg.gradcheck(WrongSecondDerivative.apply, [x])
    with pytest.raises(mg.GradcheckError, match=r"gradgradcheck.*input 0 of shape \(3,\)") as info:
        mg.gradgradcheck(WrongSecondDerivative.apply, [x])
    assert not info.value.report.passed


def test_gradgradcheck_on_several_inputs_with_given_cotangents_and_bad_arguments():
    a, b = leaf(2, 3), leaf(3, seed=1)
    assert mg.gradgradcheck(lambda x, y: mg.tanh(x * y) @ y, [a, b], grad_outputs=[np.ones(2)])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\) but output 0 has shape \(2,\)"):
        mg.gradgradcheck(lambda x, y: mg.tanh(x * y) @ y, [a, b], grad_outputs=[np.ones(3)])
    with pytest.raises(ValueError, match="nothing to check"):
        mg.gradgradcheck(lambda x: x * 2, [mg.Tensor(np.ones(2))])


# ============================================================ a fused op given its op-by-op reference

class FusedTanhRNN(mg.Function):
    """A whole tanh-RNN sequence as one tape entry, with a hand-written numpy BPTT (first order only).

    apply(xs (T, B, D), W (D, H), R (H, H), b (H,), h0 (B, H)) -> hs (T, B, H)
    """

    @staticmethod
    def forward(ctx, xs, W, R, b, h0):
        hs, h = [], h0
        for x in xs:
            h = np.tanh(x @ W + h @ R + b)
            hs.append(h)
        hs = np.stack(hs)
        ctx.save_for_backward(xs, W, R, h0, hs)
        return hs

    @staticmethod
    def backward(ctx, dhs):
        xs, W, R, h0, hs = ctx.saved_tensors
        dW, dR, db = np.zeros_like(W), np.zeros_like(R), np.zeros(R.shape[0])
        dxs, dh = np.zeros_like(xs), np.zeros_like(h0)
        for t in range(len(xs) - 1, -1, -1):
            da = (dhs[t] + dh) * (1 - hs[t] ** 2)
            h_prev = hs[t - 1] if t else h0
            dW += xs[t].T @ da
            dR += h_prev.T @ da
            db += da.sum(axis=0)
            dxs[t] = da @ W.T
            dh = da @ R.T
        return dxs, dW, dR, db, dh


def unrolled_tanh_rnn(xs, W, R, b, h0):
    """The same sequence, op by op (the fused op's reference forward)."""
    h, hs = h0, []
    for t in range(xs.shape[0]):
        h = mg.tanh(xs[t] @ W + h @ R + b)
        hs.append(h)
    return mg.stack(hs)


def test_a_fused_op_with_an_op_by_op_reference_has_the_second_derivatives_of_the_unrolled_loop():
    rng = np.random.default_rng(8)
    T, B, D, H = 5, 3, 2, 4
    xs = rng.standard_normal((T, B, D))
    params = [rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.4, rng.standard_normal(H) * 0.1,
              rng.standard_normal((B, H)) * 0.3]
    weights = rng.standard_normal((T, B, H))
    vs = [rng.standard_normal(p.shape) for p in params]

    def loss(rnn):
        return lambda W, R, b, h0: (rnn(mg.Tensor(xs), W, R, b, h0) ** 2 * weights).sum()

    fused = loss(lambda *a: FusedTanhRNN.apply_with_reference(unrolled_tanh_rnn, *a))
    unrolled = loss(unrolled_tanh_rnn)
    for got, want in zip(mg.grad(fused, argnums=(0, 1, 2, 3))(*params),
                         mg.grad(unrolled, argnums=(0, 1, 2, 3))(*params)):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    for got, want in zip(mg.hvp(fused, params, vs), mg.hvp(unrolled, params, vs)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    # the fused op stays one tape entry; without its reference the second derivative is refused, naming it
    W, R, b, h0 = (mg.Tensor(p, requires_grad=True) for p in params)
    hs = FusedTanhRNN.apply_with_reference(unrolled_tanh_rnn, xs, W, R, b, h0)
    assert hs._node.fn is FusedTanhRNN and len(mg.toposort([hs._node])) == 1
    with pytest.raises(RuntimeError, match="FusedTanhRNN cannot be differentiated twice"):
        mg.hvp(loss(FusedTanhRNN.apply), params, vs)
    assert mg.gradgradcheck(lambda W, R: FusedTanhRNN.apply_with_reference(unrolled_tanh_rnn, xs, W, R, b, h0),
                            [W, R])


def test_a_reference_sees_each_input_as_independent_when_one_input_is_computed_from_another():
    x = mg.Tensor(np.array([0.3, 0.8]), requires_grad=True)
    h = x * x  # both x and h = x^2 enter the op: the op's VJP must give partial derivatives
    out = ReferenceProduct.apply(x, h)  # x * h = x^3
    g, = mg.gradients(out.sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)
    np.testing.assert_allclose(mg.gradients(g.sum(), [x])[0].data, 6 * x.data)


class ReferenceProduct(mg.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * a

    @staticmethod
    def reference_forward(a, b):
        return a * b


def test_the_readme_section_runs_and_prints_what_it_says(capsys):
    import os
    import re
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    text = open(readme, encoding="utf-8").read()
    code = re.search(r"## Higher-order differentiation.*?```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "True" and lines[2].endswith("True")


def test_an_input_listed_twice_gets_its_gradient_twice():
    x = leaf(2)
    gx1, gx2 = mg.gradients((x * x).sum(), [x, x])
    np.testing.assert_allclose(gx1.data, 2 * x.data)
    np.testing.assert_allclose(gx2.data, 2 * x.data)


def test_nested_grad_differentiates_with_respect_to_its_argument_not_every_use_of_the_tensor():
    """Inside an enclosing differentiation, mg.grad(f, argnums=(0, 1))(a, a) gives the partials (w, u) = (a, a),
    and a closure's use of the same Tensor is not part of the argument's derivative."""
    x = np.array([1.0, 2.0])
    f = lambda u, w: (u * w).sum()  # noqa: E731
    np.testing.assert_allclose(mg.grad(lambda a: mg.grad(f, argnums=(0, 1))(a, a)[1].sum())(x), [1.0, 1.0])
    # d/da of [d/du (u * a).sum() at u = a] = d/da sum(a) = 1 (the closure's a is a constant for the inner grad)
    np.testing.assert_allclose(mg.grad(lambda a: mg.grad(lambda u: (u * a).sum())(a).sum())(x), [1.0, 1.0])
