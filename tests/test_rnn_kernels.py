"""Tests for layers/rnn_kernels.py: the fused SimpleRNN / GRU / LSTM forward passes and their hand-written BPTT.

Oracles, both independent of the kernels' internals:
  * forward: the plain per-step numpy reference written from the equations (tests/rnn_reference.py);
  * backward: float64 central differences of a random linear functional of (outputs, h_T, c_T).
"""
import numpy as np
import pytest
import rnn_reference

import minigrad as mg
from layers import activations
from layers import rnn_kernels as rk

# 'gru_ra' is the GRU with reset_after=True (bias (2, 3U)): every case below runs for it too
K_GATES = {'simple_rnn': 1, 'gru': 3, 'gru_ra': 3, 'lstm': 4}
REF_ACT = rnn_reference.ACT


def reference(cell, x, W, R, b, states, **kw):
    """Returns (outputs (B,T,U), *final_states) from the shared step-by-step reference (tests/rnn_reference.py)."""
    name, reset_after = ('gru', True) if cell == 'gru_ra' else (cell, False)
    out, finals = rnn_reference.reference(name, x, [W, R, b], states, reset_after=reset_after, **kw)
    return (out, *finals)


def _gru_ra_forward(*args, **kw):
    return rk.gru_forward(*args, reset_after=True, **kw)


# ----------------------------------------------------------------------------------------------------------
# Helpers to call the kernels uniformly.
# ----------------------------------------------------------------------------------------------------------

FORWARD = {'simple_rnn': rk.simple_rnn_forward, 'gru': rk.gru_forward, 'gru_ra': _gru_ra_forward,
           'lstm': rk.lstm_forward}
BACKWARD = {'simple_rnn': rk.simple_rnn_backward, 'gru': rk.gru_backward, 'gru_ra': rk.gru_backward,
            'lstm': rk.lstm_backward}
B, T, D, U = 4, 5, 3, 3
MASK = np.array([[0, 0, 1, 1, 1],                 # left padding
                 [0, 0, 0, 0, 0],                 # all masked
                 [1, 1, 1, 0, 0],                 # right padding
                 [1, 0, 1, 1, 1]], dtype=bool)    # a hole


def make_problem(cell, rng, bias=True, mask=False, dropout=None, dtype=np.float64, scale=0.6):
    """Random inputs. dropout: None, 'per_gate' or 'shared'."""
    k = K_GATES[cell]
    p = dict(x=rng.standard_normal((B, T, D)),
             W=rng.standard_normal((D, k * U)) * scale,
             R=rng.standard_normal((U, k * U)) * scale,
             b=(rng.standard_normal((2, k * U) if cell == 'gru_ra' else k * U) * 0.3) if bias else None,
             states=[rng.standard_normal((B, U)) * 0.5 for _ in range(2 if cell == 'lstm' else 1)])
    kw = {}
    if mask:
        kw['mask'] = MASK
    if dropout is not None:
        def drop(shape, rate=0.3):
            return (rng.random(shape) > rate) / (1 - rate)
        lead = (k,) if dropout == 'per_gate' else ()
        kw['x_masks'] = drop(lead + (B, D))
        kw['h_masks'] = drop(lead + (B, U))
    def cast(a):
        return None if a is None else np.asarray(a, dtype=dtype)

    p = {n: ([cast(s) for s in v] if n == 'states' else cast(v)) for n, v in p.items()}
    kw = {n: (v if n == 'mask' else cast(v)) for n, v in kw.items()}
    return p, kw


def run_forward(cell, p, kw, opts):
    res = FORWARD[cell](p['x'], p['W'], p['R'], p['b'], *p['states'], **kw, **opts)
    return res[:-1], res[-1]                      # (outputs, *final_states), cache


def functional_weights(cell, rng):
    return [rng.standard_normal((B, T, U))] + [rng.standard_normal((B, U)) for _ in range(
        2 if cell == 'lstm' else 1)]


def linear_functional(results, weights):
    return sum(float(np.sum(r * w)) for r, w in zip(results, weights))


def activation_opts(cell, activation, recurrent_activation):
    opts = {'activation': activation}
    if cell != 'simple_rnn':
        opts['recurrent_activation'] = recurrent_activation
    return opts


# Each case: kernel options and problem options. Every case runs for every cell.
CASES = {
    'impl0': dict(),
    'impl1': dict(implementation=1),
    'impl2': dict(implementation=2),
    'no_bias': dict(bias=False),
    'go_backwards': dict(go_backwards=True),
    'mask': dict(mask=True),
    'mask_go_backwards': dict(mask=True, go_backwards=True),
    'dropout_per_gate_impl0': dict(dropout='per_gate'),
    'dropout_per_gate_impl1': dict(dropout='per_gate', implementation=1),
    'dropout_shared_impl2': dict(dropout='shared', implementation=2),
    'dropout_mask_backwards_nobias': dict(dropout='per_gate', mask=True, go_backwards=True, bias=False),
    'shared_mask_backwards_relu': dict(dropout='shared', mask=True, go_backwards=True, implementation=2,
                                       activation='relu'),
    'relu': dict(activation='relu'),
    'linear': dict(activation='linear'),
    'none_is_linear': dict(activation=None, bias=False),
    'sigmoid': dict(activation='sigmoid', recurrent_activation='sigmoid'),
    'rec_tanh_softsign': dict(activation='softsign', recurrent_activation='tanh', mask=True),
    'softplus': dict(activation='softplus', recurrent_activation='sigmoid'),
    'elu': dict(activation='elu', dropout='shared'),
    'selu': dict(activation='selu', go_backwards=True),
    'hard_sigmoid_as_activation': dict(activation='hard_sigmoid', recurrent_activation='linear'),
}
PROBLEM_KEYS = ('bias', 'mask', 'dropout')


def split_case(cell, case):
    prob = {n: v for n, v in case.items() if n in PROBLEM_KEYS}
    opts = {n: v for n, v in case.items() if n not in PROBLEM_KEYS and 'activation' not in n}
    opts.update(activation_opts(cell, case.get('activation', 'tanh'),
                                case.get('recurrent_activation', 'hard_sigmoid')))
    return prob, opts


def case_seed(cell, name):
    return sum(map(ord, cell + name))


# ----------------------------------------------------------------------------------------------------------
# (1) forward against the reference, (2) gradients against central differences
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('cell', list(FORWARD))
def test_forward_matches_reference(cell, name):
    prob, opts = split_case(cell, CASES[name])
    rng = np.random.default_rng(case_seed(cell, name))
    p, kw = make_problem(cell, rng, **prob)
    got, _ = run_forward(cell, p, kw, opts)
    ref_opts = {n: v for n, v in opts.items() if n != 'implementation'}
    want = reference(cell, p['x'], p['W'], p['R'], p['b'], p['states'], **kw, **ref_opts)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def numerical_gradient(f, a, eps=1e-6):
    grad = np.zeros_like(a)
    flat, gflat = a.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        up = f()
        flat[j] = old - eps
        down = f()
        flat[j] = old
        gflat[j] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize('name', list(CASES))
@pytest.mark.parametrize('cell', list(FORWARD))
def test_gradients_match_central_differences(cell, name):
    prob, opts = split_case(cell, CASES[name])
    rng = np.random.default_rng(case_seed(cell, name) + 1)
    p, kw = make_problem(cell, rng, **prob)
    weights = functional_weights(cell, rng)

    results, cache = run_forward(cell, p, kw, opts)
    grads = BACKWARD[cell](cache, *weights)
    names = ['x', 'W', 'R', 'b'] + ['h0', 'c0'][:len(p['states'])]
    arrays = [p['x'], p['W'], p['R'], p['b']] + p['states']
    assert len(grads) == len(names)

    def loss():
        return linear_functional(run_forward(cell, p, kw, opts)[0], weights)

    for n, a, g in zip(names, arrays, grads):
        if a is None:
            assert g is None, n
            continue
        assert g.shape == a.shape, n
        np.testing.assert_allclose(g, numerical_gradient(loss, a), rtol=1e-6, atol=1e-8, err_msg=n)


# ----------------------------------------------------------------------------------------------------------
# (3) float32 stays float32, (4) implementations agree, and the details of the interface
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['impl0', 'mask_go_backwards', 'dropout_per_gate_impl1', 'shared_mask_backwards_relu',
                                  'sigmoid', 'no_bias', 'softplus', 'selu', 'elu', 'rec_tanh_softsign',
                                  'hard_sigmoid_as_activation'])
@pytest.mark.parametrize('cell', list(FORWARD))
def test_float32_in_float32_out(cell, name):
    prob, opts = split_case(cell, CASES[name])
    p64, kw64 = make_problem(cell, np.random.default_rng(7), **prob)
    p32, kw32 = make_problem(cell, np.random.default_rng(7), dtype=np.float32, **prob)
    weights = functional_weights(cell, np.random.default_rng(8))
    w32 = [w.astype(np.float32) for w in weights]

    res64, cache64 = run_forward(cell, p64, kw64, opts)
    res32, cache32 = run_forward(cell, p32, kw32, opts)
    grads64 = BACKWARD[cell](cache64, *weights)
    grads32 = BACKWARD[cell](cache32, *w32)
    for a32, a64 in zip(list(res32) + list(grads32), list(res64) + list(grads64)):
        if a64 is None:
            assert a32 is None
            continue
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize('extra', [dict(), dict(mask=True, go_backwards=True, bias=False)])
@pytest.mark.parametrize('cell', list(FORWARD))
def test_implementations_agree(cell, extra):
    prob = {n: v for n, v in extra.items() if n in PROBLEM_KEYS}
    opts = {n: v for n, v in extra.items() if n not in PROBLEM_KEYS}
    rng = np.random.default_rng(3)
    p, kw = make_problem(cell, rng, **prob)
    weights = functional_weights(cell, rng)
    runs = []
    for impl in (0, 1, 2):
        res, cache = run_forward(cell, p, kw, dict(opts, implementation=impl))
        runs.append(list(res) + list(BACKWARD[cell](cache, *weights)))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            if a is None:
                assert b is None
            else:
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize('cell', list(FORWARD))
def test_masked_steps_carry_state_and_output(cell):
    p, kw = make_problem(cell, np.random.default_rng(5), mask=True)
    (out, *finals), _ = run_forward(cell, p, kw, {})
    h0 = p['states'][0]
    np.testing.assert_array_equal(out[0, :2], [h0[0], h0[0]])          # leading masked: the initial h
    np.testing.assert_array_equal(out[1], np.broadcast_to(h0[1], (T, U)))  # all masked: h0 throughout
    np.testing.assert_array_equal(out[2, 3:], [out[2, 2], out[2, 2]])  # right padding: last valid h
    np.testing.assert_array_equal(finals[0], out[:, -1])
    if cell == 'lstm':
        np.testing.assert_array_equal(finals[1][1], p['states'][1][1])


@pytest.mark.parametrize('cell', list(FORWARD))
def test_backward_accepts_missing_cotangents_and_leaves_cache_intact(cell):
    rng = np.random.default_rng(11)
    p, kw = make_problem(cell, rng, mask=True, dropout='per_gate')
    weights = functional_weights(cell, rng)
    _, cache = run_forward(cell, p, kw, dict(go_backwards=True))
    first = BACKWARD[cell](cache, *weights)
    again = BACKWARD[cell](cache, *weights)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # None means zero: the gradient of sum(w_h * h_T) alone
    only_h = BACKWARD[cell](cache, None, weights[1], *([None] if cell == 'lstm' else []))
    zeros = [np.zeros_like(weights[0])] + [weights[1]] + ([np.zeros_like(weights[2])] if cell == 'lstm' else [])
    expect = BACKWARD[cell](cache, *zeros)
    for a, b in zip(only_h, expect):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_known_activations_and_errors():
    assert {'tanh', 'sigmoid', 'hard_sigmoid', 'relu', 'linear'} <= rk.KNOWN_ACTIVATIONS
    p, kw = make_problem('lstm', np.random.default_rng(0))
    with pytest.raises(ValueError, match='activation'):
        run_forward('lstm', p, kw, dict(activation='swish'))
    with pytest.raises(ValueError, match='implementation'):
        run_forward('lstm', p, kw, dict(implementation=3))
    with pytest.raises(ValueError, match='x_masks'):
        run_forward('lstm', p, dict(x_masks=np.ones((3, B, D))), {})
    with pytest.raises(ValueError, match='mask'):
        run_forward('lstm', p, dict(mask=np.ones((B, T + 1), bool)), {})


@pytest.mark.parametrize('cell', list(FORWARD))
def test_buffer_reuse_keeps_live_results_apart(cell):
    """Work buffers are recycled between calls: a live cache or kept outputs must never be overwritten."""
    rng = np.random.default_rng(21)
    p1, kw = make_problem(cell, rng, mask=True)
    p2, _ = make_problem(cell, rng, mask=True)
    weights = functional_weights(cell, rng)
    res1, cache1 = run_forward(cell, p1, kw, {})
    kept = [r.copy() for r in res1]
    grads1 = [None if g is None else g.copy() for g in BACKWARD[cell](cache1, *weights)]
    res2, cache2 = run_forward(cell, p2, kw, {})              # while cache1 is alive
    np.testing.assert_array_equal(BACKWARD[cell](cache1, *weights)[0], grads1[0])
    del cache1, cache2                                         # buffers go back to the pool ...
    for _ in range(2):
        run_forward(cell, p2, kw, {})                          # ... and are reused here
    for r, k in zip(res1, kept):
        np.testing.assert_array_equal(r, k)


@pytest.mark.parametrize('go_backwards', [False, True])
def test_stacked_layers_take_outputs_view(go_backwards):
    """The outputs of one layer (a time-major view) fed to the next give the same as a contiguous copy."""
    rng = np.random.default_rng(4)
    p, kw = make_problem('gru', rng)
    (out1, _), _ = run_forward('gru', p, kw, {})
    q, _ = make_problem('lstm', rng)
    q = dict(q, W=rng.standard_normal((U, 4 * U)) * 0.5)
    weights = functional_weights('lstm', rng)
    results = []
    for x in (out1, np.ascontiguousarray(out1)):
        res, cache = run_forward('lstm', dict(q, x=x), {}, dict(go_backwards=go_backwards))
        results.append(list(res) + list(BACKWARD['lstm'](cache, *weights)))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------------------------
# (5) one definition of the activations: the kernels' in-place numpy forms agree with layers.activations
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(rk.KNOWN_ACTIVATIONS))
def test_kernel_activations_agree_with_layers_activations(name):
    """For every name the kernels run: f(a) = g(scale a + shift) and its derivative (from the output y) equal
    ``activations.get(name)`` and minigrad's gradient of it, away from kinks."""
    form = rk._get_activation(name, 'activation')
    fn = activations.get(name)
    assert form.fn is fn and form.name == name == fn.__name__
    a = np.linspace(-4.0, 4.0, 161)
    a = a[np.abs(a) > 1e-3]                                   # relu/elu/selu/linear kinks at 0
    a = a[np.abs(np.abs(a) - 2.5) > 1e-3]                     # hard_sigmoid kinks at +-2.5
    y = np.empty_like(a)
    form.apply(a.copy(), y)
    at = mg.Tensor(a, requires_grad=True)
    ref = fn(at)
    np.testing.assert_allclose(y, ref.data, rtol=1e-12, atol=1e-14)
    ref.sum().backward()
    d = np.empty_like(a)
    form.derivative(y, d)
    np.testing.assert_allclose(d, at.grad, rtol=1e-9, atol=1e-12)
    assert rk._get_activation(None, 'activation') is rk._get_activation('linear', 'activation')


def test_known_activations_are_names_of_layers_activations():
    for name in rk.KNOWN_ACTIVATIONS:
        assert activations.builtin_name(activations.get(name)) == name
