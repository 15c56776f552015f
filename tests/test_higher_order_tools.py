"""layers.tools.hessian_vector_product and top_hessian_eigenvalue: the curvature of a compiled model's training
loss, against a loss written out by hand and differences of its gradients, the tape path against the fused one,
and the full Hessian's eigenvalues."""
import numpy as np
import pytest

import minigrad as mg
from layers import GRU, LSTM, Dense, Masking, Sequential, SimpleRNN, regularizers
from layers.tools import HessianEigenpair, hessian_vector_product, top_hessian_eigenvalue

B, T, D = 4, 5, 3


def data(seed=0, outputs=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, D)), rng.standard_normal((B, outputs))


def model_of(cls, units=3, unroll=False, seed=0, **kwargs):
    mg.seed(seed)
    model = Sequential([cls(units, input_shape=(T, D), unroll=unroll, dtype="float64",
                            kernel_regularizer=regularizers.l2(0.01), **kwargs),
                        Dense(1, dtype="float64")])
    model.compile(optimizer="sgd", loss="mse")
    return model


def directions(model, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(w.shape) for w in model.trainable_weights]


@pytest.mark.parametrize("cls", [SimpleRNN, GRU, LSTM])
def test_hvp_of_the_training_loss_matches_differences_of_a_hand_written_loss(cls):
    model = model_of(cls)
    x, y = data()
    params = model.trainable_weights
    kernel = model.layers[0].kernel

    def loss():  # what fit minimises, written out: the batch mean of the squared error plus the l2 penalty
        return ((model(x) - y) ** 2).mean() + 0.01 * (kernel * kernel).sum()
    vs = directions(model)
    hv = hessian_vector_product(model, x, y, vs)
    saved, eps = [p.data for p in params], 1e-6

    def gradient_at(sign):
        for p, d, v in zip(params, saved, vs):
            p.data = d + sign * eps * v
        try:
            return [g.data for g in mg.gradients(loss(), params)]
        finally:
            for p, d in zip(params, saved):
                p.data = d
    for h, plus, minus in zip(hv, gradient_at(1), gradient_at(-1)):
        assert h.shape == plus.shape and h.dtype == np.float64
        np.testing.assert_allclose(h, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_the_fused_and_the_unrolled_model_have_the_same_curvature_with_masks_weights_and_dropout():
    x, y = data(2)
    x[0, 3:] = 0.0  # masked by the Masking layer: the last two steps of sample 0
    weights = np.array([1.0, 0.5, 2.0, 0.0])
    results = []
    for unroll in (False, True):
        mg.seed(3)
        model = Sequential([Masking(0.0, input_shape=(T, D), dtype="float64"),
                            GRU(3, reset_after=True, dropout=0.2, recurrent_dropout=0.3, unroll=unroll,
                                dtype="float64"),
                            Dense(1, dtype="float64")])
        model.compile(optimizer="sgd", loss="mse")
        if results:
            model.set_weights(results[0][0])
        mg.seed(4)  # the same dropout masks for both
        hv = hessian_vector_product(model, x, y, directions(model), sample_weight=weights, training=True)
        results.append((model.get_weights(), hv))
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert max(np.abs(a).max() for a in results[0][1]) > 1e-3


def full_hessian(model, x, y):
    params = model.trainable_weights
    sizes = [p.size for p in params]
    n = sum(sizes)
    H = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1
        parts = np.split(e, np.cumsum(sizes)[:-1])
        hv = hessian_vector_product(model, x, y, [q.reshape(p.shape) for q, p in zip(parts, params)])
        H[:, j] = np.concatenate([h.ravel() for h in hv])
    return H


def test_power_iteration_finds_the_eigenvalue_of_largest_magnitude_of_the_full_hessian():
    model = model_of(SimpleRNN, units=2)
    x, y = data(5)
    H = full_hessian(model, x, y)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    eigenvalues = np.linalg.eigvalsh(H)
    want = eigenvalues[np.argmax(np.abs(eigenvalues))]
    top = top_hessian_eigenvalue(model, x, y, iterations=500, tol=1e-12)
    assert isinstance(top, HessianEigenpair) and top.converged and 1 < top.iterations <= 500
    np.testing.assert_allclose(top.value, want, rtol=1e-6)
    assert len(top.estimates) == top.iterations and top.estimates[-1] == top.value
    v = np.concatenate([a.ravel() for a in top.vectors])
    np.testing.assert_allclose(np.linalg.norm(v), 1.0, rtol=1e-12)
    np.testing.assert_allclose(H @ v, top.value * v, atol=1e-4 * abs(top.value))
    # shifted by that eigenvalue, power iteration finds the other end of the spectrum
    other = top_hessian_eigenvalue(model, x, y, iterations=2000, tol=1e-13, shift=top.value)
    want = eigenvalues[-1] if want < 0 else eigenvalues[0]
    np.testing.assert_allclose(other.value, want, rtol=1e-5, atol=1e-8 * abs(top.value))


def test_power_iteration_is_reproducible_and_stops_at_the_iteration_budget():
    model = model_of(LSTM)
    x, y = data(6)
    a = top_hessian_eigenvalue(model, x, y, iterations=3, tol=0, seed=1)
    b = top_hessian_eigenvalue(model, x, y, iterations=3, tol=0, seed=1)
    assert a.iterations == len(a.estimates) == 3 and not a.converged
    assert a.estimates == b.estimates
    for u, w in zip(a.vectors, b.vectors):
        np.testing.assert_array_equal(u, w)


def test_the_tools_leave_grads_and_carried_states_alone():
    mg.seed(0)
    model = Sequential([LSTM(3, batch_input_shape=(B, T, D), stateful=True, dtype="float64"),
                        Dense(1, dtype="float64")])
    model.compile(optimizer="sgd", loss="mse")
    x, y = data(7)
    model.predict(x, batch_size=B)  # carried states that are not zero
    states = [s.copy() for s in model.layers[0].states]
    marker = [np.full(w.shape, 7.0) for w in model.weights]
    for w, m in zip(model.weights, marker):
        w.grad = m
    hessian_vector_product(model, x, y, directions(model))
    top_hessian_eigenvalue(model, x, y, iterations=2)
    for s, saved in zip(model.layers[0].states, states):
        np.testing.assert_array_equal(s, saved)
    assert all(w.grad is m for w, m in zip(model.weights, marker))


def test_bad_input_is_named():
    x, y = data()
    uncompiled = Sequential([SimpleRNN(2, input_shape=(T, D)), Dense(1)])
    with pytest.raises(RuntimeError, match="compiled"):
        hessian_vector_product(uncompiled, x, y, directions(uncompiled))
    with pytest.raises(TypeError, match="compiled Sequential or Model"):
        top_hessian_eigenvalue(SimpleRNN(2), x, y)
    model = model_of(SimpleRNN, units=2)
    vs = directions(model)
    with pytest.raises(ValueError, match="one array per trainable weight"):
        hessian_vector_product(model, x, y, vs[:-1])
    with pytest.raises(ValueError, match=r"vectors\[1\] has shape \(3, 3\)"):
        hessian_vector_product(model, x, y, [vs[0], np.zeros((3, 3))] + vs[2:])
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="iterations"):
            top_hessian_eigenvalue(model, x, y, iterations=bad)
    with pytest.raises(ValueError, match="tol"):
        top_hessian_eigenvalue(model, x, y, tol=-1e-3)
    for bad in (float("nan"), "1", None):
        with pytest.raises(ValueError, match="shift"):
            top_hessian_eigenvalue(model, x, y, shift=bad)
    frozen = model_of(SimpleRNN, units=2)
    frozen.trainable = False
    with pytest.raises(ValueError, match="no trainable weights"):
        top_hessian_eigenvalue(frozen, x, y)
