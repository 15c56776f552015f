"""Every loss and accuracy metric against Keras 3's implementation (torch backend), per sample.

Keras 3 kept Keras 2.0's formulas with two differences, undone here: its hinge losses turn 0/1 labels into -1/1
(so the labels drawn are -1/1 already), and its ``cosine_similarity`` sums over the last axis where Keras 2.0's
``cosine_proximity`` takes the mean. Skipped when Keras is not installed.
"""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import minigrad as mg  # noqa: E402
from optim import losses, metrics  # noqa: E402

rng = np.random.default_rng(7)
SHAPES = [(6, 4), (3, 5, 4)]


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def data(name, shape):
    n = shape[-1]
    if name in ("hinge", "squared_hinge"):
        return rng.choice([-1., 1.], size=shape), rng.normal(size=shape)
    if name in ("categorical_hinge", "categorical_crossentropy"):
        return np.eye(n)[rng.integers(0, n, size=shape[:-1])], softmax(rng.normal(size=shape) * 2)
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, n, size=shape[:-1]), softmax(rng.normal(size=shape) * 2)
    if name == "binary_crossentropy":
        return rng.random(shape), rng.uniform(0.02, 0.98, size=shape)
    if name == "kullback_leibler_divergence":
        return softmax(rng.normal(size=shape)), softmax(rng.normal(size=shape))
    if name == "poisson":
        return rng.poisson(2., size=shape).astype(float), rng.uniform(0.1, 4., size=shape)
    if name == "mean_squared_logarithmic_error":
        return rng.uniform(0., 5., size=shape), rng.uniform(0., 5., size=shape)
    return rng.normal(size=shape), rng.normal(size=shape)


def keras_cosine_proximity(y, p):
    return keras.losses.cosine_similarity(y, p) / y.shape[-1]  # Keras 2.0 means where Keras 3 sums


KERAS3 = {
    "mean_squared_error": keras.losses.mean_squared_error,
    "mean_absolute_error": keras.losses.mean_absolute_error,
    "mean_absolute_percentage_error": keras.losses.mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": keras.losses.mean_squared_logarithmic_error,
    "hinge": keras.losses.hinge,
    "squared_hinge": keras.losses.squared_hinge,
    "categorical_hinge": keras.losses.categorical_hinge,
    "logcosh": keras.losses.log_cosh,
    "kullback_leibler_divergence": keras.losses.kl_divergence,
    "poisson": keras.losses.poisson,
    "cosine_proximity": keras_cosine_proximity,
    "binary_crossentropy": keras.losses.binary_crossentropy,
    "categorical_crossentropy": keras.losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
}


def numpy_of(x):
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def test_every_loss_has_an_oracle():
    assert set(KERAS3) == {fn.__name__ for fn in losses._BY_NAME.values()}


@pytest.mark.parametrize("name", sorted(KERAS3))
@pytest.mark.parametrize("shape", SHAPES)
def test_loss_matches_keras3(name, shape):
    y, p = data(name, shape)
    y32, p32 = y.astype(np.float32), p.astype(np.float32)
    want = numpy_of(KERAS3[name](y32, p32))
    with mg.no_grad():
        got = losses.get(name)(y32.astype(np.float64), mg.Tensor(p32.astype(np.float64)), reduction="none").data
    assert got.shape == want.shape == shape[:-1]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


METRICS3 = {
    # Keras 3 gives one value per element; Keras 2.0 averaged them over the last axis
    "binary_accuracy": lambda y, p: numpy_of(keras.metrics.binary_accuracy(y, p)).mean(axis=-1),
    "categorical_accuracy": keras.metrics.categorical_accuracy,
    "sparse_categorical_accuracy": keras.metrics.sparse_categorical_accuracy,
    "top_k_categorical_accuracy": lambda y, p: keras.metrics.top_k_categorical_accuracy(y, p, k=3),
    "sparse_top_k_categorical_accuracy": lambda y, p: keras.metrics.sparse_top_k_categorical_accuracy(y, p, k=3),
}


@pytest.mark.parametrize("name", sorted(METRICS3))
def test_accuracy_matches_keras3(name):
    n = 7
    p = softmax(rng.normal(size=(40, n)))  # continuous scores: no ties
    ids = rng.integers(0, n, size=40)
    y = {"binary_accuracy": rng.integers(0, 2, size=(40, n)).astype(float),
         "sparse_categorical_accuracy": ids[:, None].astype(float),
         "sparse_top_k_categorical_accuracy": ids}.get(name, np.eye(n)[ids])
    fn = metrics.get(name)
    got = fn(y, p, 3, reduction="none") if "top_k" in name else fn(y, p, reduction="none")
    want = numpy_of(METRICS3[name](y.astype(np.float32), p.astype(np.float32)))
    np.testing.assert_array_equal(got, want.reshape(got.shape))
