"""Sample and temporal weights against Keras itself (Keras 3 with the torch backend; skipped when missing).

Keras 3 normalises a weighted loss by the number of entries, Keras 2.0 by the number of non-zero weights
(``mean(L * w) / mean(w != 0)``); with every weight > 0 the two agree, so that is what is compared here (the zero
weights are covered against a restatement of Keras 2.0's formula in test_weights_sample_class.py).
"""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from layers import Dense, Sequential, TimeDistributed  # noqa: E402 - once the backend is chosen


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_sample_weights_match_keras():
    x, labels = rand(7, 4), np.array([0, 1, 2, 2, 1, 0, 1])
    y, w = np.eye(3, dtype=np.float32)[labels], np.random.default_rng(1).uniform(0.1, 3., 7)
    ours = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    ours.compile("sgd", "categorical_crossentropy")
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    theirs.compile("sgd", "categorical_crossentropy")
    theirs.set_weights(ours.get_weights())
    want = theirs.evaluate(x, y, sample_weight=w, batch_size=7, verbose=0)
    assert ours.evaluate(x, y, sample_weight=w, batch_size=7, verbose=0) == pytest.approx(want, rel=1e-5)


def test_temporal_weights_match_keras():
    x, w = rand(3, 5, 4), np.random.default_rng(2).uniform(0.1, 2., (3, 5))
    y = rand(3, 5, 2, seed=3)
    ours = Sequential([TimeDistributed(Dense(2), input_shape=(5, 4))])
    ours.compile("sgd", "mse", sample_weight_mode="temporal")
    theirs = keras.Sequential([keras.Input((5, 4)), keras.layers.TimeDistributed(keras.layers.Dense(2))])
    theirs.compile("sgd", "mse")
    theirs.set_weights(ours.get_weights())
    want = theirs.evaluate(x, y, sample_weight=w, batch_size=3, verbose=0)
    assert ours.evaluate(x, y, sample_weight=w, batch_size=3, verbose=0) == pytest.approx(want, rel=1e-5)
