"""Regularisation penalties in the training loss: shared layers count every call, logits do not change them."""
import numpy as np

import minigrad as mg
from layers import Dense, Input, Model, Sequential, TimeDistributed, regularizers


def test_shared_layer_activity_penalty_counts_every_call():
    mg.seed(0)
    shared = Dense(3, activity_regularizer=regularizers.l2(0.5))
    a, b = Input(shape=(4,)), Input(shape=(4,))
    out = Dense(1)(shared(a))
    model = Model([a, b], [out, Dense(1)(shared(b))])
    rng = np.random.default_rng(0)
    xa, xb = rng.standard_normal((5, 4)).astype("float32"), rng.standard_normal((5, 4)).astype("float32")
    model([xa, xb])
    expected = sum(0.5 * float((shared(x).data ** 2).sum()) for x in (xa, xb))
    assert np.isclose(sum(float(p.data) for p in model.losses), expected, rtol=1e-5)
    model.compile("sgd", "mse")
    total, *per_output = model.evaluate([xa, xb], [np.zeros((5, 1)), np.zeros((5, 1))], verbose=0)
    assert np.isclose(total - sum(per_output), expected, rtol=1e-4)  # the training loss sees both calls


def test_reported_loss_includes_weight_and_activity_penalties_of_wrapped_layers():
    mg.seed(1)
    model = Sequential([TimeDistributed(Dense(2, activity_regularizer=regularizers.l1(0.1),
                                              kernel_regularizer=regularizers.l2(0.2)), input_shape=(3, 4))])
    model.compile("sgd", "mse")
    x, y = np.random.default_rng(1).standard_normal((6, 3, 4)).astype("float32"), np.zeros((6, 3, 2), "float32")
    loss = model.evaluate(x, y, verbose=0)
    pred = model.predict(x)
    kernel = model.layers[0].layer.kernel.data
    expected = np.mean(pred ** 2) + 0.1 * np.abs(pred).sum() + 0.2 * (kernel ** 2).sum()
    assert np.isclose(loss, expected, rtol=1e-4)
