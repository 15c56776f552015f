"""The LSTM kernel computes backward's factors in one of two ways, chosen by size (all steps at once for small
batch*units, step by step inside the loop from ``rnn_kernels._LSTM_PER_STEP_FACTORS`` on). The shapes of
tests/test_rnn_kernels.py only reach the first; here both are forced on the same problems and must agree."""
import numpy as np
import pytest

from layers import rnn_kernels as rk

B, T, D, U = 3, 6, 4, 5


def _problem(rng, mask, dropout):
    x = rng.standard_normal((B, T, D))
    W, R = rng.standard_normal((D, 4 * U)) * 0.5, rng.standard_normal((U, 4 * U)) * 0.5
    b = rng.standard_normal(4 * U) * 0.3
    h0, c0 = rng.standard_normal((B, U)) * 0.5, rng.standard_normal((B, U)) * 0.5
    kw = {}
    if mask:
        m = np.ones((B, T), bool)
        m[0, :2] = m[1, 3:] = m[2, 2] = False
        kw["mask"] = m
    if dropout:
        kw["x_masks"] = (rng.random((4, B, D)) > 0.3) / 0.7
        kw["h_masks"] = (rng.random((4, B, U)) > 0.3) / 0.7
    cot = [rng.standard_normal((B, T, U)), rng.standard_normal((B, U)), rng.standard_normal((B, U))]
    return (x, W, R, b, h0, c0), kw, cot


@pytest.mark.parametrize("activation, recurrent_activation", [("tanh", "sigmoid"), ("tanh", "hard_sigmoid"),
                                                              ("relu", "sigmoid"), ("softsign", "tanh")])
@pytest.mark.parametrize("mask, dropout, go_backwards", [(False, False, False), (True, False, True),
                                                         (True, True, False)])
def test_per_step_and_all_at_once_factors_agree(monkeypatch, activation, recurrent_activation, mask, dropout,
                                                go_backwards):
    args, kw, cot = _problem(np.random.default_rng(0), mask, dropout)
    opts = dict(kw, activation=activation, recurrent_activation=recurrent_activation, go_backwards=go_backwards)
    runs = []
    for threshold in (10 ** 9, 0):                     # all steps at once, then step by step
        monkeypatch.setattr(rk, "_LSTM_PER_STEP_FACTORS", threshold)
        *results, cache = rk.lstm_forward(*args, **opts)
        runs.append(list(results) + list(rk.lstm_backward(cache, *cot)))
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
