"""Second derivatives through the recurrent layers' tape-recorded path (unroll=True): every cell and
implementation is built from ops of the table, so gradgradcheck passes on its weights, and HVPs match
differences of first-order gradients. (The fused path, one tape entry with a numpy BPTT, gets its second
derivatives from a reference forward: see Function.apply_with_reference.)"""
import numpy as np
import pytest

import minigrad as mg

layers = pytest.importorskip("layers")


@pytest.mark.parametrize("implementation", [0, 1, 2])
@pytest.mark.parametrize("cell", ["SimpleRNN", "GRU", "LSTM"])
def test_gradgradcheck_through_an_unrolled_recurrent_layer(cell, implementation):
    mg.seed(0)
    layer = getattr(layers, cell)(2, unroll=True, implementation=implementation, return_sequences=True)
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    layer(x)  # build
    assert mg.gradgradcheck(lambda R, W: (layer(x, training=True) ** 2).sum(),
                            [layer.recurrent_kernel, layer.kernel], atol=1e-6, rtol=1e-4)


def test_hvp_of_an_unrolled_lstm_loss_matches_differences_of_gradients():
    mg.seed(1)
    lstm = layers.LSTM(3, unroll=True, return_sequences=True)
    x = np.random.default_rng(1).standard_normal((2, 5, 2))
    lstm(x)
    R = lstm.recurrent_kernel
    R.data = R.data.astype(np.float64)  # float64, so that differences are exact enough to compare
    v = np.random.default_rng(2).standard_normal(R.shape)

    def loss():
        return (lstm(x.astype(np.float64), training=True) ** 2).sum()
    g, = mg.gradients(loss(), [R], create_graph=True)
    hv, = mg.gradients((g * v).sum(), [R])
    r0, eps = R.data.copy(), 1e-6
    R.data = r0 + eps * v
    plus, = mg.gradients(loss(), [R])
    R.data = r0 - eps * v
    minus, = mg.gradients(loss(), [R])
    R.data = r0
    np.testing.assert_allclose(hv.data, (plus.data - minus.data) / (2 * eps), rtol=1e-5, atol=1e-8)
