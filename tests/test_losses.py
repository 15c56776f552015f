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
        losses.get("huber")
    assert "mse" in str(info.value) and "sparse_categorical_crossentropy" in str(info.value)
    assert "kullback_leibler_divergence" in str(info.value)


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


# ============================================================ the other Keras 2.0 losses

def np_l2n(x):
    return x / np.sqrt(np.maximum(np.sum(x * x, axis=-1, keepdims=True), 1e-12))


# Keras 2.0's formulas, written in numpy as its keras/losses.py writes them (per sample: shape y.shape[:-1])
KERAS2_FORMULAS = {
    "mean_absolute_percentage_error":
        lambda y, p: 100. * np.mean(np.abs((y - p) / np.clip(np.abs(y), EPS, None)), axis=-1),
    "mean_squared_logarithmic_error":
        lambda y, p: np.mean((np.log(np.clip(p, EPS, None) + 1.) - np.log(np.clip(y, EPS, None) + 1.)) ** 2, axis=-1),
    "squared_hinge": lambda y, p: np.mean(np.maximum(1. - y * p, 0.) ** 2, axis=-1),
    "hinge": lambda y, p: np.mean(np.maximum(1. - y * p, 0.), axis=-1),
    "categorical_hinge":
        lambda y, p: np.maximum(0., np.max((1. - y) * p, axis=-1) - np.sum(y * p, axis=-1) + 1.),
    "logcosh": lambda y, p: np.mean(np.log((np.exp(p - y) + np.exp(-(p - y))) / 2), axis=-1),
    "kullback_leibler_divergence":
        lambda y, p: np.sum(np.clip(y, EPS, 1) * np.log(np.clip(y, EPS, 1) / np.clip(p, EPS, 1)), axis=-1),
    "poisson": lambda y, p: np.mean(p - y * np.log(p + EPS), axis=-1),
    "cosine_proximity": lambda y, p: -np.mean(np_l2n(y) * np_l2n(p), axis=-1),
}
SHORT_NAMES = {"mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
               "kld": "kullback_leibler_divergence", "cosine": "cosine_proximity",
               "MAPE": "mean_absolute_percentage_error", "MSLE": "mean_squared_logarithmic_error",
               "KLD": "kullback_leibler_divergence", "mse": "mean_squared_error", "mae": "mean_absolute_error"}


def targets_and_predictions(name, shape, gen):
    """Inputs in each loss's natural domain: labels -1/1 for the hinges, one-hot for categorical_hinge,
    probability rows for kld, positive rates and counts for poisson."""
    if name in ("hinge", "squared_hinge"):
        return gen.choice([-1., 1.], size=shape), gen.normal(size=shape)
    if name == "categorical_hinge":
        return one_hot(gen.integers(0, shape[-1], size=shape[:-1]), shape[-1]), gen.normal(size=shape)
    if name == "kullback_leibler_divergence":
        return np_softmax(gen.normal(size=shape)), np_softmax(gen.normal(size=shape))
    if name == "poisson":
        return gen.poisson(2., size=shape).astype(float), gen.uniform(0.1, 4., size=shape)
    if name == "mean_squared_logarithmic_error":
        return gen.uniform(0., 5., size=shape), gen.uniform(0., 5., size=shape)
    return gen.normal(size=shape), gen.normal(size=shape)


@pytest.mark.parametrize("name", sorted(KERAS2_FORMULAS))
@pytest.mark.parametrize("shape", SHAPES)
def test_keras2_losses_match_their_formulas(name, shape):
    y, p = targets_and_predictions(name, shape, rng)
    fn = losses.get(name)
    assert fn.__name__ == name
    want = KERAS2_FORMULAS[name](y, p)
    per = fn(y, T(p), reduction="none")
    assert per.shape == shape[:-1]
    np.testing.assert_allclose(per.data, want, rtol=1e-12, atol=1e-12)
    assert value(fn(y, T(p))) == pytest.approx(np.mean(want), rel=1e-12, abs=1e-12)
    assert value(fn(y, T(p), reduction="sum")) == pytest.approx(np.sum(want), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("short, name", sorted(SHORT_NAMES.items()))
def test_short_names(short, name):
    assert losses.get(short) is getattr(losses, name)
    assert losses.serialize(losses.get(short)) == name
    if short.islower():
        assert getattr(losses, short) is getattr(losses, name)


def test_hand_computed_values():
    # one sample each, worked out by hand from the Keras 2.0 definitions
    assert value(losses.hinge(np.array([[1., -1.]]), T([[0.5, 0.5]]))) == pytest.approx((0.5 + 1.5) / 2)
    assert value(losses.squared_hinge(np.array([[1., -1.]]), T([[0.5, 0.5]]))) == pytest.approx((0.25 + 2.25) / 2)
    # true class scores 1, best other class 2: max(0, 2 - 1 + 1) = 2
    assert value(losses.categorical_hinge(np.array([[0., 1., 0.]]), T([[2., 1., -3.]]))) == pytest.approx(2.)
    assert value(losses.cosine_proximity(np.array([[3., 4.]]), T([[6., 8.]]))) == pytest.approx(-0.5)
    assert value(losses.cosine_proximity(np.array([[1., 0.]]), T([[0., 2.]]))) == pytest.approx(0.)
    assert value(losses.mape(np.array([[2., -4.]]), T([[1., -5.]]))) == pytest.approx(100 * (0.5 + 0.25) / 2)
    assert value(losses.poisson(np.array([[2.]]), T([[np.e]]))) == pytest.approx(np.e - 2 * np.log(np.e + EPS))
    assert value(losses.kld(np.array([[0.5, 0.5]]), T([[0.25, 0.75]]))) == \
        pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert value(losses.logcosh(np.array([[0.]]), T([[1.]]))) == pytest.approx(np.log(np.cosh(1.)))
    assert value(losses.msle(np.array([[np.e - 1]]), T([[0.]]))) == pytest.approx((np.log(1 + EPS) - 1.) ** 2)


def test_keras2_losses_stay_finite_at_their_edges():
    # zero targets (mape), zero and negative predictions (msle, kld), an all-zero row (cosine), huge errors (logcosh)
    assert value(losses.mape(np.zeros((1, 2)), T([[1e-3, 0.]]))) == pytest.approx(100 * 1e-3 / EPS / 2)
    assert np.isfinite(value(losses.msle(np.ones((1, 2)), T([[-5., 0.]]))))
    assert np.isfinite(value(losses.kld(np.array([[1., 0.]]), T([[0., 1.]]))))
    zero = T(np.zeros((1, 3)), grad=True)
    out = losses.cosine_proximity(np.ones((1, 3)), zero)
    assert value(out) == 0.
    out.backward()
    assert np.all(np.isfinite(zero.grad))
    big = T([[1000., -1000.]], grad=True)
    out = losses.logcosh(np.zeros((1, 2)), big)
    assert value(out) == pytest.approx(1000. - np.log(2.))  # log(cosh(x)) = |x| - log 2 for large |x|
    out.backward()
    np.testing.assert_allclose(big.grad, [[0.5, -0.5]])  # tanh(+-1000) / 2
    f32 = mg.Tensor(np.array([[100., -100.]], dtype=np.float32))
    assert np.isfinite(float(losses.logcosh(np.zeros((1, 2)), f32).data))  # cosh(100) overflows float32


@pytest.mark.parametrize("name", sorted(KERAS2_FORMULAS))
def test_keras2_losses_keep_float32(name):
    y, p = targets_and_predictions(name, (3, 4), rng)
    t = mg.Tensor(p.astype(np.float32), requires_grad=True)
    out = losses.get(name)(y.astype(np.float32), t)
    assert out.dtype == np.float32
    out.backward()
    assert t.grad.dtype == np.float32


def away_from_kinks(name, y, p):
    """Move predictions off the points where a loss is not differentiable, so that central differences apply:
    the hinge margin 1 - y p = 0, categorical_hinge's max ties and zero margin, kld's clip at 1."""
    if name in ("hinge", "squared_hinge"):
        margin = 1. - y * p
        p = np.where(np.abs(margin) < 0.05, p + 0.1 * y, p)
    if name == "categorical_hinge":
        p = p + np.arange(p.shape[-1]) * 0.01  # no ties in the max over the other classes
    if name == "kullback_leibler_divergence":
        p = np.minimum(p, 0.99)
    return p


@pytest.mark.parametrize("name", sorted(KERAS2_FORMULAS))
@given(shape=st.sampled_from([(1, 1), (3, 2), (2, 3, 4), (1, 2, 2, 3)]), seed=st.integers(0, 2 ** 16))
def test_keras2_losses_gradcheck(name, shape, seed):
    gen = np.random.default_rng(seed)
    y, p = targets_and_predictions(name, shape, gen)
    if name == "mean_absolute_percentage_error":
        # targets away from 0, where dividing by |y| makes the loss so large that central differences lose
        # their digits to rounding; predictions away from the kink at p = y
        y = gen.choice([-1, 1], size=shape) * gen.uniform(0.5, 2., size=shape)
        p = y + gen.choice([-1, 1], size=shape) * gen.uniform(0.1, 1., size=shape)
    if name == "mean_squared_logarithmic_error":
        p = gen.uniform(0.1, 5., size=shape)  # away from the clip at EPSILON
    p = away_from_kinks(name, y, p)
    fn = losses.get(name)
    assert gradcheck(fn, y, p)
    per_sample_weights = gen.random(shape[:-1])
    assert mg.gradcheck(lambda t: (fn(y, t, reduction="none") * per_sample_weights).sum(), [T(p, grad=True)],
                        eps=1e-6, atol=1e-7, rtol=1e-5)


def test_binary_crossentropy_rejects_targets_outside_0_1():
    p = T(rng.uniform(0.1, 0.9, size=(3, 2)))
    for bad in ([[0., 1.], [2., 0.], [1., 1.]], [[-1., 1.], [0., 0.], [1., 1.]], [[np.nan, 1.], [0., 0.], [1., 1.]]):
        with pytest.raises(ValueError, match=r"binary_crossentropy.*\[0, 1\]"):
            losses.binary_crossentropy(np.array(bad), p)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            losses.binary_crossentropy(T(bad), p, from_logits=True)
    soft = rng.random((3, 2))
    assert np.isfinite(value(losses.binary_crossentropy(soft, p)))  # soft targets are fine


@pytest.mark.parametrize("name", sorted(KERAS2_FORMULAS))
def test_keras2_losses_check_target_shapes(name):
    with pytest.raises(ValueError, match="shape"):
        losses.get(name)(np.ones((4, 2)), T(rng.random((4, 3))))
    with pytest.raises(ValueError, match="reduction"):
        losses.get(name)(np.ones((4, 3)), T(rng.random((4, 3))), reduction="avg")
    y, p = targets_and_predictions(name, (4, 1), rng)
    np.testing.assert_allclose(losses.get(name)(y[:, 0], T(p), reduction="none").data,
                               losses.get(name)(y, T(p), reduction="none").data)  # (batch,) vs (batch, 1)


@pytest.mark.parametrize("name", sorted(KERAS2_FORMULAS))
def test_keras2_losses_train_a_model(name):
    from layers import Dense, Sequential
    mg.seed(0)
    y, _ = targets_and_predictions(name, (16, 3), np.random.default_rng(1))
    x = np.random.default_rng(2).normal(size=(16, 4)).astype("float32")
    activation = {"kullback_leibler_divergence": "softmax", "poisson": "softplus"}.get(name, "linear")
    model = Sequential([Dense(3, activation=activation, input_shape=(4,))])
    model.compile("adam", name, metrics=[name])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 3 and np.all(np.isfinite(history.history["loss"]))
    np.testing.assert_allclose(history.history[name], history.history["loss"], rtol=1e-5)
