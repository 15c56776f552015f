"""sample_weight, class_weight and sample_weight_mode='temporal' (layers/training.py).

Oracle: Keras 2.0's weighted, masked objective (keras/engine/training.py, ``_weighted_masked_objective``), restated
below in float64 numpy from its definition, applied to per-sample losses computed here in numpy from the model's own
predictions. Gradients are checked by an identity that needs no reference: integer sample weights w (all > 0) give
the loss mean(L * w), which is sum(w) / n times the plain loss of the data with sample i repeated w_i times.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Dense, Embedding, Sequential, TimeDistributed
from layers.functional import Input, Model
from optim import SGD


@pytest.fixture(autouse=True)
def _seed():
    mg.seed(0)


def keras2_objective(score, weights=None, mask=None):
    """Keras 2.0: score * mask / mean(mask); mean over the axes the weights lack; * w / mean(w != 0); mean."""
    score = np.asarray(score, np.float64)
    if mask is not None:
        mask = np.asarray(mask, np.float64)
        score = score * mask / mask.mean()
    if weights is not None:
        weights = np.asarray(weights, np.float64)
        score = score.mean(axis=tuple(range(weights.ndim, score.ndim))) if score.ndim > weights.ndim else score
        score = score * weights / np.mean(weights != 0)
    return score.mean()


def mse_per_sample(y, p):
    return np.mean((np.asarray(p, np.float64) - y) ** 2, axis=-1)


def cce_per_sample(y, p):
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return -np.sum(y * np.log(p), axis=-1)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def dense_mse():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(SGD(lr=0.1), "mse")
    return model


# ============================================================ the Keras 2.0 formula

def test_sample_weights_follow_keras_2_0_including_zero_weights():
    model = dense_mse()
    x, y = rand(8, 3), rand(8, 2, seed=1)
    w = np.array([1., 0., 2., 0.5, 0., 3., 1., 1.])
    want = keras2_objective(mse_per_sample(y, model.predict(x)), w)
    assert model.evaluate(x, y, sample_weight=w, verbose=0, batch_size=8) == pytest.approx(want, rel=1e-5)
    assert model.test_on_batch(x, y, sample_weight=w) == pytest.approx(want, rel=1e-5)
    # not the same as dropping the zero-weight samples and averaging: Keras divides by mean(w != 0)
    plain = keras2_objective(mse_per_sample(y, model.predict(x)))
    assert model.evaluate(x, y, sample_weight=np.ones(8), verbose=0) == pytest.approx(plain, rel=1e-5)


def test_class_weight_is_the_sample_weight_of_each_targets_class():
    x = rand(6, 3)
    labels = np.array([0, 2, 1, 2, 0, 2])
    cw = {0: 1., 1: 4., 2: 0.5}
    w = np.array([cw[c] for c in labels])
    for loss, y in [("categorical_crossentropy", np.eye(3, dtype=np.float32)[labels]),
                    ("sparse_categorical_crossentropy", labels)]:
        a = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
        b = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
        b.set_weights(a.get_weights())
        a.compile(SGD(lr=0.5), loss)
        b.compile(SGD(lr=0.5), loss)
        assert a.train_on_batch(x, y, class_weight=cw) == pytest.approx(b.train_on_batch(x, y, sample_weight=w))
        for wa, wb in zip(a.get_weights(), b.get_weights()):
            np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_binary_class_weight_reads_the_0_1_target_and_multiplies_sample_weight():
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(SGD(lr=0.), "binary_crossentropy")
    x = rand(5, 3)
    y = np.array([[1.], [0.], [1.], [1.], [0.]], np.float32)
    sw = np.array([1., 2., 3., 4., 5.])
    p = np.clip(model.predict(x).astype(np.float64), 1e-7, 1 - 1e-7)
    score = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)
    want = keras2_objective(score, sw * np.where(y[:, 0] == 1, 3., 0.5))
    got = model.train_on_batch(x, y, sample_weight=sw, class_weight={0: 0.5, 1: 3.})
    assert got == pytest.approx(want, rel=1e-5)


def test_masked_sequence_with_sample_and_temporal_weights():
    # Embedding(mask_zero) -> TimeDistributed(Dense, softmax): the mask reaches the loss
    ids = np.array([[3, 1, 2, 0], [0, 0, 4, 1], [2, 2, 0, 0]])
    mask = ids != 0
    y = np.eye(3, dtype=np.float32)[np.array([[0, 1, 2, 0], [1, 1, 2, 0], [2, 0, 1, 1]])]
    w_samples = np.array([1., 0., 2.])
    w_steps = np.array([[1., 2., 0., 1.], [1., 1., 1., 1.], [0., 3., 1., 2.]])
    for mode, w in [(None, w_samples), ("temporal", w_steps), (None, None)]:
        model = Sequential([Embedding(5, 4, mask_zero=True, input_length=4),
                            TimeDistributed(Dense(3, activation="softmax"))])
        model.compile("sgd", "categorical_crossentropy", sample_weight_mode=mode)
        want = keras2_objective(cce_per_sample(y, model.predict(ids)), w, mask)
        assert model.evaluate(ids, y, sample_weight=w, verbose=0) == pytest.approx(want, rel=1e-5), mode


def test_temporal_weights_without_a_mask_and_sparse_sequence_targets():
    x = rand(4, 5, 3)
    labels = np.random.default_rng(2).integers(0, 2, (4, 5))
    w = np.random.default_rng(3).uniform(0, 2, (4, 5))
    w[1] = 0.
    model = Sequential([TimeDistributed(Dense(2, activation="softmax"), input_shape=(5, 3))])
    model.compile("sgd", "sparse_categorical_crossentropy", sample_weight_mode="temporal")
    want = keras2_objective(cce_per_sample(np.eye(2)[labels], model.predict(x)), w)
    assert model.evaluate(x, labels, sample_weight=w, verbose=0) == pytest.approx(want, rel=1e-5)
    # per-timestep class weights come from the per-timestep classes
    cw = {0: 2., 1: 0.25}
    want = keras2_objective(cce_per_sample(np.eye(2)[labels], model.predict(x)), np.where(labels == 0, 2., 0.25))
    model.compile(SGD(lr=0.), "sparse_categorical_crossentropy", sample_weight_mode="temporal")
    assert model.train_on_batch(x, labels, class_weight=cw) == pytest.approx(want, rel=1e-5)


def test_all_zero_weights_or_mask_give_zero_not_nan():
    model = dense_mse()
    x, y = rand(4, 3), rand(4, 2)
    before = model.get_weights()
    assert model.train_on_batch(x, y, sample_weight=np.zeros(4)) == 0.
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # a zero loss moves nothing


# ============================================================ gradients: weights as repeated samples

@given(counts=st.lists(st.integers(1, 3), min_size=4, max_size=4))
def test_integer_weights_update_like_repeated_samples(counts):
    x, y = rand(4, 3, seed=5), rand(4, 2, seed=6)
    counts = np.array(counts)
    weighted, repeated = dense_mse(), dense_mse()
    repeated.set_weights(weighted.get_weights())
    weighted.compile(SGD(lr=0.1), "mse")
    # mean(L * w) = sum(w) / n * (the mean over the repeated data): scale the learning rate to match
    repeated.compile(SGD(lr=0.1 * counts.sum() / 4), "mse")
    weighted.train_on_batch(x, y, sample_weight=counts.astype(float))
    repeated.train_on_batch(np.repeat(x, counts, axis=0), np.repeat(y, counts, axis=0))
    for a, b in zip(weighted.get_weights(), repeated.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ============================================================ fit, validation, several outputs

def test_fit_epoch_loss_and_validation_loss_use_the_weights():
    model = dense_mse()
    model.compile(SGD(lr=0.), "mse")  # frozen: every batch sees the same weights
    x, y = rand(10, 3), rand(10, 2, seed=1)
    w = np.linspace(0, 2, 10)
    h = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, sample_weight=w,
                  validation_data=(x[:6], y[:6], w[:6]))
    score = mse_per_sample(y, model.predict(x))

    def batched(bounds):  # each batch is normalised by its own mean(w != 0); batches weigh by their size
        return sum((e - s) * keras2_objective(score[s:e], w[s:e]) for s, e in bounds) / bounds[-1][1]

    assert h.history["loss"][0] == pytest.approx(batched([(0, 4), (4, 8), (8, 10)]), rel=1e-5)
    assert h.history["val_loss"][0] == pytest.approx(batched([(0, 4), (4, 6)]), rel=1e-5)
    # validation_split holds out the weights of the held-out samples too
    h = model.fit(x, y, batch_size=10, epochs=1, verbose=0, sample_weight=w, validation_split=0.4)
    assert h.history["val_loss"][0] == pytest.approx(keras2_objective(score[6:], w[6:]), rel=1e-5)


def test_fit_with_shuffle_keeps_each_weight_with_its_sample():
    model = dense_mse()
    model.compile(SGD(lr=0.), "mse")
    x, y = rand(12, 3), rand(12, 2, seed=1)
    w = np.zeros(12)
    w[5] = 1.  # only sample 5 counts: every batch but its own has loss 0
    h = model.fit(x, y, batch_size=12, epochs=2, shuffle=True, verbose=0, sample_weight=w)
    want = mse_per_sample(y, model.predict(x))[5]
    assert h.history["loss"] == pytest.approx([want, want], rel=1e-5)


def two_outputs():
    inp = Input(shape=(3,))
    a = Dense(2, name="reg")(inp)
    b = Dense(3, activation="softmax", name="cls")(inp)
    model = Model(inp, [a, b])
    model.compile(SGD(lr=0.), ["mse", "categorical_crossentropy"], loss_weights=[1., 0.5])
    return model


def test_several_outputs_take_a_list_or_a_dict_of_weights():
    model = two_outputs()
    x = rand(6, 3)
    ya, yb = rand(6, 2, seed=1), np.eye(3, dtype=np.float32)[[0, 1, 2, 2, 1, 0]]
    wa, wb = np.arange(6.), np.array([1., 1., 0., 2., 2., 1.])
    pa, pb = model.predict(x)
    la, lb = keras2_objective(mse_per_sample(ya, pa), wa), keras2_objective(cce_per_sample(yb, pb), wb)
    total, got_a, got_b = model.evaluate(x, [ya, yb], sample_weight=[wa, wb], verbose=0)
    assert (got_a, got_b, total) == pytest.approx((la, lb, la + 0.5 * lb), rel=1e-5)
    total, got_a, got_b = model.evaluate(x, [ya, yb], sample_weight={"cls": wb}, verbose=0)
    assert got_a == pytest.approx(keras2_objective(mse_per_sample(ya, pa)), rel=1e-5)
    assert got_b == pytest.approx(lb, rel=1e-5)
    cw = {0: 1., 1: 2., 2: 3.}
    got = model.train_on_batch(x, [ya, yb], class_weight={"cls": cw})
    assert got[2] == pytest.approx(keras2_objective(cce_per_sample(yb, pb), [cw[c] for c in [0, 1, 2, 2, 1, 0]]),
                                   rel=1e-5)


def test_temporal_mode_per_output():
    inp = Input(shape=(4, 3))
    seq = TimeDistributed(Dense(2), name="seq")(inp)
    model = Model(inp, [seq, TimeDistributed(Dense(2), name="other")(inp)])
    model.compile("sgd", "mse", sample_weight_mode={"seq": "temporal"})
    x, y1, y2 = rand(3, 4, 3), rand(3, 4, 2, seed=1), rand(3, 4, 2, seed=2)
    w_steps, w_samples = np.abs(rand(3, 4, seed=3)), np.array([1., 2., 0.])
    p1, p2 = model.predict(x)
    _, l1, l2 = model.evaluate(x, [y1, y2], sample_weight=[w_steps, w_samples], verbose=0)
    assert l1 == pytest.approx(keras2_objective(mse_per_sample(y1, p1), w_steps), rel=1e-5)
    assert l2 == pytest.approx(keras2_objective(mse_per_sample(y2, p2), w_samples), rel=1e-5)


# ============================================================ bad weights: clear errors, nothing changed

@pytest.mark.parametrize("kwargs, match", [
    ({"sample_weight": np.ones(5)}, r"shape \(5,\).*\(4,\)"),
    ({"sample_weight": np.ones((4, 2))}, "sample_weight_mode='temporal'"),
    ({"sample_weight": np.array([1., -1., 1., 1.])}, "negative"),
    ({"sample_weight": np.array([1., np.nan, 1., 1.])}, r"nan at index \(1,\)"),
    ({"sample_weight": 2.0}, "batch axis"),
    ({"class_weight": {0: 1.}}, r"no weight for class\(es\) \[1\]"),
    ({"class_weight": {0: 1., 1: -2.}}, ">= 0"),
    ({"class_weight": {"a": 1.}}, "unknown output name"),
    ({"class_weight": {0.5: 1.}}, "class indices"),
    ({"class_weight": [1., 2.]}, "dict"),
])
def test_bad_weights_raise_and_change_nothing(kwargs, match):
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "categorical_crossentropy")
    x, y = rand(4, 3), np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    before = model.get_weights()
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_weights_needing_a_time_axis_and_soft_labels_and_scalar_losses():
    model = dense_mse()
    model.compile("sgd", "mse", sample_weight_mode="temporal")
    with pytest.raises(ValueError, match="needs sequence targets"):
        model.fit(rand(4, 3), rand(4, 2), sample_weight=np.ones((4, 2)), verbose=0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile("sgd", "binary_crossentropy")
    with pytest.raises(ValueError, match="integer class labels"):
        model.fit(rand(4, 3), np.full((4, 1), 0.3, np.float32), class_weight={0: 1., 1: 2.}, verbose=0)
    seq = Sequential([TimeDistributed(Dense(2, activation="softmax"), input_shape=(5, 3))])
    seq.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sample_weight_mode='temporal'"):
        seq.fit(rand(2, 5, 3), np.eye(2)[np.zeros((2, 5), int)], class_weight={0: 1., 1: 1.}, verbose=0)

    def scalar_loss(y_true, y_pred):
        return ((y_pred - y_true) ** 2).mean()

    model = dense_mse()
    model.compile("sgd", scalar_loss)
    with pytest.raises(ValueError, match="returns a scalar"):
        model.fit(rand(4, 3), rand(4, 2), sample_weight=np.ones(4), verbose=0)
    with pytest.raises(ValueError, match="None or 'temporal'"):
        model.compile("sgd", "mse", sample_weight_mode="temporl")


def test_several_outputs_refuse_a_bare_class_dict():
    model = two_outputs()
    with pytest.raises(ValueError, match="one entry per output"):
        model.fit(rand(4, 3), [rand(4, 2), np.eye(3)[[0, 1, 2, 0]]], class_weight={0: 1., 1: 2., 2: 1.}, verbose=0)
    with pytest.raises(ValueError, match="list of 3"):
        model.fit(rand(4, 3), [rand(4, 2), np.eye(3)[[0, 1, 2, 0]]], sample_weight=[None, None, None], verbose=0)
