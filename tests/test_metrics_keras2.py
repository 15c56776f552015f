"""Metrics: Keras 2.0's names, shape checks instead of broadcasting, top-k semantics, per-sample values."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from optim import losses, metrics

rng = np.random.default_rng(0)

ACCURACIES = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
              "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]


# ============================================================ names

@pytest.mark.parametrize("name", ACCURACIES)
def test_accuracies_by_name(name):
    assert metrics.get(name) is getattr(metrics, name)
    assert metrics.get(name.upper()) is getattr(metrics, name)


@pytest.mark.parametrize("name", sorted(losses._BY_NAME))
def test_every_loss_is_a_metric(name):
    fn = metrics.get(name)
    assert fn.__name__ == losses.get(name).__name__
    y = rng.choice([0., 1.], size=(4, 3))
    p = rng.uniform(0.1, 0.9, size=(4, 3))
    if name.startswith("sparse"):
        y = rng.integers(0, 3, size=4)
    got = fn(y, p)
    assert isinstance(got, float)
    with mg.no_grad():
        assert got == pytest.approx(float(losses.get(name)(y, mg.Tensor(p)).data), rel=1e-6)
    per = fn(y, p, reduction="none")
    assert isinstance(per, np.ndarray) and per.shape == (4,)
    assert np.mean(per) == pytest.approx(got, rel=1e-6)


def test_unknown_metric_lists_the_names():
    with pytest.raises(ValueError) as info:
        metrics.get("f1")
    for name in ("accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mape", "kld",
                 "cosine_proximity"):
        assert name in str(info.value)
    with pytest.raises(TypeError, match="metric identifier"):
        metrics.get(3)


# ============================================================ shapes

def test_binary_accuracy_refuses_to_broadcast():
    # (3, 1) against (3,) used to broadcast to a 3x3 comparison and give 4/9
    with pytest.raises(ValueError, match=r"binary_accuracy.*\(3, 1\).*\(3,\)"):
        metrics.binary_accuracy([[1], [0], [1]], [.9, .1, .2])
    with pytest.raises(ValueError, match="shape"):
        metrics.binary_accuracy(np.ones((4, 2)), np.ones((4, 3)))
    # the one Keras-style case: a (batch,) target for a (batch, 1) output
    assert metrics.binary_accuracy([1, 0, 1], [[.9], [.1], [.2]]) == pytest.approx(2 / 3)


def test_categorical_accuracies_need_one_hot_targets_of_the_prediction_shape():
    p = rng.random((4, 3))
    for fn in (metrics.categorical_accuracy, metrics.top_k_categorical_accuracy):
        with pytest.raises(ValueError, match="sparse"):
            fn(rng.integers(0, 3, size=(4, 1)), p)  # sparse ids given to a one-hot metric
        with pytest.raises(ValueError, match="shape"):
            fn(np.eye(3)[[0, 1, 2]], p)  # 3 samples against 4


def test_sparse_accuracies_need_integer_ids():
    p = rng.random((4, 3))
    for fn in (metrics.sparse_categorical_accuracy, metrics.sparse_top_k_categorical_accuracy):
        with pytest.raises(ValueError, match="shape"):
            fn(np.eye(3)[[0, 1, 2, 0]], p)  # one-hot given to a sparse metric
        with pytest.raises(ValueError, match="integer"):
            fn(np.array([0.5, 1, 2, 0]), p)
        with pytest.raises(ValueError, match="range"):
            fn(np.array([0, 1, 3, 0]), p)
        with pytest.raises(ValueError, match="range"):
            fn(np.array([0, -1, 2, 0]), p)
        assert fn(np.array([[0], [1], [2], [0]]), p) == fn(np.array([0, 1, 2, 0]), p)


def test_acc_rule_checks_shapes_too():
    with pytest.raises(ValueError, match="shape"):
        metrics.get("acc", "categorical_crossentropy")(rng.integers(0, 3, size=(4,)), rng.random((4, 3)))
    with pytest.raises(ValueError, match="shape"):
        metrics.get("acc", "binary_crossentropy")(np.ones((4, 1)), rng.random((4,)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics.top_k_categorical_accuracy(np.eye(3), np.eye(3), k=0)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics.sparse_top_k_categorical_accuracy(np.arange(3), np.eye(3), k=1.5)
    with pytest.raises(ValueError, match="reduction"):
        metrics.binary_accuracy(np.ones((2, 1)), np.ones((2, 1)), reduction="sum")
    with pytest.raises(ValueError, match="reduction"):
        metrics.get("mse")(np.ones((2, 1)), np.ones((2, 1)), reduction="sum")
    with pytest.raises(TypeError, match="numeric"):
        metrics.binary_accuracy(np.array([["a"]]), np.ones((1, 1)))
    with pytest.raises(ValueError, match="scalar"):
        metrics.categorical_accuracy(1., 1.)


# ============================================================ values

def test_top_k_counts_ties_as_tensorflow_in_top_k():
    p = np.array([[0.1, 0.5, 0.5, 0.5, 0.2],     # the true class (1) ties with two others: none is strictly higher
                  [0.9, 0.1, 0.0, 0.0, 0.0],     # true class 2: 2 classes strictly higher (0.9, 0.1)
                  [0.0, np.nan, 0.0, 0.0, 0.0]])  # a non-finite true score is never in the top k
    ids = np.array([1, 2, 1])
    assert metrics.sparse_top_k_categorical_accuracy(ids, p, k=1, reduction="none").tolist() == [1., 0., 0.]
    assert metrics.sparse_top_k_categorical_accuracy(ids, p, k=2, reduction="none").tolist() == [1., 0., 0.]
    assert metrics.sparse_top_k_categorical_accuracy(ids, p, k=3, reduction="none").tolist() == [1., 1., 0.]
    assert metrics.top_k_categorical_accuracy(np.eye(5)[ids], p, k=3) == pytest.approx(2 / 3)
    assert metrics.get("top_k_categorical_accuracy")(np.eye(5)[ids], p) == pytest.approx(2 / 3)  # k=5
    assert metrics.sparse_top_k_categorical_accuracy(ids, p, k=99) == pytest.approx(2 / 3)


def reference_top_k(ids, p, k):
    """Row by row: sort the scores, the true class is in when fewer than k others score strictly higher."""
    out = []
    for row, i in zip(p.reshape(-1, p.shape[-1]), ids.ravel()):
        out.append(float(np.isfinite(row[i]) and sum(1 for s in row if s > row[i]) < k))
    return np.array(out).reshape(ids.shape)


@given(p=hnp.arrays(np.float64, st.sampled_from([(5, 4), (2, 3, 6), (1, 1)]),
                    elements=st.sampled_from([0., 0.25, 0.5, 0.75, 1.])),  # many ties
       k=st.integers(1, 7), seed=st.integers(0, 1000))
def test_accuracies_against_references(p, k, seed):
    gen = np.random.default_rng(seed)
    n = p.shape[-1]
    ids = gen.integers(0, n, size=p.shape[:-1])
    y = np.eye(n)[ids]
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(ids, p, k, reduction="none"),
                                  reference_top_k(ids, p, k))
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(y, p, k, reduction="none"),
                                  reference_top_k(ids, p, k))
    hits = (ids == np.argmax(p, axis=-1)).astype(float)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(ids, p, reduction="none"), hits)
    np.testing.assert_array_equal(metrics.categorical_accuracy(y, p, reduction="none"), hits)
    assert metrics.categorical_accuracy(y, p) == pytest.approx(hits.mean())
    b = gen.integers(0, 2, size=p.shape).astype(float)
    per = np.mean(b == np.round(p), axis=-1)
    np.testing.assert_array_equal(metrics.binary_accuracy(b, p, reduction="none"), per)
    assert metrics.binary_accuracy(b, p) == pytest.approx(per.mean())


def test_acc_rule_passes_reduction():
    p = rng.random((2, 5, 3))
    y = np.eye(3)[rng.integers(0, 3, size=(2, 5))]
    per = metrics.get("acc", "categorical_crossentropy")(y, p, reduction="none")
    assert per.shape == (2, 5)
    np.testing.assert_array_equal(per, metrics.categorical_accuracy(y, p, reduction="none"))


def test_keras2_metric_names_in_a_model():
    from layers import Dense, Sequential
    mg.seed(0)
    x = rng.normal(size=(20, 4)).astype("float32")
    ids = rng.integers(0, 6, size=20)
    model = Sequential([Dense(6, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy",
                  metrics=["acc", "sparse_top_k_categorical_accuracy", "sparse_categorical_accuracy"])
    _, acc, top5, sacc = model.evaluate(x, ids, batch_size=20, verbose=0)
    p = model.predict(x)
    assert acc == sacc == pytest.approx(np.mean(np.argmax(p, -1) == ids))
    assert top5 == pytest.approx(np.mean(reference_top_k(ids, p, 5)))
    model.compile("sgd", "categorical_crossentropy", metrics=["top_k_categorical_accuracy", "kld", "cosine"])
    y = np.eye(6)[ids]
    _, top5, kld, cosine = model.evaluate(x, y, batch_size=20, verbose=0)
    assert top5 == pytest.approx(np.mean(reference_top_k(ids, p, 5)))
    assert kld == pytest.approx(metrics.get("kld")(y, p), rel=1e-5)
    assert cosine == pytest.approx(metrics.get("cosine")(y, p), rel=1e-5)


@pytest.mark.parametrize("name", sorted(losses._BY_NAME))
def test_loss_metrics_are_module_functions_as_in_keras(name):
    fn = getattr(metrics, name)
    assert metrics.get(name) is fn and metrics.get(name.upper()) is fn
    assert fn.__name__ == losses.get(name).__name__
