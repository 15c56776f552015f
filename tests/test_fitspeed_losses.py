"""The crossentropies of logits as one op each (optim/losses.py): the same values as the compositions of minigrad
ops they replace, gradients of every order against central differences, and the softmax they form handed to the
training loop's metrics."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from layers import Dense, Sequential, TimeDistributed
from minigrad import ops
from optim import losses, metrics


def composed_sparse(labels, z):
    one_hot = np.zeros(z.shape, z.dtype)
    np.put_along_axis(one_hot, labels[..., None], 1, axis=-1)
    return -(mg.log_softmax(z, axis=-1) * one_hot).sum(axis=-1)


def composed_categorical(y, z):
    return -(y * mg.log_softmax(z, axis=-1)).sum(axis=-1)


def composed_binary(y, z):
    m = np.maximum(z.data, 0)
    return (mg.log(np.exp(-m) + mg.exp(z - m)) + m - y * z).mean(axis=-1)


@st.composite
def logits_and_labels(draw, dtype=np.float64):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    z = draw(hnp.arrays(dtype, shape, elements=st.floats(-30, 30, width=32)))
    labels = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)))
    if z.ndim == 3 and draw(st.booleans()):  # a time-major view, as a recurrent layer's sequence is
        z = np.ascontiguousarray(z.swapaxes(0, 1)).swapaxes(0, 1)
    return z, labels


@given(logits_and_labels(np.float32))
def test_values_equal_the_composition_exactly(case):
    z, labels = case
    y = np.eye(z.shape[-1], dtype=z.dtype)[labels] * np.float32(0.75) + np.float32(0.25 / z.shape[-1])
    t = mg.Tensor(z)
    with mg.no_grad():
        for fused, composed in [
                (losses.sparse_categorical_crossentropy(labels, t, from_logits=True, reduction="none"),
                 composed_sparse(labels, t)),
                (losses.categorical_crossentropy(y, t, from_logits=True, reduction="none"), composed_categorical(y, t)),
                (losses.binary_crossentropy(np.minimum(y, 1), t, from_logits=True, reduction="none"),
                 composed_binary(np.minimum(y, 1), t))]:
            assert fused.dtype == np.float32 and fused.shape == z.shape[:-1]
            np.testing.assert_array_equal(fused.data, composed.data)


@given(logits_and_labels())
def test_gradients_first_and_second_order(case):
    z, labels = case
    soft = np.random.default_rng(0).dirichlet(np.ones(z.shape[-1]), size=z.shape[:-1])
    targets = mg.Tensor(soft, requires_grad=True)
    binary_targets = mg.Tensor(np.clip(soft * 2, 0.05, 0.95), requires_grad=True)  # stays in [0, 1] when nudged
    t = mg.Tensor(z.copy(), requires_grad=True)
    for fn, args in [(lambda x: losses.sparse_categorical_crossentropy(labels, x, from_logits=True), [t]),
                     (lambda y, x: losses.categorical_crossentropy(y, x, from_logits=True), [targets, t]),
                     (lambda y, x: losses.binary_crossentropy(y, x, from_logits=True), [binary_targets, t])]:
        assert mg.gradcheck(fn, args)
        assert mg.gradgradcheck(fn, args)


def test_sparse_gradient_is_softmax_minus_one_hot_on_a_strided_view():
    rng = np.random.default_rng(1)
    z = np.ascontiguousarray(rng.standard_normal((5, 7, 9)).swapaxes(0, 1)).swapaxes(0, 1)
    assert not z.flags.c_contiguous
    labels = rng.integers(0, 9, (5, 7))
    t = mg.Tensor(z, requires_grad=True)
    losses.sparse_categorical_crossentropy(labels, t, from_logits=True, reduction="sum").backward()
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(t.grad, p - np.eye(9)[labels], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_with_probabilities_hands_over_the_softmax_exactly(dtype):
    rng = np.random.default_rng(2)
    z = mg.Tensor(rng.standard_normal((4, 6, 10)).astype(dtype) * 5)
    labels = rng.integers(0, 10, (4, 6))
    softmax = mg.softmax(z).data
    loss, probs = losses.with_probabilities(losses.sparse_categorical_crossentropy, labels, z)
    np.testing.assert_array_equal(probs, softmax)
    np.testing.assert_array_equal(loss.data, losses.sparse_categorical_crossentropy(
        labels, z, from_logits=True, reduction="none").data)
    _, probs = losses.with_probabilities(losses.categorical_crossentropy, np.eye(10)[labels], z)
    np.testing.assert_array_equal(probs, softmax)
    loss, probs = losses.with_probabilities(losses.binary_crossentropy, np.ones((4, 6, 10)), z)
    assert probs is None and loss.shape == (4, 6)


def test_sparse_labels_are_checked_as_before():
    z = mg.Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="out of range"):
        losses.sparse_categorical_crossentropy(np.array([0, 3]), z, from_logits=True)
    with pytest.raises(ValueError, match="integer class indices"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1.0]), z, from_logits=True)
    with pytest.raises(ValueError, match="shape"):
        losses.sparse_categorical_crossentropy(np.array([0, 1, 2]), z, from_logits=True)
    assert losses.sparse_categorical_crossentropy(np.array([[0.], [2.]]), z, from_logits=True).data == \
        pytest.approx(np.log(3))


# ============================================================ the training loop's use of them

def _char_model():
    mg.seed(0)
    model = Sequential([TimeDistributed(Dense(7, activation="softmax"), input_shape=(5, 4))])
    return model


def test_metrics_read_the_softmax_of_the_loss_and_match_predict():
    model = _char_model()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc"])
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((6, 5, 4)).astype(np.float32), rng.integers(0, 7, (6, 5))
    want = metrics.sparse_categorical_accuracy(y, model.predict(x))
    loss, acc = model.train_on_batch(x, y)
    assert acc == pytest.approx(want, abs=1e-12)


def test_no_probabilities_are_formed_without_metrics(monkeypatch):
    calls = []
    forward = ops.Softmax.forward

    def counting(ctx, a, axis=-1):
        calls.append(1)
        return forward(ctx, a, axis=axis)
    monkeypatch.setattr(ops.Softmax, "forward", staticmethod(counting))
    model = _char_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.ones((2, 5, 4), np.float32), np.zeros((2, 5), np.int64)
    model.train_on_batch(x, y)
    assert calls == []  # the loss works on the logits; nobody reads the probabilities
    model.compile("sgd", "categorical_crossentropy", metrics=["categorical_accuracy"])
    model.train_on_batch(x, np.eye(7)[y])
    assert calls == []  # the loss formed them: the metric reads those
    model.compile("sgd", "mse", metrics=["mae"])
    model.train_on_batch(x, np.eye(7)[y])
    assert calls == [1]  # no crossentropy: the output layer's softmax runs, once
