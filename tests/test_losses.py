"""Losses against direct numpy formulas, at extreme inputs, and their tape gradients against central differences;
metrics against direct numpy formulas."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from optim import losses, metrics

EPS = 1e-7
rng = np.random.default_rng(0)


def T(a, grad=False):
    return mg.Tensor(np.array(a, dtype=np.float64), requires_grad=grad)


def value(t):
    assert isinstance(t, mg.Tensor) and t.shape == ()
    return float(t.data)


def np_sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def one_hot(labels, n):
    return np.eye(n)[labels]


# ============================================================ numpy oracles (Keras 2.0 formulas)

def np_mse(y, p):
    return np.mean(np.mean((p - y) ** 2, axis=-1))


def np_mae(y, p):
    return np.mean(np.mean(np.abs(p - y), axis=-1))


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.mean(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1))


def np_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return np.mean(-np.sum(y * np.log(p), axis=-1))


SHAPES = [(4, 3), (2, 5, 3)]  # (batch, d) and (batch, timesteps, d)


@pytest.mark.parametrize("shape", SHAPES)
def test_regression_losses_match_numpy(shape):
    y, p = rng.normal(size=shape), rng.normal(size=shape)
    assert value(losses.mse(y, T(p))) == pytest.approx(np_mse(y, p), rel=1e-12)
    assert value(losses.mae(y, T(p))) == pytest.approx(np_mae(y, p), rel=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_binary_crossentropy_matches_numpy(shape):
    y = (rng.random(shape) > 0.5).astype(float)
    z = rng.normal(size=shape) * 3
    p = np_sigmoid(z)
    assert value(losses.binary_crossentropy(y, T(p))) == pytest.approx(np_bce(y, p), rel=1e-9)
    exact = np.mean(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1))
    assert value(losses.binary_crossentropy(y, T(z), from_logits=True)) == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("shape", SHAPES)
def test_categorical_losses_match_numpy(shape):
    n = shape[-1]
    labels = rng.integers(0, n, size=shape[:-1])
    y = one_hot(labels, n)
    z = rng.normal(size=shape) * 3
    p = np_softmax(z)
    want = np_cce(y, p)
    assert value(losses.categorical_crossentropy(y, T(p))) == pytest.approx(want, rel=1e-9)
    assert value(losses.categorical_crossentropy(y, T(z), from_logits=True)) == pytest.approx(want, rel=1e-9)
    assert value(losses.sparse_categorical_crossentropy(labels, T(p))) == pytest.approx(want, rel=1e-9)
    assert value(losses.sparse_categorical_crossentropy(labels[..., None], T(z), from_logits=True)) == \
        pytest.approx(want, rel=1e-9)


def test_categorical_rescales_unnormalised_probabilities_as_keras():
    y = np.array([[0., 1., 0.]])
    p = np.array([[0.2, 0.4, 0.4]]) * 3  # sums to 3: Keras divides by the sum first
    assert value(losses.categorical_crossentropy(y, T(p))) == pytest.approx(-np.log(0.4))


@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-15, 15, allow_nan=False)),
       hnp.arrays(np.float64, (3, 4), elements=st.floats(0, 1, allow_nan=False)))
def test_logits_and_probabilities_agree(z, y):
    # soft targets included; within +-15, sigmoid stays inside [eps, 1 - eps], so clipping changes nothing
    from_p = value(losses.binary_crossentropy(y, T(np_sigmoid(z))))
    from_z = value(losses.binary_crossentropy(y, T(z), from_logits=True))
    assert from_z == pytest.approx(from_p, rel=1e-6, abs=1e-9)


# ============================================================ extreme inputs

def test_extreme_logits_are_finite_and_exact():
    z = T([[1000., -1000., 0.]], grad=True)
    y = np.array([[0., 1., 1.]])
    # softplus(1000) - 0 = 1000; softplus(-1000) + 1000 = 1000; softplus(0) = log 2
    loss = losses.binary_crossentropy(y, z, from_logits=True)
    assert value(loss) == pytest.approx((1000 + 1000 + np.log(2)) / 3)
    loss.backward()
    np.testing.assert_allclose(z.grad, (np_sigmoid(np.array([[1000., -1000., 0.]])) - y) / 3)

    z = T([[1000., -1000.], [-1000., 1000.]], grad=True)
    y = np.array([[0., 1.], [0., 1.]])
    loss = losses.categorical_crossentropy(y, z, from_logits=True)
    assert value(loss) == pytest.approx((2000. + 0.) / 2)
    loss.backward()
    assert np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(z.grad, [[0.5, -0.5], [0., 0.]])

    zs = T([[1000., -1000., 0.]], grad=True)
    loss = losses.sparse_categorical_crossentropy(np.array([1]), zs, from_logits=True)
    assert value(loss) == pytest.approx(2000.)
    loss.backward()
    assert np.all(np.isfinite(zs.grad))


def test_logit_gradient_is_smooth_at_zero():
    # a relu/abs softplus has a kink at 0 and a one-sided gradient there; the exact one is sigmoid(0) - y
    z = T([[0.]], grad=True)
    losses.binary_crossentropy(np.array([[0.]]), z, from_logits=True).backward()
    assert z.grad[0, 0] == pytest.approx(0.5)


def test_probabilities_of_exactly_zero_and_one_are_finite():
    p = T([[0., 1., 0., 1.]], grad=True)
    y = np.array([[0., 1., 1., 0.]])
    loss = losses.binary_crossentropy(y, p)
    # right answers cost -log(1 - eps) ~ 0, wrong ones -log(eps) ~ 16.1
    assert value(loss) == pytest.approx((2 * -np.log(1 - EPS) + 2 * -np.log(EPS)) / 4, rel=1e-6)
    loss.backward()
    assert np.all(np.isfinite(p.grad))

    p = T([[1., 0., 0.], [0., 0., 1.]], grad=True)
    y = np.array([[1., 0., 0.], [1., 0., 0.]])
    loss = losses.categorical_crossentropy(y, p)
    assert value(loss) == pytest.approx((-np.log(1 - EPS) - np.log(EPS)) / 2, rel=1e-6)
    loss.backward()
    assert np.all(np.isfinite(p.grad))
    assert np.isfinite(value(losses.sparse_categorical_crossentropy(np.array([1, 2]), p)))
    # a row of zeros is degenerate but must not produce NaN
    assert np.isfinite(value(losses.categorical_crossentropy(y, T(np.zeros((2, 3))))))


def test_float32_predictions_give_float32_losses():
    p = mg.Tensor(np.full((2, 3), 0.5, dtype=np.float32), requires_grad=True)
    y = np.ones((2, 3))
    for fn in (losses.mse, losses.mae, losses.binary_crossentropy, losses.categorical_crossentropy):
        out = fn(y, p)
        assert out.dtype == np.float32, fn.__name__
    out = losses.binary_crossentropy(y, p, from_logits=True)
    assert out.dtype == np.float32
    out.backward()
    assert p.grad.dtype == np.float32


# ============================================================ gradients

def gradcheck(fn, y, x):
    return mg.gradcheck(lambda t: fn(y, t), [T(x, grad=True)], eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_regression(shape):
    y = rng.normal(size=shape)
    x = y + rng.choice([-1, 1], size=shape) * rng.uniform(0.1, 1.0, size=shape)  # away from mae's kink
    assert gradcheck(losses.mse, y, x)
    assert gradcheck(losses.mae, y, x)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradients_crossentropies(shape):
    n = shape[-1]
    yb = rng.random(shape)  # soft binary targets
    labels = rng.integers(0, n, size=shape[:-1])
    z = rng.normal(size=shape) * 2
    p_bin = rng.uniform(0.05, 0.95, size=shape)
    p_cat = np_softmax(z)
    assert gradcheck(lambda y, t: losses.binary_crossentropy(y, t, from_logits=True), yb, z)
    assert gradcheck(losses.binary_crossentropy, yb, p_bin)
    assert gradcheck(lambda y, t: losses.categorical_crossentropy(y, t, from_logits=True), one_hot(labels, n), z)
    assert gradcheck(losses.categorical_crossentropy, one_hot(labels, n), p_cat)
    assert gradcheck(lambda y, t: losses.sparse_categorical_crossentropy(y, t, from_logits=True), labels, z)
    assert gradcheck(losses.sparse_categorical_crossentropy, labels, p_cat)


# ============================================================ shapes, reductions, lookup

def test_target_shapes():
    p = T(rng.random((4, 1)))
    y = rng.random(4)
    assert value(losses.mse(y, p)) == pytest.approx(np_mse(y[:, None], p.data))  # (batch,) vs (batch, 1)
    with pytest.raises(ValueError, match="shape"):
        losses.mse(rng.random((4, 2)), T(rng.random((4, 3))))
    with pytest.raises(ValueError, match="shape"):
        losses.sparse_categorical_crossentropy(np.zeros((4, 2)), T(rng.random((4, 3))))
    with pytest.raises(ValueError, match="range"):
        losses.sparse_categorical_crossentropy(np.array([0, 3]), T(rng.random((2, 3))))
    with pytest.raises(ValueError, match="integer"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1]), T(rng.random((2, 3))))
    assert value(losses.mse(T(np.ones((2, 2))), T(np.zeros((2, 2))))) == 1.0  # Tensor targets


def test_reductions():
    y, p = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    per = losses.mse(y, T(p), reduction="none")
    assert per.shape == (2, 5)
    np.testing.assert_allclose(per.data, np.mean((p - y) ** 2, axis=-1))
    assert value(losses.mse(y, T(p), reduction="sum")) == pytest.approx(per.data.sum())
    with pytest.raises(ValueError, match="reduction"):
        losses.mse(y, T(p), reduction="avg")


def test_get():
    assert losses.get("mse") is losses.mean_squared_error is losses.get("mean_squared_error")
    assert losses.get("MAE") is losses.mean_absolute_error
    for name in ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"):
        assert losses.get(name).__name__ == name
    custom = lambda y, p: (p * 0).sum()  # noqa: E731
    assert losses.get(custom) is custom
    with pytest.raises(ValueError) as info:
        losses.get("hinge")
    assert "mse" in str(info.value) and "sparse_categorical_crossentropy" in str(info.value)


# ============================================================ metrics

def test_binary_accuracy():
    y = np.array([[1.], [0.], [1.], [0.]])
    p = np.array([[0.9], [0.4], [0.2], [0.6]])
    assert metrics.binary_accuracy(y, p) == 0.5
    assert metrics.get("acc", "binary_crossentropy")(y, p) == 0.5
    assert metrics.get("accuracy", "mse")(y, p) == 0.5  # last dim 1 -> binary whatever the loss
    assert metrics.get("acc", "categorical_crossentropy")(y, p) == 0.5
    # several binary outputs per sample: element-wise
    assert metrics.get("acc", "binary_crossentropy")(np.array([[1., 0.]]), np.array([[0.7, 0.7]])) == 0.5


def test_categorical_and_sparse_accuracy():
    p = np.array([[[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]], [[0.2, 0.2, 0.6], [0.1, 0.1, 0.8]]])
    labels = np.array([[1, 1], [2, 2]])
    y = np.eye(3)[labels]
    assert metrics.categorical_accuracy(y, p) == 0.75
    assert metrics.get("acc", "categorical_crossentropy")(y, p) == 0.75
    assert metrics.get("acc")(y, p) == 0.75
    assert metrics.sparse_categorical_accuracy(labels, p) == 0.75
    assert metrics.get("acc", "sparse_categorical_crossentropy")(labels, p) == 0.75
    assert metrics.get("acc", losses.sparse_categorical_crossentropy)(labels[..., None], p) == 0.75


def test_metric_names_and_lookup():
    assert metrics.get("acc").__name__ == "acc" and metrics.get("accuracy").__name__ == "acc"
    m = metrics.get("mse")
    assert m.__name__ == "mean_squared_error"
    assert m(np.zeros((2, 2)), np.ones((2, 2))) == 1.0
    assert isinstance(m(np.zeros((2, 2)), mg.Tensor(np.ones((2, 2)), requires_grad=True)), float)
    f = lambda y, p: 0.0  # noqa: E731
    assert metrics.get(f) is f
    with pytest.raises(ValueError) as info:
        metrics.get("f1")
    assert "accuracy" in str(info.value)
