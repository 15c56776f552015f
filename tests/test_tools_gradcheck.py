"""gradcheck as a research tool: modes, the per-element report, seeds, float64 replay of a float32 layer."""
import numpy as np
import pytest

import minigrad as mg
from layers import SimpleRNN


def leaf(*shape, seed=0, dtype=np.float64, name=None):
    return mg.Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True, name=name)


class WrongAt(mg.Function):
    """tanh whose hand-written gradient is wrong at exactly one element (``at``): the injected error to find."""

    @staticmethod
    def forward(ctx, x, at=None):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        ctx.at = at
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        grad = g * (1 - out * out)
        grad = grad.copy()
        grad[ctx.at] *= 1.5
        return grad


def test_full_jacobian_and_projection_modes_agree_with_vjp_mode():
    x, w = leaf(3, 4, name="x"), leaf(4, 2, seed=1, name="w")

    def f(x, w):
        return [mg.tanh(x @ w), (x * x).sum(axis=0)]   # two outputs, non-scalar

    for mode in ("vjp", "full", "projection"):
        assert mg.gradcheck(f, [x, w], mode=mode)
    full = mg.gradcheck_report(f, [x, w], mode="full")
    jac = full.inputs[1].analytic                        # (m, 4, 2), m = 3*2 + 4 output elements
    assert jac.shape == (10, 4, 2)
    # the full Jacobian contracted with the vjp mode's cotangent is the vjp mode's gradient
    vjp = mg.gradcheck_report(f, [x, w], mode="vjp")
    v = np.concatenate([c.reshape(-1) for c in vjp.cotangents])
    assert np.allclose(np.tensordot(v, jac, axes=1), vjp.inputs[1].analytic)
    # and projections of the tape gradient are exactly <grad, u>
    proj = mg.gradcheck_report(f, [x, w], mode="projection", n_projections=3)
    u = proj.projections[1]
    assert np.allclose(proj.inputs[1].analytic, [np.sum(vjp.inputs[1].analytic * d) for d in u])


def test_all_modes_catch_the_injected_error_and_the_report_finds_index_and_timestep():
    x = leaf(2, 5, 3, name="seq")   # (batch, timesteps, features)
    at = (1, 3, 2)

    def f(x):
        return WrongAt.apply(x, at=at).sum()

    for mode in ("vjp", "full", "projection"):
        with pytest.raises(mg.GradcheckError):
            mg.gradcheck(f, [x], mode=mode, n_projections=4)
    report = mg.gradcheck_report(f, [x])
    assert not report.passed
    c = report.inputs[0]
    assert c.n_bad == 1 and c.worst[0].index == at and c.timestep == 3
    a, n = c.worst[0].analytic, c.worst[0].numeric
    assert np.isclose(a, 1.5 * n)
    assert np.isclose(c.worst[0].rel_error, abs(a - n) / abs(n))                    # |a-n|/|n| = 0.5
    assert np.isclose(c.worst[0].sym_rel_error, abs(a - n) / max(abs(a), abs(n)))   # |a-n|/max = 1/3
    assert np.isclose(c.rel_error[at], 0.5) and np.isclose(c.sym_rel_error[at], 1 / 3)
    text = str(report)
    assert "FAILED" in text and "(1, 3, 2)" in text
    with pytest.raises(mg.GradcheckError, match=r"at index \(1, 3, 2\).*timestep 3.*seed=0") as err:
        mg.gradcheck(f, [x])
    assert err.value.report.inputs[0].worst[0].index == at
    full = mg.gradcheck_report(f, [x], mode="full")
    assert full.inputs[0].worst[0].index == at and full.inputs[0].worst[0].output_index == (0, ())


def test_seed_reproduces_cotangent_and_projections_and_is_printed():
    x = leaf(3, 4)

    def f(x):
        return mg.tanh(x) * 2.0

    a = mg.gradcheck_report(f, [x], mode="projection", seed=7, n_projections=2)
    b = mg.gradcheck_report(f, [x], mode="projection", seed=7, n_projections=2)
    c = mg.gradcheck_report(f, [x], mode="projection", seed=8, n_projections=2)
    assert np.array_equal(a.projections[0], b.projections[0]) and np.array_equal(a.cotangents[0], b.cotangents[0])
    assert not np.allclose(a.projections[0], c.projections[0])
    assert np.allclose(np.linalg.norm(a.projections[0].reshape(2, -1), axis=1), 1)   # unit directions
    fresh = mg.gradcheck_report(f, [x], seed=None)
    assert isinstance(fresh.seed, int)   # a drawn seed is still reported, so the check can be replayed

    def g(x):
        return WrongAt.apply(x, at=(0, 0)) * 3.0

    with pytest.raises(mg.GradcheckError, match="seed=123"):
        mg.gradcheck(g, [x], seed=123)


def test_float32_layer_is_checked_by_float64_replay_and_not_without_it():
    mg.seed(0)
    layer = SimpleRNN(3, return_sequences=True)        # float32 weights
    x = mg.Tensor(mg.get_rng().standard_normal((2, 4, 2)).astype(np.float32), requires_grad=True)
    layer(x)
    weights = layer.weights
    before = [w.data.copy() for w in weights]

    def f(x, *ws):
        return layer(x)

    assert all(w.dtype == np.float32 for w in weights)
    assert mg.gradcheck(f, [x, *weights])               # replay_dtype=float64 (the default)
    assert all(w.dtype == np.float32 and np.array_equal(w.data, b) for w, b in zip(weights, before))
    assert all(w.grad is None for w in weights) and x.grad is None
    with pytest.raises(mg.GradcheckError):             # float32 central differences with eps=1e-6 are noise
        mg.gradcheck(f, [x, *weights], replay_dtype=None)


def test_wrt_checks_only_the_named_inputs_and_leaves_closure_grads_alone():
    x, w = leaf(3, 2), leaf(2, 2, seed=1)
    hidden = leaf(2, seed=2)             # reached only through the closure
    hidden.grad = np.full(2, 5.0)
    rep = mg.gradcheck_report(lambda x, w: mg.tanh(x @ w + hidden), [x, w], wrt=1)
    assert [c.position for c in rep.inputs] == [1]
    assert np.array_equal(hidden.grad, [5.0, 5.0])
    with pytest.raises(ValueError, match="mode"):
        mg.gradcheck(lambda x: x, [x], mode="jacobian")
